// two-phase:P1->P2 — one precision before a fraction of training, another after
// (the UMass dynamic-precision study: 16-bit fixed point, then 32-bit).
#include <fmt/format.h>

#include "traces/impl/spec_parse.h"

namespace lpsim::schedule_impl {
namespace {

constexpr std::string_view kForm =
    "two-phase:FW/BW->FW/BW[,at=F] with F in (0, 1] (default 0.5); formats are bits 1..64 "
    "or fp32, fp16, bf16, fp8-e4m3, fp8-e5m2";
constexpr double kDefaultAt = 0.5;

class TwoPhaseSchedule : public Schedule {
 public:
  TwoPhaseSchedule(PrecisionSet first, PrecisionSet second, double at)
      : first_(first), second_(second), at_(at) {}
  std::string spec() const override {
    std::string s = fmt::format("two-phase:{}->{}", fw_bw_name(first_[Role::W], first_[Role::E]),
                                fw_bw_name(second_[Role::W], second_[Role::E]));
    if (at_ != kDefaultAt) s += ",at=" + format_double(at_);
    return s;
  }
  PrecisionSet at(const ScheduleContext& ctx) const override {
    // The first phase holds while t < at * T.
    return static_cast<double>(ctx.iteration) < at_ * static_cast<double>(ctx.total_iterations)
               ? first_
               : second_;
  }

 private:
  PrecisionSet first_, second_;
  double at_;
};

}  // namespace

std::unique_ptr<Schedule> make_two_phase(const SpecParts& parts) {
  auto arrow = parts.body.find("->");
  if (arrow == std::string::npos)
    spec_error(parts.spec, fmt::format("'{}' has no '->' between the two phases", parts.body),
               kForm);
  std::string_view body = parts.body;
  PrecisionSet first = parse_fw_bw(body.substr(0, arrow), parts.spec, kForm);
  PrecisionSet second = parse_fw_bw(body.substr(arrow + 2), parts.spec, kForm);
  double at = kDefaultAt;
  bool seen = false;
  for (const auto& [key, value] : parts.options) {
    if (key != "at" || seen)
      spec_error(parts.spec, fmt::format("{} option '{}'", seen ? "repeated" : "unknown", key),
                 kForm);
    seen = true;
    at = parse_fraction(key, value, parts.spec, kForm);
  }
  return std::make_unique<TwoPhaseSchedule>(first, second, at);
}

}  // namespace lpsim::schedule_impl
