// muppet:B1,B2,... — MuPPET's precision switching: fixed-point levels of
// increasing width, then FP32, switched on gradient diversity. Only the
// trainer can run it; `at` gives the first level.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "traces/impl/spec_parse.h"

namespace lpsim::schedule_impl {
namespace {

constexpr std::string_view kForm =
    "muppet:B1,B2,... with strictly increasing integer bits in 1..64 (MuPPET: 8,12,14,16)";

// What MuPPET's public code quantizes at level b (REFERENCES.md): weights,
// activations and weight gradients in b-bit dynamic fixed point; errors and
// optimizer state stay FP32.
PrecisionSet level_precision(int bits) {
  PrecisionSet p;  // all FP32
  p[Role::W] = Format::integer(bits);
  p[Role::A] = Format::integer(bits);
  p[Role::G] = Format::integer(bits);
  return p;
}

class MuppetSchedule : public Schedule {
 public:
  explicit MuppetSchedule(std::vector<int> bits) : bits_(std::move(bits)) {}
  std::string spec() const override { return fmt::format("muppet:{}", fmt::join(bits_, ",")); }
  PrecisionSet at(const ScheduleContext&) const override { return level_precision(bits_[0]); }
  bool needs_training_state() const override { return true; }
  std::vector<PrecisionSet> levels() const override {
    std::vector<PrecisionSet> out;
    for (int b : bits_) out.push_back(level_precision(b));
    out.push_back(PrecisionSet{});  // FP32 after the last fixed-point level
    return out;
  }

 private:
  std::vector<int> bits_;
};

}  // namespace

std::unique_ptr<Schedule> make_muppet(const SpecParts& parts) {
  std::vector<int> bits;
  std::string_view rest = parts.body;
  if (rest.empty()) spec_error(parts.spec, "no levels given", kForm);
  while (true) {
    auto comma = rest.find(',');
    int b = parse_bits(rest.substr(0, comma), parts.spec, kForm);
    if (!bits.empty() && b <= bits.back())
      spec_error(parts.spec,
                 fmt::format("level {} bits does not increase on {} bits", b, bits.back()), kForm);
    bits.push_back(b);
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  return std::make_unique<MuppetSchedule>(std::move(bits));
}

}  // namespace lpsim::schedule_impl
