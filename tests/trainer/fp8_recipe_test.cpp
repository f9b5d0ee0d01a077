// Tiny real runs of the FP8 recipe's options: adaptive and enhanced loss
// scaling, 16-bit master weights; their traces and resume.
#include <unistd.h>
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>

#include "trainer/loss_scale.h"
#include "trainer/trainer.h"

using namespace lpsim;
using namespace lpsim::trainer;

namespace {

TrainOptions tiny(const std::string& schedule, std::int64_t epochs) {
  TrainOptions o;
  o.model = "lenet5";
  o.schedule = schedule;
  o.epochs = epochs;
  o.batch = 50;
  o.train_limit = 300;  // 6 iterations per epoch
  o.test_limit = 200;
  o.seed = 1;
  o.lr = 0.1;
  return o;
}

std::string temp_path(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("lpsim_fp8_recipe_test_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::filesystem::remove(dir / name);
  return (dir / name).string();
}

void require_same_run(const Trace& a, const Trace& b) {
  REQUIRE(a.segments.size() == b.segments.size());
  for (std::size_t i = 0; i < a.segments.size(); ++i)
    CHECK(a.segments[i].precision == b.segments[i].precision);
  REQUIRE(a.metrics.size() == b.metrics.size());
  for (std::size_t i = 0; i < a.metrics.size(); ++i) {
    CHECK(a.metrics[i].train_loss == b.metrics[i].train_loss);  // bit for bit
    CHECK(a.metrics[i].test_accuracy == b.metrics[i].test_accuracy);
    CHECK(a.metrics[i].loss_scale == b.metrics[i].loss_scale);
    CHECK(a.metrics[i].skipped_steps == b.metrics[i].skipped_steps);
  }
}

// Resumes `o` after its first epoch and checks the result equals `whole`.
void check_resume(TrainOptions o, const TrainResult& whole, const std::string& name) {
  o.checkpoint = temp_path(name);
  o.stop_after = 1;
  train(o);
  o.stop_after = 0;
  o.resume = true;
  o.threads = 2;
  require_same_run(whole.trace, train(o).trace);
}

}  // namespace

TEST_CASE("adaptive scaling does not skip the steps a global dynamic scale skips") {
  // e4m3 errors and gradients (max 448) from S = 2^24: the global scaler
  // skips steps until S fits; with per-layer scales on the same global
  // scaler no E or G value overflows, so nothing is skipped and S stays.
  TrainOptions o = tiny("static:fp8-e4m3/fp8-e4m3", 2);
  o.dynamic_loss_scale = true;
  o.loss_scale = 16777216.0;
  const TrainResult global = train(o);
  CHECK(*global.trace.metrics[0].skipped_steps > 0);
  o.adaptive_loss_scale = true;
  const TrainResult adaptive = train(o);
  CHECK(*adaptive.trace.metrics[0].skipped_steps == 0);
  CHECK(*adaptive.trace.metrics[1].skipped_steps == 0);
  CHECK(*adaptive.trace.metrics[1].loss_scale == 16777216.0);
  CHECK(*adaptive.trace.metrics[1].train_loss < *adaptive.trace.metrics[0].train_loss);
  check_resume(o, adaptive, "adaptive.ckpt");
}

TEST_CASE("the same adaptive run is bit-identical with 1 or 3 threads") {
  TrainOptions o = tiny("static:fp8-e4m3/fp8-e5m2", 1);
  o.adaptive_loss_scale = true;
  const TrainResult a = train(o);
  o.threads = 3;
  require_same_run(a.trace, train(o).trace);
}

TEST_CASE("enhanced loss scaling never lets the scale below its growing floor") {
  // e5m2 errors from S = 2^24 overflow at first; plain dynamic scaling
  // halves S on each. With a floor of 2^22 in epoch 0 and 2^23 in epoch 1
  // (growth 2), S ends each epoch at or above it.
  TrainOptions o = tiny("static:fp8-e4m3/fp8-e5m2", 2);
  o.dynamic_loss_scale = true;
  o.enhanced_loss_scale = true;
  o.loss_scale = 16777216.0;
  o.loss_scale_floor = 4194304.0;
  o.loss_scale_floor_growth = 2;
  const TrainResult r = train(o);
  CHECK(*r.trace.metrics[0].loss_scale >= 4194304.0);
  CHECK(*r.trace.metrics[1].loss_scale >= 8388608.0);
  check_resume(o, r, "enhanced.ckpt");
}

TEST_CASE("bf16 master weights are recorded in the trace, with momenta in bf16") {
  TrainOptions o = tiny("static:fp8-e4m3/fp8-e5m2", 2);
  o.master_weights = "bf16";
  o.master_rounding = "stochastic";
  const TrainResult r = train(o);
  for (const Segment& s : r.trace.segments) {
    REQUIRE(s.precision.master.has_value());
    CHECK(*s.precision.master == Format::floating(8, 7));
    CHECK(s.precision[Role::Opt] == Format::floating(8, 7));
    CHECK(s.precision[Role::W] == Format::floating(4, 3));
  }
  CHECK(*r.trace.metrics[1].train_loss < *r.trace.metrics[0].train_loss);
  check_resume(o, r, "bf16.ckpt");
  // fp32 master weights record nothing new: the trace is what it always was.
  o.master_weights = "fp32";
  o.master_rounding = "nearest";
  for (const Segment& s : train(o).trace.segments) {
    CHECK_FALSE(s.precision.master.has_value());
    CHECK(s.precision[Role::Opt] == Format::fp32());
  }
}

TEST_CASE("fp8-recipe options out of range are input errors naming the option") {
  TrainOptions o = tiny("static:8/8", 1);
  o.master_weights = "fp8";
  CHECK_THROWS_WITH(train(o), Catch::Contains("--master-weights fp8"));
  o.master_weights = "fp32";
  o.master_rounding = "stochastic";
  CHECK_THROWS_WITH(train(o), Catch::Contains("needs --master-weights fp16 or bf16"));
  o.master_rounding = "nearest";
  o.loss_scale_floor = 8;
  CHECK_THROWS_WITH(train(o), Catch::Contains("only with --loss-scale enhanced"));
  o.enhanced_loss_scale = o.dynamic_loss_scale = true;
  o.loss_scale_floor = 0.5;
  CHECK_THROWS_WITH(train(o), Catch::Contains("--loss-scale-floor = 0.5"));
  o.loss_scale_floor = 1;
  o.loss_scale_floor_growth = 0;
  CHECK_THROWS_WITH(train(o), Catch::Contains("--loss-scale-floor-growth = 0"));
}
