// static:FW/BW — one precision for the whole run.
#include <fmt/format.h>

#include "traces/impl/spec_parse.h"

namespace lpsim::schedule_impl {
namespace {

constexpr std::string_view kForm =
    "static:FW/BW or static:FORMAT (bits 1..64, or fp32, fp16, bf16, fp8-e4m3, fp8-e5m2)";

class StaticSchedule : public Schedule {
 public:
  explicit StaticSchedule(PrecisionSet p) : p_(p) {}
  std::string spec() const override { return "static:" + fw_bw_name(p_[Role::W], p_[Role::E]); }
  PrecisionSet at(const ScheduleContext&) const override { return p_; }

 private:
  PrecisionSet p_;
};

}  // namespace

std::unique_ptr<Schedule> make_static(const SpecParts& parts) {
  if (!parts.options.empty())
    spec_error(parts.spec, fmt::format("unknown option '{}'", parts.options.front().first), kForm);
  return std::make_unique<StaticSchedule>(parse_fw_bw(parts.body, parts.spec, kForm));
}

}  // namespace lpsim::schedule_impl
