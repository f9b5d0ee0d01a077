// study/compare.h, called directly: which runs the main job and a named model
// make, and that each row carries the BitOPs and simulation of its own trace.
#include <catch2/catch.hpp>
#include <string>

#include "core/error.h"
#include "sim/arch.h"
#include "study/compare.h"
#include "study/format.h"
#include "traces/bitops.h"
#include "traces/synth.h"

using namespace lpsim;

TEST_CASE("plan_compare: nothing named is the main job, ResNet-74 synthesized and LeNet-5 trained") {
  const auto studies = study::plan_compare({});
  REQUIRE(studies.size() == 2);
  CHECK(studies[0].model == "resnet74");
  CHECK(studies[0].dataset == "cifar100");
  CHECK_FALSE(studies[0].trained);
  CHECK(studies[0].schedules == study::split_schedules(study::kSynthSchedules));
  CHECK(studies[1].model == "lenet5");
  CHECK(studies[1].trained);
  CHECK(studies[1].schedules == study::split_schedules(study::kTrainSchedules));
}

TEST_CASE("plan_compare: a named model runs alone on its own dataset, --train alone is LeNet-5") {
  study::CompareChoice choice;
  choice.model = "lenet5";
  auto studies = study::plan_compare(choice);
  REQUIRE(studies.size() == 1);
  CHECK(studies[0].dataset.empty());  // the synthesizer resolves the model's own
  CHECK_FALSE(studies[0].trained);
  study::CompareChoice train;
  train.train = true;
  studies = study::plan_compare(train);
  REQUIRE(studies.size() == 1);
  CHECK(studies[0].model == "lenet5");
  CHECK(studies[0].dataset == "fashion-mnist");
}

TEST_CASE("plan_compare: the main job refuses schedules the synthesizer cannot run at all") {
  study::CompareChoice choice;
  choice.schedules = "muppet:8,12,14,16";
  CHECK_THROWS_AS(study::plan_compare(choice), InputError);
  choice.schedules = "";
  CHECK_THROWS_AS(study::plan_compare(choice), InputError);
}

TEST_CASE("run_compare: each row holds its own trace's BitOPs and simulation") {
  study::CompareOptions o;
  o.studies = {{"resnet20", "cifar10", false, {"static:8/8", "cyclic:3-8/8"}}};
  o.synth.iterations = 30;
  o.archs = {default_arch()};
  o.sim.timing = Timing::Analytic;
  const study::Comparison c = study::run_compare(o);
  REQUIRE(c.runs.size() == 2);
  REQUIRE(c.rows.size() == 2);
  REQUIRE(c.notes.size() == 1);
  for (std::size_t i = 0; i < 2; ++i) {
    SynthOptions s;
    s.model = "resnet20";
    s.dataset = "cifar10";
    s.iterations = 30;
    s.schedule = o.studies[0].schedules[i];
    const Trace t = synthesize(s);
    const Graph g = trace_graph(t);
    CHECK(c.runs[i].gbitops == count_bitops(t, g, CountConvention::Gemm).total_bitops / 1e9);
    REQUIRE(c.rows[i].sim);
    const SimReport direct = simulate_trace(t, g, o.archs[0], energy_table_for(o.archs[0]), o.sim);
    CHECK(c.rows[i].sim->energy_j() == direct.energy_j());
    CHECK(c.rows[i].sim->latency_s() == direct.latency_s());
  }
  // The cyclic schedule spends fewer BitOPs than static 8/8: its widths are <= 8.
  const study::RowFigures f = study::row_figures(c, c.rows[1]);
  REQUIRE(f.gbitops_change);
  CHECK(*f.gbitops_change < 0);
  CHECK(f.baseline == "static:8/8");
}

TEST_CASE("run_compare: a design point that cannot run a trace's formats keeps a row without figures") {
  study::CompareOptions o;
  o.studies = {{"mlp", "", false, {"static:fp32"}}};
  o.synth.iterations = 2;
  o.archs = {load_arch(resolve_arch_path("tpu_int8"), {})};
  o.sim.timing = Timing::Analytic;
  const study::Comparison c = study::run_compare(o);
  REQUIRE(c.rows.size() == 1);
  CHECK_FALSE(c.rows[0].sim);
  CHECK_FALSE(c.rows[0].unsupported.empty());
  CHECK_FALSE(study::row_figures(c, c.rows[0]).energy_j);
}

TEST_CASE("run_compare: a trained run that diverges keeps a row with its schedule's cost, no accuracy") {
  // LeNet-5 at lr 1e6 diverges within its first steps (tests/trainer/trainer_test.cpp).
  study::CompareOptions o;
  o.studies = {{"lenet5", "fashion-mnist", true, {"static:8/8"}}};
  o.synth.batch = 50;
  o.train.epochs = 1;
  o.train.train_limit = 300;
  o.train.test_limit = 200;
  o.train.lr = 1e6;
  o.bitops_only = true;
  const study::Comparison c = study::run_compare(o);
  REQUIRE(c.runs.size() == 1);
  CHECK_FALSE(c.runs[0].test_accuracy);
  // The cost of the schedule it followed: the synthesized trace of the same
  // run, 1 epoch of ceil(300 / 50) = 6 iterations.
  SynthOptions s;
  s.model = "lenet5";
  s.dataset = "fashion-mnist";
  s.batch = 50;
  s.iterations = 6;
  s.schedule = "static:8/8";
  const Trace t = synthesize(s);
  CHECK(c.runs[0].gbitops ==
        count_bitops(t, trace_graph(t), CountConvention::Gemm).total_bitops / 1e9);
  REQUIRE(c.notes.size() == 2);  // the divergence, then how the study's runs were made
  CHECK_THAT(c.notes[0], Catch::StartsWith("lenet5 static:8/8: training diverged"));
}
