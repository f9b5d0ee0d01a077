// progressive:MIN-MAX/BW — FW bits grow linearly in whole-bit steps from MIN to
// MAX over the first `ramp` fraction of training, then stay at MAX
// (docs/schedules.md gives the formula).
#include <fmt/format.h>

#include <cmath>

#include "traces/impl/spec_parse.h"

namespace lpsim::schedule_impl {
namespace {

constexpr std::string_view kForm =
    "progressive:MIN-MAX/BW[,ramp=F] with 1 <= MIN <= MAX <= 64 and F in (0, 1] (default 0.5)";
constexpr double kDefaultRamp = 0.5;

class ProgressiveSchedule : public Schedule {
 public:
  ProgressiveSchedule(BitRange r, double ramp) : r_(r), ramp_(ramp) {}
  std::string spec() const override {
    std::string s = fmt::format("progressive:{}-{}/{}", r_.min_bits, r_.max_bits, r_.bw.name());
    if (ramp_ != kDefaultRamp) s += ",ramp=" + format_double(ramp_);
    return s;
  }
  PrecisionSet at(const ScheduleContext& ctx) const override {
    // b(t) = MIN + floor((MAX - MIN) * t / R) for t < R = ramp * T, else MAX.
    const double ramp_iterations = ramp_ * static_cast<double>(ctx.total_iterations);
    const double t = static_cast<double>(ctx.iteration);
    int b = r_.max_bits;
    if (t < ramp_iterations) {
      b = r_.min_bits +
          static_cast<int>(std::floor((r_.max_bits - r_.min_bits) * t / ramp_iterations));
      if (b > r_.max_bits) b = r_.max_bits;
    }
    return PrecisionSet::fw_bw(Format::integer(b), r_.bw);
  }

 private:
  BitRange r_;
  double ramp_;
};

}  // namespace

std::unique_ptr<Schedule> make_progressive(const SpecParts& parts) {
  BitRange r = parse_bit_range(parts.body, parts.spec, kForm);
  double ramp = kDefaultRamp;
  bool seen = false;
  for (const auto& [key, value] : parts.options) {
    if (key != "ramp" || seen)
      spec_error(parts.spec, fmt::format("{} option '{}'", seen ? "repeated" : "unknown", key),
                 kForm);
    seen = true;
    ramp = parse_fraction(key, value, parts.spec, kForm);
  }
  return std::make_unique<ProgressiveSchedule>(r, ramp);
}

}  // namespace lpsim::schedule_impl
