// The comparison job (`lpsim compare`, the product's main job): precision
// schedules side by side for one or more models, each run synthesized from
// its shapes or trained for real, counted in BitOPs and simulated on each
// design point. The result is a Comparison (study/report.h), which the
// formatters there print as a table, JSON or a report directory.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "sim/arch.h"
#include "sim/replay.h"
#include "study/report.h"
#include "traces/bitops.h"
#include "traces/synth.h"
#include "trainer/trainer.h"

namespace lpsim::study {

// The main job's schedules: synthesized runs, and trained runs (which add
// MuPPET, a schedule that switches on training state).
inline constexpr const char* kSynthSchedules =
    "static:8/8,static:4/4,progressive:3-8/8,cyclic:3-8/8";
inline constexpr const char* kTrainSchedules =
    "static:8/8,static:4/4,progressive:3-8/8,cyclic:3-8/8,muppet:8,12,14,16";
// The main job's design points: a fixed INT8 array and a precision-scalable
// one (docs/architecture.md).
std::vector<std::string> default_compare_archs();

// One model to study: synthesized from its shapes, or trained for real,
// under `schedules` (the first is the baseline).
struct CompareStudy {
  std::string model, dataset;  // dataset "" = the model's own
  bool trained = false;
  std::vector<std::string> schedules;
};

// What the user named. Nothing named: the main job, ResNet-74 / CIFAR-100
// synthesized plus LeNet-5 / Fashion-MNIST trained. A model, a dataset or
// `train` alone: that one model (LeNet-5 / Fashion-MNIST when trained).
struct CompareChoice {
  std::optional<std::string> model, dataset, schedules;  // schedules: comma-separated
  bool train = false;
};
// InputError for an empty schedule list, or a main job whose schedules the
// synthesizer cannot run at all.
std::vector<CompareStudy> plan_compare(const CompareChoice& choice);

struct CompareOptions {
  std::vector<CompareStudy> studies;
  SynthOptions synth;             // epochs, batch, iterations of synthesized runs
  trainer::TrainOptions train;    // epochs, limits, seed, threads, data of trained runs
  CountConvention count = CountConvention::Gemm;
  bool bitops_only = false;
  std::vector<ArchConfig> archs;  // ignored with bitops_only
  SimOptions sim;
};

// Called with a one-line description of the work under way ("[2/9]
// simulating resnet74 cyclic:3-8/8 on tpu_int8", training progress).
using CompareProgress = std::function<void(const std::string& line)>;

// Runs every study: the trace of each (model, schedule), its BitOPs, and its
// simulation on each design point. A trained run that diverges keeps its row
// (no accuracy; the cost of the schedule it followed, from its synthesized
// trace, with a note); a design point that cannot run a trace's formats gets
// a row without figures (CompareRow::unsupported). Other errors propagate.
Comparison run_compare(const CompareOptions& options, const CompareProgress& progress = {});

}  // namespace lpsim::study
