// SVRG and HALP steps (trainer/svrg.h; docs/trainer.md, "SVRG and HALP").
// The anchor's full gradient is summed in double in file order, batch by
// batch, so it does not depend on the thread count (each batch's gradient
// already does not: network.cpp).
#include "trainer/svrg.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "core/error.h"
#include "trainer/trainer.h"

namespace lpsim::trainer {

OptimizerKind parse_optimizer(const std::string& text) {
  if (text == "sgd") return OptimizerKind::Sgd;
  if (text == "svrg") return OptimizerKind::Svrg;
  if (text == "halp") return OptimizerKind::Halp;
  throw InputError(fmt::format("--optimizer {}: must be one of sgd, svrg, halp", text));
}

std::string to_string(OptimizerKind k) {
  switch (k) {
    case OptimizerKind::Sgd: return "sgd";
    case OptimizerKind::Svrg: return "svrg";
    case OptimizerKind::Halp: return "halp";
  }
  return "?";
}

std::int64_t default_epoch_length(std::int64_t iterations_per_epoch) {
  return std::max<std::int64_t>(1, (iterations_per_epoch + 1) / 2);
}

std::int64_t anchors_before(std::int64_t step, std::int64_t epoch_length) {
  return step <= 0 ? 0 : (step + epoch_length - 1) / epoch_length;
}

double halp_scale(const std::vector<float>& full_grad, double mu, int bits) {
  double sq = 0;
  for (float g : full_grad) sq += static_cast<double>(g) * static_cast<double>(g);
  return std::sqrt(sq) / (mu * (std::ldexp(1.0, bits - 1) - 1.0));
}

std::int32_t halp_code(double x, double scale, int bits, Rounding rounding, float u) {
  if (!(scale > 0)) return 0;  // g~ = 0 for this tensor: the grid is {0}
  const double lo = -std::ldexp(1.0, bits - 1), hi = std::ldexp(1.0, bits - 1) - 1.0;
  const double v = x / scale;
  double q = rounding == Rounding::Nearest ? std::nearbyint(v) : std::floor(v + static_cast<double>(u));
  if (std::isnan(q)) q = 0;  // unreachable for finite steps; keeps the code defined
  return static_cast<std::int32_t>(std::clamp(q, lo, hi));
}

void VarianceReduced::take_anchor(Network& net, const ImageSet& data, std::int64_t batch,
                                  const QuantPolicy& q, std::uint64_t iteration) {
  const std::vector<Param*> params = net.params();
  const std::size_t np = params.size();
  VrState& s = state_;
  s.anchor.resize(np);
  s.full_grad.resize(np);
  for (std::size_t i = 0; i < np; ++i) s.anchor[i] = params[i]->value;  // w~ <- w~ + z = w
  if (config_.kind == OptimizerKind::Halp) {
    s.offset.resize(np);
    s.scale.assign(np, 0.0);
    for (std::size_t i = 0; i < np; ++i) s.offset[i].assign(params[i]->value.size(), 0);
  }

  std::vector<std::vector<float>> buffers;
  for (Buffer* b : net.buffers()) buffers.push_back(b->value);
  std::vector<std::vector<double>> sum(np);
  for (std::size_t i = 0; i < np; ++i) sum[i].assign(params[i]->value.size(), 0.0);
  const PrecisionSet fp32;  // every role FP32: the paper's full-precision g~
  const std::int64_t e = data.image_elements();
  for (std::int64_t s0 = 0; s0 < data.n; s0 += batch) {
    const std::int64_t b = std::min(batch, data.n - s0);
    net.forward(data.images.data() + s0 * e, data.labels.data() + s0, b, fp32, q, iteration);
    const std::int64_t bad = net.backward(fp32, q, iteration);
    if (bad > 0)
      throw TrainingDiverged(fmt::format("training diverged: {} gradient values of the {} anchor's "
                                   "full gradient are not finite: lower --lr",
                                   bad, to_string(config_.kind)));
    // Each batch's gradient is its mean: weight it by its images, so g~ is
    // the mean over all images even when the last batch is short.
    const double w = static_cast<double>(b);
    for (std::size_t i = 0; i < np; ++i) {
      const std::vector<float>& g = params[i]->grad;
      for (std::size_t j = 0; j < g.size(); ++j) sum[i][j] += w * static_cast<double>(g[j]);
    }
  }
  const auto nb = net.buffers();
  for (std::size_t k = 0; k < nb.size(); ++k) nb[k]->value = buffers[k];
  const double n = static_cast<double>(data.n);
  for (std::size_t i = 0; i < np; ++i) {
    s.full_grad[i].resize(sum[i].size());
    for (std::size_t j = 0; j < sum[i].size(); ++j)
      s.full_grad[i][j] = static_cast<float>(sum[i][j] / n);
    if (config_.kind == OptimizerKind::Halp)
      s.scale[i] = halp_scale(s.full_grad[i], config_.mu, config_.bits);
  }
}

std::int64_t VarianceReduced::step(Network& net, const float* images, const std::uint8_t* labels,
                                   std::int64_t batch, const PrecisionSet& p,
                                   const QuantPolicy& q, std::uint64_t iteration, float lr,
                                   float momentum, float weight_decay) {
  const std::vector<Param*> params = net.params();
  const std::size_t np = params.size();
  VrState& s = state_;
  if (s.anchor.size() != np) throw InternalError("variance-reduced step before the first anchor");
  current_grad_.resize(np);
  saved_.resize(np);
  for (std::size_t i = 0; i < np; ++i) {
    current_grad_[i] = params[i]->grad;
    saved_[i] = params[i]->value;
    params[i]->value = s.anchor[i];
  }
  std::vector<std::vector<float>> buffers;
  for (Buffer* b : net.buffers()) buffers.push_back(b->value);
  net.forward(images, labels, batch, p, q, iteration);
  const std::int64_t overflow = net.backward(p, q, iteration);
  const auto nb = net.buffers();
  for (std::size_t k = 0; k < nb.size(); ++k) nb[k]->value = buffers[k];
  for (std::size_t i = 0; i < np; ++i) params[i]->value.swap(saved_[i]);

  // u = grad_B(w) - grad_B(w~) + g~, in Param::grad.
  for (std::size_t i = 0; i < np; ++i) {
    std::vector<float>& g = params[i]->grad;
    const std::vector<float>& cur = current_grad_[i];
    const std::vector<float>& fg = s.full_grad[i];
    for (std::size_t j = 0; j < g.size(); ++j) g[j] = cur[j] - g[j] + fg[j];
  }
  if (config_.kind == OptimizerKind::Svrg) {
    net.sgd_step(lr, momentum, weight_decay);
    return overflow;
  }
  const int bits = config_.bits;
  for (std::size_t i = 0; i < np; ++i) {
    Param& prm = *params[i];
    const double sc = s.scale[i];
    std::vector<std::int32_t>& code = s.offset[i];
    const std::vector<float>& w0 = s.anchor[i];
    const std::uint64_t base =
        RngKey{config_.seed, iteration, kHalpStream + static_cast<std::uint64_t>(i)}.base();
    for (std::size_t j = 0; j < code.size(); ++j) {
      float& v = prm.momentum[j];
      v = momentum * v + (prm.grad[j] + weight_decay * prm.value[j]);
      const double x = static_cast<double>(code[j]) * sc - static_cast<double>(lr) * v;
      const float u = config_.rounding == Rounding::Stochastic ? uniform01(base, j) : 0.0f;
      code[j] = halp_code(x, sc, bits, config_.rounding, u);
      prm.value[j] = w0[j] + static_cast<float>(static_cast<double>(code[j]) * sc);
    }
  }
  return overflow;
}

}  // namespace lpsim::trainer
