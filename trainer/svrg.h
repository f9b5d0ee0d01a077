// Variance-reduced optimizers of the trainer (docs/trainer.md, "SVRG and
// HALP"): SVRG (Johnson & Zhang, NIPS 2013) and HALP (De Sa, Leszczynski,
// Zhang, Marzoev, Aberger, Olukotun, Re, "High-Accuracy Low-Precision
// Training", arXiv 1803.03383, 2018, Algorithm 2), SVRG with bit centering.
//
// Every T steps (an "anchor"): w~ = the model, g~ = the full-precision
// gradient of the training loss at w~ over the whole training set (one FP32
// forward + backward pass over the data, in file order). Each step on a
// minibatch B then uses u = grad_B(w) - grad_B(w~) + g~ (both minibatch
// gradients at the schedule's precision, with the same random keys) in
// place of SGD's grad_B(w):
//   SVRG: v = m v + (u + wd w);  w -= lr v        (Network::sgd_step)
//   HALP: w = w~ + z, z a b-bit offset on the grid s * {-2^(b-1) .. 2^(b-1)-1},
//         s = ||g~|| / (mu (2^(b-1) - 1)) per parameter tensor, z = 0 at each
//         anchor (bit centering, re-centred: w~ <- w~ + z);
//         v = m v + (u + wd w);  z <- Q_s(z - lr v), stochastic rounding.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "trainer/idx.h"
#include "trainer/network.h"

namespace lpsim::trainer {

enum class OptimizerKind : std::uint8_t { Sgd, Svrg, Halp };
OptimizerKind parse_optimizer(const std::string& text);  // "sgd" | "svrg" | "halp"; InputError
std::string to_string(OptimizerKind);

// HALP's defaults, from the authors' public code (HazyResearch/torchhalp,
// examples/cifar10/README.md: ResNet-18 on CIFAR-10 with T = 196 batches of
// 391, "about half an epoch", mu = 20, 8 bits).
inline constexpr int kHalpDefaultBits = 8;
inline constexpr double kHalpDefaultMu = 20.0;
// Offset widths: 2 (torchhalp refuses <= 1) to 24 (a grid of 2^24 steps is
// finer than float32's significand: kIdentityIntBits).
inline constexpr int kHalpMinBits = 2, kHalpMaxBits = 24;

struct VrConfig {
  OptimizerKind kind = OptimizerKind::Svrg;
  std::int64_t epoch_length = 1;  // T: steps between anchors
  int bits = kHalpDefaultBits;    // HALP: offset bits b
  double mu = kHalpDefaultMu;     // HALP: mu in the scale s
  // HALP: rounding of the offset (the paper's and torchhalp's default:
  // stochastic, unbiased), keyed by (seed, step, kHalpStream + parameter).
  Rounding rounding = Rounding::Stochastic;
  std::uint64_t seed = 1;
};

// Random stream of parameter i's offset rounding: kHalpStream + i (the
// network's tensor ids, graph index x 16 + role x 2 + sub, stay far below).
inline constexpr std::uint64_t kHalpStream = 0x48414c5000000000ULL;  // "HALP" << 32

// T when not given: half an epoch, rounded up (torchhalp's 196 for 391).
std::int64_t default_epoch_length(std::int64_t iterations_per_epoch);
// Anchors taken before step `step` (anchors come before steps 0, T, 2T, ...).
std::int64_t anchors_before(std::int64_t step, std::int64_t epoch_length);

// HALP's scale of one parameter tensor: ||g~|| / (mu (2^(b-1) - 1)) (the
// 2-norm, summed in double; torchhalp's HALP._rescale).
double halp_scale(const std::vector<float>& full_grad, double mu, int bits);
// Q_(s,b) of the paper: q = clamp(round(x / s), -2^(b-1), 2^(b-1) - 1), the
// offset code (z = q s). Stochastic: floor(x / s + u), u ~ U[0,1) from `key`
// (element i = stream index i); nearest: half to even. s = 0 gives 0.
std::int32_t halp_code(double x, double scale, int bits, Rounding rounding, float u);

// What a checkpoint must keep (per Param, network order).
struct VrState {
  std::vector<std::vector<float>> anchor;     // w~
  std::vector<std::vector<float>> full_grad;  // g~
  std::vector<std::vector<std::int32_t>> offset;  // HALP: z's codes q (z = q s); empty for SVRG
  std::vector<double> scale;                      // HALP: s
  bool empty() const { return anchor.empty(); }
};

class VarianceReduced {
 public:
  explicit VarianceReduced(const VrConfig& config) : config_(config) {}
  const VrConfig& config() const { return config_; }
  VrState& state() { return state_; }
  const VrState& state() const { return state_; }

  bool anchor_due(std::int64_t step) const { return step % config_.epoch_length == 0; }
  // Takes an anchor at the network's current weights (HALP: recentres, so
  // w~ = w~ + z and z = 0; the weights do not change) and computes g~ over
  // every image of `data`, in file order, in batches of `batch`, at FP32
  // (Mode::Train; batch norm's running statistics are left as they were).
  // `iteration` keys its random numbers (none are drawn at FP32). InputError
  // when g~ is not finite.
  void take_anchor(Network& net, const ImageSet& data, std::int64_t batch, const QuantPolicy& q,
                   std::uint64_t iteration);
  // One step, called after net.forward + net.backward at the current weights
  // on a minibatch: the gradient at w~ on the same minibatch (same precision
  // `p`, same random keys `iteration`), then the update. Batch norm's running
  // statistics keep the current-point pass's update only. Returns the
  // overflow count of the anchor-point backward (quantize.h).
  std::int64_t step(Network& net, const float* images, const std::uint8_t* labels,
                    std::int64_t batch, const PrecisionSet& p, const QuantPolicy& q,
                    std::uint64_t iteration, float lr, float momentum, float weight_decay);

 private:
  VrConfig config_;
  VrState state_;
  std::vector<std::vector<float>> current_grad_, saved_;
};

}  // namespace lpsim::trainer
