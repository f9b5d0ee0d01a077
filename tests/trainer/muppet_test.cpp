// MuPPET's gradient-diversity switching on hand-made gradients.
#include <catch2/catch.hpp>

#include <cmath>

#include "trainer/muppet.h"

using namespace lpsim::trainer;

namespace {
MuppetDecision epoch_with(MuppetState& s, std::int64_t epoch, float sign) {
  const std::vector<float> g = {sign * 3.0f, sign * 4.0f};  // ||g||^2 = 25
  return muppet_end_epoch(s, epoch, {&g}, 5);
}
}  // namespace

TEST_CASE("MuPPET's threshold is 1 + 1.5 exp(-0.1 j)") {
  CHECK(muppet_threshold(0) == 2.5);
  CHECK_THAT(muppet_threshold(10), Catch::Matchers::WithinAbs(1 + 1.5 / std::exp(1.0), 1e-12));
}

TEST_CASE("gradient diversity is checked every 3 epochs and two violations switch level") {
  MuppetState s;
  // Window 1: g, -g, g: sum of norms 75, ||sum||^2 = 25: Delta = 3 -> max.
  CHECK_FALSE(epoch_with(s, 0, 1).checked);
  CHECK_FALSE(epoch_with(s, 1, -1).checked);
  MuppetDecision d = epoch_with(s, 2, 1);
  CHECK(d.checked);
  CHECK(d.delta == 3.0);
  CHECK(s.max_delta == 3.0);
  CHECK_FALSE(d.violation);
  // Window 2: g, g, g: 75 / 225 = 1/3; 3 / (1/3) = 9 > T(5) = 1.91: violation 1.
  epoch_with(s, 3, 1);
  epoch_with(s, 4, 1);
  d = epoch_with(s, 5, 1);
  CHECK_THAT(d.delta, Catch::Matchers::WithinAbs(1.0 / 3, 1e-12));
  CHECK(d.violation);
  CHECK_FALSE(d.switched);
  CHECK(s.violations == 1);
  // Window 3: the same again: violation 2 -> next level, count and max reset.
  epoch_with(s, 6, 1);
  epoch_with(s, 7, 1);
  d = epoch_with(s, 8, 1);
  CHECK(d.switched);
  CHECK(s.level == 1);
  CHECK(s.violations == 0);
  CHECK(s.max_delta == 0.0);
}

TEST_CASE("a small drop in diversity is no violation, and FP32 is never left") {
  MuppetState s;
  for (int e = 0; e < 3; ++e) epoch_with(s, e, e == 1 ? -1.0f : 1.0f);  // Delta 3
  // Window 2: g, -g, g, scaled so Delta stays 3: no violation.
  for (int e = 3; e < 6; ++e) CHECK_FALSE(epoch_with(s, e, e == 4 ? -1.0f : 1.0f).violation);
  MuppetState last;
  last.level = 4;  // the FP32 level of 5
  for (int e = 0; e < 9; ++e) CHECK_FALSE(epoch_with(last, e, 1).checked);
}
