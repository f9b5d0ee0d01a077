#include "trainer/master_weights.h"

#include <fmt/format.h>

#include "core/error.h"

namespace lpsim::trainer {

Format parse_master_format(const std::string& text) {
  if (text == "fp32") return Format::fp32();
  if (text == "fp16") return Format::floating(5, 10);
  if (text == "bf16") return Format::floating(8, 7);
  throw InputError(fmt::format("--master-weights {}: must be one of fp32, fp16, bf16", text));
}

Rounding parse_master_rounding(const std::string& text) {
  if (text == "nearest") return Rounding::Nearest;
  if (text == "stochastic") return Rounding::Stochastic;
  throw InputError(fmt::format("--master-rounding {}: must be one of nearest, stochastic", text));
}

std::size_t round_to_master(const MasterWeights& m, float* x, std::size_t n, const RngKey& key) {
  if (m.is_fp32()) return 0;
  return quantize_minifloat(x, n, m.format.exp_bits, m.format.man_bits, m.rounding, key);
}

std::uint64_t master_stream(std::size_t index, int sub) {
  // "MSTR" in the top bytes: far above network.cpp's layer x role ids.
  return (std::uint64_t{0x4d535452} << 32) + static_cast<std::uint64_t>(index) * 2 +
         static_cast<std::uint64_t>(sub);
}

void sgd_step_master(const std::vector<Param*>& params, float lr, float momentum,
                     float weight_decay, const MasterWeights& m, std::uint64_t seed,
                     std::uint64_t iteration) {
  for (std::size_t k = 0; k < params.size(); ++k) {
    Param& p = *params[k];
    const std::size_t n = p.value.size();
    float* w = p.value.data();
    float* v = p.momentum.data();
    const float* g = p.grad.data();
    for (std::size_t i = 0; i < n; ++i) v[i] = momentum * v[i] + (g[i] + weight_decay * w[i]);
    round_to_master(m, v, n, RngKey{seed, iteration, master_stream(k, 0)});
    for (std::size_t i = 0; i < n; ++i) w[i] -= lr * v[i];
    round_to_master(m, w, n, RngKey{seed, iteration, master_stream(k, 1)});
  }
}

void round_params_to_master(const std::vector<Param*>& params, const MasterWeights& m) {
  MasterWeights nearest = m;
  nearest.rounding = Rounding::Nearest;
  for (Param* p : params) {
    round_to_master(nearest, p->value.data(), p->value.size(), RngKey{});
    round_to_master(nearest, p->momentum.data(), p->momentum.size(), RngKey{});
  }
}

}  // namespace lpsim::trainer
