// cyclic:MIN-MAX/BW — Cyclic Precision Training (Fu et al., ICLR 2021): W and
// A follow CPT's cosine sawtooth between MIN and MAX bits, E and G stay at BW.
#include <fmt/format.h>

#include "traces/impl/spec_parse.h"

namespace lpsim::schedule_impl {
namespace {

constexpr std::string_view kForm =
    "cyclic:MIN-MAX/BW[,cycles=N] with 1 <= MIN <= MAX <= 64 and N >= 1 (default 32)";
constexpr int kDefaultCycles = 32;  // CPT's public code: 32 periods over the run

class CyclicSchedule : public Schedule {
 public:
  CyclicSchedule(BitRange r, int cycles) : r_(r), cycles_(cycles) {}
  std::string spec() const override {
    std::string s = fmt::format("cyclic:{}-{}/{}", r_.min_bits, r_.max_bits, r_.bw.name());
    if (cycles_ != kDefaultCycles) s += fmt::format(",cycles={}", cycles_);
    return s;
  }
  PrecisionSet at(const ScheduleContext& ctx) const override {
    int b = cpt_cyclic_bits(r_.min_bits, r_.max_bits, ctx.iteration, ctx.total_iterations, cycles_);
    return PrecisionSet::fw_bw(Format::integer(b), r_.bw);
  }

 private:
  BitRange r_;
  int cycles_;
};

}  // namespace

std::unique_ptr<Schedule> make_cyclic(const SpecParts& parts) {
  BitRange r = parse_bit_range(parts.body, parts.spec, kForm);
  int cycles = kDefaultCycles;
  bool seen = false;
  for (const auto& [key, value] : parts.options) {
    if (key != "cycles" || seen)
      spec_error(parts.spec, fmt::format("{} option '{}'", seen ? "repeated" : "unknown", key),
                 kForm);
    seen = true;
    cycles = parse_positive_int(key, value, parts.spec, kForm);
  }
  return std::make_unique<CyclicSchedule>(r, cycles);
}

}  // namespace lpsim::schedule_impl
