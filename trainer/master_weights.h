// Master weights narrower than FP32 (the FP8 training recipe of Wang et al.,
// NeurIPS 2018: the weight update accumulated in a 16-bit float, rounded
// stochastically): the SGD update is computed in FP32 and every value it
// stores -- weights and momenta -- is rounded to the master format
// (docs/trainer.md, "Master weights").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/precision.h"
#include "trainer/network.h"
#include "trainer/quantize.h"

namespace lpsim::trainer {

struct MasterWeights {
  Format format = Format::fp32();        // fp32 | fp16 (e5m10) | bf16 (e8m7)
  Rounding rounding = Rounding::Nearest;  // of every stored update result
  bool is_fp32() const { return format == Format::fp32(); }
};

// "fp32" | "fp16" | "bf16"; InputError naming --master-weights otherwise.
Format parse_master_format(const std::string& text);
// "nearest" | "stochastic"; InputError naming --master-rounding otherwise.
Rounding parse_master_rounding(const std::string& text);

// Rounds x[0..n) in place to the master format: round to nearest, ties to
// even, or stochastically (up with probability equal to the remainder, the
// random numbers from `key`), with fp16's subnormals kept and values past
// the format's largest finite value saturated to it (no Inf). Returns how
// many saturated. fp32 leaves x unchanged.
std::size_t round_to_master(const MasterWeights& m, float* x, std::size_t n, const RngKey& key);

// Random stream of parameter `index`'s stored momenta (sub 0) or weights
// (sub 1): apart from every stream of the network (network.cpp's tensor ids
// are below 2^20).
std::uint64_t master_stream(std::size_t index, int sub);

// Network::sgd_step's SGD (v = momentum v + (g + wd w); w -= lr v) in FP32,
// with v and then w rounded to the master format before they are stored.
// Random numbers keyed by (seed, iteration, master_stream). fp32: exactly
// Network::sgd_step.
void sgd_step_master(const std::vector<Param*>& params, float lr, float momentum,
                     float weight_decay, const MasterWeights& m, std::uint64_t seed,
                     std::uint64_t iteration);

// Rounds every parameter's value and momentum to the master format (nearest
// even, so the start does not depend on the rounding mode): the initial
// weights of a run with 16-bit master weights.
void round_params_to_master(const std::vector<Param*>& params, const MasterWeights& m);

}  // namespace lpsim::trainer
