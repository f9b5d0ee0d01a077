// Layer-wise adaptive loss scaling (Zhao, Vogel, Ahmed, "Adaptive Loss
// Scaling for Mixed Precision Training", arXiv 1910.12385, 2019, Sec. 3):
// at every step each conv / linear layer gets its own scale alpha, computed
// from the statistics of the error arriving at it and of its weights so
// that its backward GEMM's output underflows with probability at most
// kAdaptiveUnderflowRate and cannot overflow the error format
// (docs/trainer.md, "Adaptive per-layer loss scaling").
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/precision.h"

namespace lpsim::trainer {

// Zhao et al.'s underflow-rate threshold (their code's default n_uf = 1e-3).
inline constexpr double kAdaptiveUnderflowRate = 1e-3;

// Mean, standard deviation (population) and largest magnitude of the error
// tensor e (as it reaches the layer, already carrying the scales applied
// above it) and of the layer's quantized weights; `fan` = the terms summed
// per element of the backward-data GEMM's output (Cout x KH x KW for a
// convolution, Cout for a linear layer).
struct ErrorWeightStats {
  double e_mean = 0, e_std = 0, e_max_abs = 0;
  double w_mean = 0, w_std = 0, w_max_abs = 0;
  std::int64_t fan = 1;
};
ErrorWeightStats measure_error_weight(const float* e, std::size_t ne, const float* w,
                                      std::size_t nw, std::int64_t fan);

// What the error format can hold: u_min = its smallest positive value (the
// smallest subnormal, 2^(emin - mantissa bits)), u_max = its largest.
struct ScaleRange {
  double u_min = 0, u_max = 0;
};
// The range of a float error format; {0, 0} (no scaling) for integer
// formats, whose quantizer measures each tensor's range, and for fp32.
ScaleRange scale_range_of(const Format& e_format);

// sqrt(2) erfinv(rate): |X| < z sigma has probability `rate` for a
// zero-mean normal X of deviation sigma. rate in (0, 1).
double underflow_quantile(double rate);

// The layer's scale (a power of two):
//   sigma_o = sqrt((e_std^2 + e_mean^2)(w_std^2 + w_mean^2)) sqrt(fan / 2)
//     (the product of independent e and w, summed over `fan` terms of
//     which ReLU leaves about half: Zhao et al.'s estimate)
//   lower = max(1, u_min / (z min(e_rms, sigma_o)))    z = underflow_quantile(rate),
//     e_rms = sqrt(e_std^2 + e_mean^2)
//   upper = u_max / max(e_max_abs, fan e_max_abs w_max_abs)
//   alpha = 2^floor(log2(min(lower, upper))), within [2^-64, 2^64]
// `lower` keeps both the scaled error and the predicted GEMM output above
// u_min with probability 1 - rate; `upper` keeps the scaled error and the
// GEMM's worst-case output below u_max. 1 when the error is all zero,
// not finite, or the range is empty (integer or fp32 errors).
double adaptive_layer_scale(const ErrorWeightStats& s, const ScaleRange& range,
                            double rate = kAdaptiveUnderflowRate);

// The backward-weight GEMM's output is known in FP32 before G quantization:
// gamma = min(1, 2^floor(log2(u_max / g_max))) brings its largest magnitude
// g_max inside G's range (ours, beside Zhao et al.'s bound on the
// backward-data output; the weight gradient is divided by it again). 1 when
// g_max is 0 or not finite or the range is empty.
double gradient_scale(double g_max, const ScaleRange& range);

}  // namespace lpsim::trainer
