// A trainable network built from a models/ Graph: forward, backward and SGD
// with every tensor role quantized per a PrecisionSet (docs/trainer.md):
//   A: the input of every conv / linear layer (one range per tensor), forward
//   W: the weights of every conv / linear layer (one range per output
//      channel), re-quantized from the FP32 master copy each iteration; used
//      by the forward and the backward-data GEMM
//   E: the error arriving at every conv / linear output (one range per
//      tensor); feeds both backward GEMMs
//   G: weight and bias gradients (one range per tensor), before the update
// Quantizers pass gradients straight through (straight-through estimator).
// Batch norm runs in FP32 (as CPT's code): batch statistics in training,
// running statistics (momentum 0.1, unbiased variance, eps 1e-5: PyTorch's
// BatchNorm defaults) in evaluation; its scale and shift learn unquantized.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/precision.h"
#include "models/graph.h"
#include "trainer/quantize.h"

namespace lpsim::trainer {

namespace impl {
class ThreadPool;
struct Node;
enum class GemmKernel : std::uint8_t;
}  // namespace impl

struct QuantPolicy {
  IntMethod int_method = IntMethod::Range;
  // CPT's choice: W and A nearest, E stochastic; G stochastic (Wang et al. 2018).
  Rounding w = Rounding::Nearest, a = Rounding::Nearest;
  Rounding e = Rounding::Stochastic, g = Rounding::Stochastic;
  // Loss scaling: dL scaled by S, gradients unscaled after G quantization.
  // The trainer changes it between iterations under dynamic loss scaling.
  float loss_scale = 1.0f;
  // Layer-wise adaptive loss scaling (adaptive_loss_scale.h): each conv /
  // linear layer multiplies the error entering its backward GEMMs by its own
  // power-of-two scale; weight gradients are divided by the whole product.
  bool adaptive = false;
};

// What one backward pass saw at the E quantizers of the conv / linear
// layers (for reports): errors quantized, how many were non-zero, how many
// of those the quantizer flushed to zero (underflow), and each layer's
// adaptive scale (1 when off), in backward order. The three counts are taken
// for minifloat E (a float format other than FP32) only, else they stay 0.
struct BackwardReport {
  std::int64_t e_values = 0, e_nonzero = 0, e_flushed = 0;
  std::vector<double> layer_scales;
};

enum class Mode : std::uint8_t { Train, Eval };  // Eval: batch norm uses running statistics

// A learnable tensor: FP32 master values, gradient, momentum.
struct Param {
  std::string name;  // "<layer>.weight" | "<layer>.bias"
  std::vector<float> value, grad, momentum;
};

// State that is not learned but must survive a checkpoint (batch norm's
// running statistics).
struct Buffer {
  std::string name;  // "<layer>.running_mean" | "<layer>.running_var"
  std::vector<float> value;
};

struct BatchStats {
  double loss_sum = 0;  // sum over samples of the cross-entropy
  std::int64_t correct = 0;
  std::int64_t samples = 0;
};

// Batch norm's momentum (PyTorch's default): the weight of a batch's
// statistics in the running ones.
inline constexpr double kBnMomentum = 0.1;

class Network {
 public:
  // Builds the trainable layers of `graph` and initialises weights as
  // PyTorch does (uniform in +-1/sqrt(fan_in)), from `seed`. Throws
  // InputError naming a layer the trainer cannot run.
  Network(const Graph& graph, std::uint64_t seed, int threads);
  ~Network();
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  // Forward pass of `batch` samples (images [batch x input elements]) at
  // precision `p`, keeping what backward needs. `iteration` keys the
  // stochastic rounding. Mode::Train updates batch norm's running statistics.
  BatchStats forward(const float* images, const std::uint8_t* labels, std::int64_t batch,
                     const PrecisionSet& p, const QuantPolicy& q, std::uint64_t iteration,
                     Mode mode = Mode::Train);
  // Backward pass of the last (Mode::Train) forward: every Param::grad
  // (quantized to G, then divided by the loss scale). Returns the overflow
  // count of the E and G quantizers (see quantize.h) plus the non-finite
  // gradients of unquantized parameters: non-zero means the step must be
  // skipped under dynamic loss scaling.
  std::int64_t backward(const PrecisionSet& p, const QuantPolicy& q, std::uint64_t iteration);
  const BackwardReport& last_backward() const { return report_; }
  // SGD with momentum and weight decay (PyTorch's form):
  // v = momentum v + (g + wd w);  w -= lr v.
  void sgd_step(float lr, float momentum, float weight_decay);

  std::vector<Param*> params();
  std::vector<Buffer*> buffers();
  const Graph& graph() const { return graph_; }
  // What layer `name` computed in the last forward / backward (for checks
  // against a reference): output, gradient w.r.t. the output, and for conv /
  // linear the quantized input (A), weights (W) and error (E), and the weight
  // and bias gradients before G quantization. InputError if no such layer.
  struct LayerTensors {
    std::vector<float> out, out_grad, qin, wq, eq, g_pre_w, g_pre_b;
  };
  LayerTensors tensors_of(const std::string& name) const;
  std::vector<std::string> layer_names() const;  // topological order
  int threads() const;
  // Weight of a batch's statistics in batch norm's running ones (PyTorch's
  // momentum; 1/k for the k-th batch gives the plain average of k batches).
  void set_bn_momentum(double momentum) { bn_momentum_ = momentum; }
  // Which kernel runs the GEMMs of integer-quantized layers (<= 8 bits):
  // "auto" (the fastest this CPU has), "vnni", "avx2", "scalar" (integer
  // kernels), "reference" (FP64 BLAS on the codes). All give the same bits
  // (docs/trainer.md, "Integer GEMMs"). InputError for other names or a
  // kernel the CPU lacks.
  void set_gemm_kernel(const std::string& name);
  std::string gemm_kernel() const;

 private:
  Graph graph_;
  std::uint64_t seed_;
  std::vector<std::unique_ptr<impl::Node>> nodes_;  // topological order
  std::unique_ptr<impl::ThreadPool> pool_;
  std::int64_t batch_ = 0;
  double bn_momentum_ = kBnMomentum;
  impl::GemmKernel gemm_kernel_{};
  std::vector<std::uint8_t> labels_;
  BackwardReport report_;
};

// Samples per parallel task: the fixed unit of work that makes results
// independent of the thread count.
inline constexpr std::int64_t kChunk = 16;

}  // namespace lpsim::trainer
