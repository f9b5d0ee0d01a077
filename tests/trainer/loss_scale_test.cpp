// The dynamic loss scaler's rule (trainer/loss_scale.h) step by step.
#include <catch2/catch.hpp>

#include "trainer/loss_scale.h"

using namespace lpsim::trainer;

TEST_CASE("a dynamic scaler halves on overflow and doubles after a clean window") {
  LossScaler s;
  s.dynamic = true;
  s.scale = 8;
  s.window = 3;
  CHECK_FALSE(s.step_ok(5));  // overflow: skip, 8 -> 4
  CHECK(s.scale == 4);
  CHECK(s.step_ok(0));
  CHECK(s.step_ok(0));
  CHECK(s.scale == 4);
  CHECK(s.step_ok(0));  // third clean step in a row: 4 -> 8
  CHECK(s.scale == 8);
  CHECK(s.step_ok(0));
  CHECK_FALSE(s.step_ok(1));  // overflow resets the count: 8 -> 4
  CHECK(s.step_ok(0));
  CHECK(s.step_ok(0));
  CHECK(s.scale == 4);  // only two clean steps since the overflow
  CHECK(s.skipped_epoch == 2);
}

TEST_CASE("a dynamic scaler stays within [1, 2^64] and reports divergence at 1") {
  LossScaler s;
  s.dynamic = true;
  s.scale = 1.5;
  CHECK_FALSE(s.diverged(1));
  CHECK_FALSE(s.step_ok(1));
  CHECK(s.scale == 1);  // 0.75 clamps to 1
  CHECK(s.diverged(1));
  CHECK_FALSE(s.diverged(0));
  s.scale = kMaxLossScale;
  s.window = 1;
  CHECK(s.step_ok(0));
  CHECK(s.scale == kMaxLossScale);
}

TEST_CASE("a static scaler always steps and never changes the scale") {
  LossScaler s;
  s.scale = 128;
  CHECK(s.step_ok(1000));
  CHECK(s.step_ok(0));
  CHECK(s.scale == 128);
  CHECK_FALSE(s.diverged(1000));
  CHECK(s.skipped_epoch == 0);
}

TEST_CASE("an enhanced scaler halves on overflow but never below its floor") {
  LossScaler s;
  s.dynamic = true;
  s.scale = 64;
  s.floor = 32;
  CHECK_FALSE(s.step_ok(1));
  CHECK(s.scale == 32);
  CHECK_FALSE(s.step_ok(1));  // still skipped, but the scale stays at the floor
  CHECK(s.scale == 32);
  CHECK_FALSE(s.diverged(1));  // above 1: not diverged
}

TEST_CASE("the enhanced floor grows by its factor each epoch, up to 2^64") {
  CHECK(enhanced_floor(4, 2, 0) == 4);
  CHECK(enhanced_floor(4, 2, 3) == 32);  // 4 x 2^3
  CHECK(enhanced_floor(1, 1, 1000) == 1);
  CHECK(enhanced_floor(2, 1024, 100) == kMaxLossScale);  // 2 x 2^1000 capped
}
