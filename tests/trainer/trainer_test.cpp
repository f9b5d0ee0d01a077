// Tiny real training runs on the first few hundred Fashion-MNIST images:
// determinism, threads, the trace of the schedule, resume, bad inputs.
#include <catch2/catch.hpp>

#include <filesystem>

#include <unistd.h>

#include "core/error.h"
#include "models/zoo.h"
#include "traces/bitops.h"
#include "traces/schedule.h"
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
  o.lr = 0.1;  // 6 iterations an epoch: a brisk rate shows learning within seconds
  return o;
}

std::string temp_path(const std::string& name) {
  // One directory per process: test runs of other build trees may share /tmp.
  const auto dir = std::filesystem::temp_directory_path() /
                   ("lpsim_trainer_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::filesystem::remove(dir / name);
  return (dir / name).string();
}

// Everything but the wall-clock times, which are the only field that varies.
void require_same_run(const Trace& a, const Trace& b) {
  REQUIRE(a.segments.size() == b.segments.size());
  for (std::size_t i = 0; i < a.segments.size(); ++i) {
    CHECK(a.segments[i].begin == b.segments[i].begin);
    CHECK(a.segments[i].end == b.segments[i].end);
    CHECK(a.segments[i].precision == b.segments[i].precision);
  }
  REQUIRE(a.metrics.size() == b.metrics.size());
  for (std::size_t i = 0; i < a.metrics.size(); ++i) {
    CHECK(a.metrics[i].train_loss == b.metrics[i].train_loss);  // bit for bit
    CHECK(a.metrics[i].train_accuracy == b.metrics[i].train_accuracy);
    CHECK(a.metrics[i].test_accuracy == b.metrics[i].test_accuracy);
  }
}

}  // namespace

TEST_CASE("a tiny run is bit-identical twice and with 1 or 2 threads") {
  TrainOptions o = tiny("cyclic:3-8/8", 1);
  const TrainResult a = train(o);
  const TrainResult b = train(o);
  o.threads = 2;
  const TrainResult c = train(o);
  CHECK(c.threads == 2);
  require_same_run(a.trace, b.trace);
  require_same_run(a.trace, c.trace);
}

TEST_CASE("the training loss decreases over a few epochs of a tiny run") {
  const TrainResult r = train(tiny("static:8/8", 3));
  REQUIRE(r.trace.metrics.size() == 3);
  CHECK(*r.trace.metrics[2].train_loss < *r.trace.metrics[0].train_loss);
  CHECK(*r.trace.metrics[0].train_loss < std::log(10.0) + 0.1);  // starts near chance
  CHECK(*r.trace.metrics[2].test_accuracy > 0.3);                 // well above 10% chance
}

TEST_CASE("the trace records the schedule's precision at every iteration") {
  const TrainOptions o = tiny("cyclic:3-8/8,cycles=4", 2);
  const TrainResult r = train(o);
  const auto schedule = parse_schedule(o.schedule);
  const Trace& t = r.trace;
  CHECK(t.header.total_iterations == 12);
  CHECK(t.header.samples_per_epoch == 300);
  CHECK(t.header.producer.starts_with("lpsim-train"));
  std::int64_t covered = 0;
  for (const Segment& s : t.segments)
    for (std::int64_t it = s.begin; it < s.end; ++it, ++covered)
      CHECK(s.precision == schedule->at(ScheduleContext{it, 12, 6}));
  CHECK(covered == 12);
  // Training BitOPs of the trace: every iteration's 50 images at its widths.
  const BitopsReport bits = count_bitops(t, make_model("lenet5", "fashion-mnist"),
                                         CountConvention::Gemm);
  CHECK(bits.total_images == 600);
  CHECK(bits.total_bitops > 0);
}

TEST_CASE("a run resumed from its checkpoint equals the uninterrupted run") {
  TrainOptions o = tiny("progressive:3-8/8", 2);
  const TrainResult whole = train(o);
  o.checkpoint = temp_path("resume.ckpt");
  o.stop_after = 1;
  const TrainResult first = train(o);
  CHECK_FALSE(first.finished);
  CHECK(first.trace.metrics.size() == 1);
  o.stop_after = 0;
  o.resume = true;
  o.threads = 2;  // a resumed run may use other threads
  const TrainResult rest = train(o);
  CHECK(rest.finished);
  require_same_run(whole.trace, rest.trace);
}

TEST_CASE("resuming with other options or without a checkpoint is an input error") {
  TrainOptions o = tiny("static:8/8", 2);
  o.checkpoint = temp_path("other.ckpt");
  o.stop_after = 1;
  train(o);
  o.stop_after = 0;
  o.resume = true;
  o.seed = 2;
  CHECK_THROWS_WITH(train(o), Catch::Contains("checkpoint is of a different run"));
  o.checkpoint = temp_path("missing.ckpt");
  CHECK_THROWS_WITH(train(o), Catch::Contains("missing.ckpt"));
}

TEST_CASE("MuPPET starts at its first fixed-point level in dynamic fixed point") {
  TrainOptions o = tiny("muppet:8,12,14,16", 1);
  const TrainResult r = train(o);
  REQUIRE(r.trace.segments.size() == 1);
  CHECK(r.trace.segments[0].precision[Role::W] == Format::integer(8));
  CHECK(r.trace.segments[0].precision[Role::E] == Format::fp32());
  CHECK(*r.trace.metrics[0].test_accuracy > 0.15);  // above the 10% of chance
}

TEST_CASE("the range test raises W and A step by step in the first epoch and picks B_min") {
  TrainOptions o = tiny("cyclic:3-8/8", 2);
  o.train_limit = 1400;  // 28 iterations: 4 per step for widths 2..8
  o.range_test = true;
  const TrainResult r = train(o);
  REQUIRE(r.range_test);
  const auto& curve = r.range_test->curve;
  REQUIRE(curve.size() >= 2);
  CHECK(curve[0].bits == 2);
  for (std::size_t i = 1; i < curve.size(); ++i) CHECK(curve[i].bits == curve[i - 1].bits + 1);
  CHECK(r.range_test->b_min >= 2);
  CHECK(r.range_test->b_min <= 8);
  CHECK(r.trace.segments.front().precision[Role::W] == Format::integer(2));
  CHECK(r.range_test->schedule.starts_with("cyclic:" + std::to_string(r.range_test->b_min) + "-8/8"));
}

TEST_CASE("an fp8 schedule trains with minifloat quantization") {
  const TrainResult r = train(tiny("static:fp8-e4m3/fp8-e5m2", 2));
  CHECK(r.trace.segments[0].precision[Role::W] == Format::floating(4, 3));
  CHECK(*r.trace.metrics[1].train_loss < *r.trace.metrics[0].train_loss);
}

TEST_CASE("bad trainer options are input errors naming the option") {
  TrainOptions o = tiny("static:8/8", 1);
  o.epochs = 0;
  CHECK_THROWS_WITH(train(o), Catch::Contains("--epochs = 0"));
  o = tiny("static:8/8", 1);
  o.dataset = "cifar10";
  CHECK_THROWS_WITH(train(o), Catch::Contains("fashion-mnist"));
  o = tiny("static:8/8", 1);
  o.data_dir = "/nonexistent";
  CHECK_THROWS_WITH(train(o), Catch::Contains("dataset-fashion-mnist"));
  o = tiny("static:8/8", 1);
  o.lr = -1;
  CHECK_THROWS_WITH(train(o), Catch::Contains("--lr"));
  o = tiny("static:8/8", 1);
  o.lr = 1e6;  // diverges at once: a TrainingDiverged, which is an InputError
  CHECK_THROWS_AS(train(o), TrainingDiverged);
  CHECK_THROWS_WITH(train(o), Catch::StartsWith("training diverged"));
}

TEST_CASE("dynamic loss scaling skips overflowing steps, halving the scale each time") {
  // fp8 errors (e5m2, max 57344) under an initial scale of 2^24: softmax
  // errors reach ~0.02 S (batch 50), so the first steps overflow and the scale
  // halves until the scaled errors fit; the window (2000) is never reached
  // here, so the final scale is exactly 2^24 / 2^(skipped steps).
  TrainOptions o = tiny("static:fp8-e4m3/fp8-e5m2", 2);
  o.dynamic_loss_scale = true;
  o.loss_scale = 16777216.0;
  const TrainResult r = train(o);
  REQUIRE(r.trace.metrics.size() == 2);
  const std::int64_t skipped = *r.trace.metrics[0].skipped_steps + *r.trace.metrics[1].skipped_steps;
  CHECK(*r.trace.metrics[0].skipped_steps > 0);
  CHECK(skipped < 12);  // 12 iterations in all; some updated
  CHECK(*r.trace.metrics[1].loss_scale == std::ldexp(1.0, 24 - static_cast<int>(skipped)));
  CHECK(*r.trace.metrics[1].train_loss < *r.trace.metrics[0].train_loss);
  // Static scaling records its scale and no skipped steps.
  o.dynamic_loss_scale = false;
  o.loss_scale = 256;
  const TrainResult s = train(o);
  CHECK(*s.trace.metrics[0].loss_scale == 256);
  CHECK_FALSE(s.trace.metrics[0].skipped_steps.has_value());
}

TEST_CASE("a dynamic scaler that never overflows changes nothing but the record") {
  // With no overflow and a window longer than the run, dynamic 1 is static 1.
  TrainOptions o = tiny("cyclic:3-8/8", 1);
  const TrainResult plain = train(o);
  o.dynamic_loss_scale = true;
  o.loss_scale = 1;
  const TrainResult dyn = train(o);
  require_same_run(plain.trace, dyn.trace);
  CHECK(*dyn.trace.metrics[0].skipped_steps == 0);
}

TEST_CASE("the residual CNN with batch norm trains, and resumes bit-identically") {
  TrainOptions o = tiny("static:fp8-e4m3/fp8-e5m2", 2);
  o.model = "resnet8-w8";
  o.dynamic_loss_scale = true;
  o.loss_scale = 4194304.0;  // 2^22: skips steps, and grows back after 4 clean ones
  o.loss_scale_window = 4;
  const TrainResult whole = train(o);
  CHECK(*whole.trace.metrics[1].train_loss < *whole.trace.metrics[0].train_loss);
  CHECK(*whole.trace.metrics[0].skipped_steps > 0);
  o.checkpoint = temp_path("resnet.ckpt");
  o.stop_after = 1;
  train(o);
  o.stop_after = 0;
  o.resume = true;
  const TrainResult rest = train(o);
  require_same_run(whole.trace, rest.trace);
  CHECK(rest.trace.metrics[1].loss_scale == whole.trace.metrics[1].loss_scale);
  CHECK(rest.trace.metrics[0].skipped_steps == whole.trace.metrics[0].skipped_steps);
}

TEST_CASE("batch norm recalibration changes the test pass, never the training") {
  TrainOptions o = tiny("cyclic:3-8/8", 2);
  o.model = "resnet8-w8";
  const TrainResult plain = train(o);
  o.bn_recalibrate = 2;
  const TrainResult recal = train(o);
  for (std::size_t e = 0; e < 2; ++e) {
    CHECK(recal.trace.metrics[e].train_loss == plain.trace.metrics[e].train_loss);  // bit for bit
    CHECK(recal.trace.metrics[e].train_accuracy == plain.trace.metrics[e].train_accuracy);
  }
  CHECK(recal.trace.segments.size() == plain.trace.segments.size());
}
