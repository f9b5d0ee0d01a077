#include "trainer/adaptive_loss_scale.h"

#include <algorithm>
#include <cmath>

#include "trainer/loss_scale.h"
#include "trainer/quantize.h"

namespace lpsim::trainer {
namespace {

void mean_std_max(const float* x, std::size_t n, double& mean, double& std_dev, double& max_abs) {
  double sum = 0, sum_sq = 0, mx = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double v = x[i];
    sum += v;
    sum_sq += v * v;
    mx = std::max(mx, std::fabs(v));
  }
  const double count = n > 0 ? static_cast<double>(n) : 1.0;
  mean = sum / count;
  std_dev = std::sqrt(std::max(0.0, sum_sq / count - mean * mean));
  max_abs = mx;
}

}  // namespace

ErrorWeightStats measure_error_weight(const float* e, std::size_t ne, const float* w,
                                      std::size_t nw, std::int64_t fan) {
  ErrorWeightStats s;
  mean_std_max(e, ne, s.e_mean, s.e_std, s.e_max_abs);
  mean_std_max(w, nw, s.w_mean, s.w_std, s.w_max_abs);
  s.fan = fan;
  return s;
}

ScaleRange scale_range_of(const Format& f) {
  if (!f.is_float() || f == Format::fp32()) return {};
  const int bias = (1 << (f.exp_bits - 1)) - 1;
  ScaleRange r;
  r.u_min = std::ldexp(1.0, 1 - bias - f.man_bits);
  r.u_max = minifloat_max(f.exp_bits, f.man_bits);
  return r;
}

double underflow_quantile(double rate) {
  // erfinv by Newton's method on erf, from its series' first term.
  double y = rate * std::sqrt(std::acos(-1.0)) / 2;
  for (int i = 0; i < 50; ++i) {
    const double step =
        (std::erf(y) - rate) / (2 / std::sqrt(std::acos(-1.0)) * std::exp(-y * y));
    y -= step;
    if (std::fabs(step) <= 1e-17 * std::fabs(y)) break;
  }
  return std::sqrt(2.0) * y;
}

double adaptive_layer_scale(const ErrorWeightStats& s, const ScaleRange& range, double rate) {
  if (!(range.u_max > 0) || !(s.e_max_abs > 0) || !std::isfinite(s.e_max_abs) ||
      !std::isfinite(s.e_std) || !std::isfinite(s.w_max_abs))
    return 1.0;
  const double fan = static_cast<double>(std::max<std::int64_t>(1, s.fan));
  const double sigma_o = std::sqrt((s.e_std * s.e_std + s.e_mean * s.e_mean) *
                                   (s.w_std * s.w_std + s.w_mean * s.w_mean)) *
                         std::sqrt(fan / 2);
  const double sigma = std::min(std::sqrt(s.e_std * s.e_std + s.e_mean * s.e_mean), sigma_o);
  const double lower =
      sigma > 0 ? std::max(1.0, range.u_min / (underflow_quantile(rate) * sigma)) : 1.0;
  const double upper = range.u_max / std::max(s.e_max_abs, fan * s.e_max_abs * s.w_max_abs);
  const double alpha = std::exp2(std::floor(std::log2(std::min(lower, upper))));
  return std::clamp(alpha, 1.0 / kMaxLossScale, kMaxLossScale);
}

double gradient_scale(double g_max, const ScaleRange& range) {
  if (!(range.u_max > 0) || !(g_max > range.u_max) || !std::isfinite(g_max)) return 1.0;
  return std::max(1.0 / kMaxLossScale, std::exp2(std::floor(std::log2(range.u_max / g_max))));
}

}  // namespace lpsim::trainer
