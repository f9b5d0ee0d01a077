// The built-in low-precision trainer: real quantized training of a zoo
// network on Fashion-MNIST under any precision schedule, recording the
// trace it ran (docs/trainer.md).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/precision.h"
#include "traces/trace.h"
#include "trainer/confidence.h"
#include "trainer/idx.h"

namespace lpsim::trainer {

struct TrainOptions {
  std::string model = "lenet5";
  std::string dataset = "fashion-mnist";
  std::string data_dir = kFashionMnistDir;
  std::int64_t epochs = 10;
  std::int64_t batch = 128;
  double lr = 0.05;
  // An LRBench policy (trainer/lr_policy.h), e.g. "tri:k0=0.01,k1=0.1,l=500":
  // when set it gives the LR of every iteration and `lr`, `lr_schedule`,
  // `lr_step`, `lr_gamma` are not used (they must stay at their defaults).
  std::string lr_policy;
  double momentum = 0.9;
  double weight_decay = 5e-4;
  // cosine (per iteration, to 0) | step (x lr_gamma every lr_step epochs) |
  // constant | muppet (constant while quantized, then x0.1 every 15 epochs
  // in FP32 down to lr/100) | auto (muppet for muppet:, else cosine)
  std::string lr_schedule = "auto";
  std::int64_t lr_step = 0;  // step: epochs between drops (0 = epochs / 3, at least 1)
  double lr_gamma = 0.1;
  std::string schedule = "static:fp32";
  std::uint64_t seed = 1;
  int threads = 1;
  std::string gemm_kernel = "auto";  // auto | vnni | avx2 | scalar | reference (same results)
  std::string quantizer = "auto";  // range | dfx | auto (dfx for muppet:, else range)
  std::string rounding = "auto";   // auto (W, A nearest; E, G stochastic) | nearest | stochastic
  // Loss scaling (for minifloat E / G): static S, or dynamic starting at S:
  // a step whose E or G overflows (quantize.h) is skipped and S halves;
  // after `loss_scale_window` clean steps in a row S doubles (Micikevicius
  // et al. 2018; PyTorch GradScaler's defaults: 2^16, 0.5, 2, 2000).
  double loss_scale = 1.0;
  bool dynamic_loss_scale = false;
  std::int64_t loss_scale_window = 2000;
  std::int64_t train_limit = 0;    // use only the first N training images (0 = all)
  std::int64_t test_limit = 0;
  std::string checkpoint;          // written at each epoch end when not empty
  bool resume = false;             // continue from `checkpoint`
  std::int64_t stop_after = 0;     // stop after this many epochs in total (0 = run all)
  // Batch norm recalibration before each test pass: the running statistics
  // are replaced by the plain average over the first N training batches
  // (file order) run forward at the test precision; weights are untouched.
  // 0 = off: test with the statistics training left.
  std::int64_t bn_recalibrate = 0;
  // The FP8 recipe and adaptive loss scaling (docs/trainer.md):
  // per-layer adaptive scales on top of the global S (adaptive_loss_scale.h)
  bool adaptive_loss_scale = false;
  // enhanced loss scaling (Sun et al. 2019): dynamic, S kept at or above
  // loss_scale_floor x loss_scale_floor_growth^epoch
  bool enhanced_loss_scale = false;
  double loss_scale_floor = 1;
  double loss_scale_floor_growth = 2;
  std::string master_weights = "fp32";     // fp32 | fp16 | bf16 (master_weights.h)
  std::string master_rounding = "nearest";  // nearest | stochastic (16-bit masters only)
  bool range_test = false;         // CPT precision range test in the first epoch
  double range_test_threshold = 0.01;  // accuracy gain (0..1) below which the test stops
  int range_test_from = 2;             // first width tried
  // Optimizer (trainer/svrg.h, docs/trainer.md "SVRG and HALP"): sgd (the
  // update above) | svrg | halp. svrg and halp take an FP32 full-gradient
  // anchor every `halp_epoch_length` steps (0: half an epoch, rounded up);
  // halp keeps the model as anchor + a `halp_bits`-bit offset whose scale is
  // ||g~|| / (halp_mu (2^(bits-1) - 1)). The trace then counts every pass
  // (docs/trace-format.md, "Variance-reduced runs").
  std::string optimizer = "sgd";
  std::int64_t halp_epoch_length = 0;
  int halp_bits = 8;
  double halp_mu = 20.0;
};

struct RangeTestStep {
  int bits = 0;
  std::int64_t iterations = 0;
  double train_accuracy = 0;  // over the step's minibatches
};

struct RangeTestResult {
  std::vector<RangeTestStep> curve;
  int b_min = 0;
  std::string schedule;  // the schedule the rest of the run used
};

// The final model on the test set, for LRBench's metrics (docs/trainer.md).
struct FinalTestMetrics {
  double loss = 0;  // mean cross-entropy over the test images
  Confidence confidence;
};

struct TrainResult {
  Trace trace;  // metrics cover the epochs run so far
  FinalTestMetrics final_test;  // of the last epoch's test pass (finished runs)
  std::optional<RangeTestResult> range_test;
  std::vector<std::string> events;  // e.g. MuPPET switches, one line each
  bool finished = false;            // false when stop_after cut the run short
  int threads = 1;
};

struct Progress {
  std::int64_t epoch = 0, epochs = 0;
  std::int64_t iteration = 0, iterations_per_epoch = 0;  // within the epoch
  double loss = 0;  // running mean over the epoch
  PrecisionSet precision;
  double loss_scale = 1;
  double eta_s = 0;
};
using ProgressFn = std::function<void(const Progress&)>;

// Trains per `options`. Throws InputError for bad options or data.
TrainResult train(const TrainOptions& options, const ProgressFn& progress = {});

// Runs forward and backward on the first `batch` training images (file
// order) at the schedule's first precision and writes, as raw little-endian
// float32 files plus manifest.json in `dir`: the input, labels, initial
// parameters, every layer's output, the loss, every parameter gradient.
// scripts/torch_reference.py repeats the step in PyTorch and compares.
void dump_batch(const TrainOptions& options, const std::string& dir);

}  // namespace lpsim::trainer
