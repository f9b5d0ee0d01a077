// Layer-wise adaptive loss scaling (trainer/adaptive_loss_scale.h): the
// scale formula on hand-made statistics, and a backward pass where a fixed
// global scale overflows fp8 errors and the adaptive scales do not.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "models/zoo.h"
#include "trainer/adaptive_loss_scale.h"
#include "trainer/network.h"
#include "trainer/rng.h"

using namespace lpsim;
using namespace lpsim::trainer;

TEST_CASE("the underflow quantile is sqrt(2) erfinv(rate)") {
  for (double rate : {1e-3, 1e-2, 0.5}) {
    const double z = underflow_quantile(rate);
    CHECK(std::erf(z / std::sqrt(2.0)) == Approx(rate).epsilon(1e-14));
  }
  // erfinv's series, erfinv(x) = sqrt(pi)/2 (x + pi x^3 / 12 + ...):
  // z(1e-3) = sqrt(pi / 2) (1e-3 + pi 1e-9 / 12) to 1e-12.
  const double pi = std::acos(-1.0);
  CHECK(underflow_quantile(1e-3) == Approx(std::sqrt(pi / 2) * (1e-3 + pi * 1e-9 / 12)).epsilon(1e-12));
}

TEST_CASE("an error format's range is its smallest subnormal and its largest value") {
  const ScaleRange e5m2 = scale_range_of(Format::floating(5, 2));
  CHECK(e5m2.u_min == std::ldexp(1.0, -16));  // 2^(1 - 15 - 2)
  CHECK(e5m2.u_max == 57344.0);               // 1.75 x 2^15
  const ScaleRange e4m3 = scale_range_of(Format::floating(4, 3));
  CHECK(e4m3.u_min == std::ldexp(1.0, -9));  // 2^(1 - 7 - 3)
  CHECK(e4m3.u_max == 448.0);                // OCP e4m3: 1.75 x 2^8
  const ScaleRange fp16 = scale_range_of(Format::floating(5, 10));
  CHECK(fp16.u_min == std::ldexp(1.0, -24));
  CHECK(fp16.u_max == 65504.0);
  CHECK(scale_range_of(Format::integer(8)).u_max == 0);  // range-quantized: no scaling
  CHECK(scale_range_of(Format::fp32()).u_max == 0);
}

TEST_CASE("error and weight statistics are the population mean, deviation and peak") {
  const std::vector<float> e = {1, -1, 3, -3}, w = {0.5f, 0.5f};
  const ErrorWeightStats s = measure_error_weight(e.data(), e.size(), w.data(), w.size(), 6);
  CHECK(s.e_mean == 0);
  CHECK(s.e_std == Approx(std::sqrt(5.0)));  // (1 + 1 + 9 + 9) / 4
  CHECK(s.e_max_abs == 3);
  CHECK(s.w_mean == 0.5);
  CHECK(s.w_std == 0);
  CHECK(s.w_max_abs == 0.5);
  CHECK(s.fan == 6);
}

TEST_CASE("a layer's scale lifts its errors out of underflow by the formula") {
  // e: mean 0, deviation 2^-10, peak 2^-6; w: mean 0, deviation 2^-3, peak
  // 2^-1; fan 32. sigma_o = 2^-10 x 2^-3 x sqrt(32 / 2) = 2^-11, below the
  // error's own 2^-10. e5m2: u_min = 2^-16, z = sqrt(pi/2) 1e-3 = 1.2533e-3,
  // lower = 2^-16 / (1.2533e-3 x 2^-11) = 24.93; upper = 57344 /
  // (32 x 2^-6 x 2^-1) = 229376. alpha = 2^floor(log2 24.93) = 16.
  ErrorWeightStats s;
  s.e_std = std::ldexp(1.0, -10);
  s.e_max_abs = std::ldexp(1.0, -6);
  s.w_std = std::ldexp(1.0, -3);
  s.w_max_abs = 0.5;
  s.fan = 32;
  const ScaleRange e5m2 = scale_range_of(Format::floating(5, 2));
  CHECK(adaptive_layer_scale(s, e5m2) == 16);
  // A mean counts as much as a deviation: e all at 2^-10 (deviation 0)
  // gives the same second moment, so the same scale.
  ErrorWeightStats m = s;
  m.e_std = 0;
  m.e_mean = std::ldexp(1.0, -10);
  CHECK(adaptive_layer_scale(m, e5m2) == 16);
  // Errors already large: lower = max(1, ...) = 1, so no scaling.
  ErrorWeightStats big = s;
  big.e_std = 1;
  big.e_max_abs = 4;
  CHECK(adaptive_layer_scale(big, e5m2) == 1);
}

TEST_CASE("a layer's scale shrinks errors that would overflow") {
  // e4m3 (max 448): peak error 100, peak weight 1, fan 10: the GEMM's
  // worst case is 1000, so upper = 448 / 1000 = 0.448 and alpha = 2^-2.
  ErrorWeightStats s;
  s.e_std = 1;
  s.e_max_abs = 100;
  s.w_std = 0.5;
  s.w_max_abs = 1;
  s.fan = 10;
  CHECK(adaptive_layer_scale(s, scale_range_of(Format::floating(4, 3))) == 0.25);
  // Integer errors (range-quantized) and all-zero errors are left alone.
  CHECK(adaptive_layer_scale(s, scale_range_of(Format::integer(8))) == 1);
  ErrorWeightStats zero;
  CHECK(adaptive_layer_scale(zero, scale_range_of(Format::floating(4, 3))) == 1);
}

TEST_CASE("a weight gradient past G's largest value is brought back by a power of two") {
  const ScaleRange e4m3 = scale_range_of(Format::floating(4, 3));
  CHECK(gradient_scale(1000, e4m3) == 0.25);  // 448 / 1000 = 0.448 -> 2^-2
  CHECK(gradient_scale(448, e4m3) == 1);      // fits
  CHECK(gradient_scale(100, e4m3) == 1);
  CHECK(gradient_scale(1e9, scale_range_of(Format::fp32())) == 1);
}

namespace {

struct Batch {
  std::vector<float> images;
  std::vector<std::uint8_t> labels;
};

Batch synthetic_batch(std::int64_t n) {
  Batch b;
  b.images.resize(static_cast<std::size_t>(n * 28 * 28));
  const std::uint64_t base = RngKey{3, 0, 0}.base();
  for (std::size_t i = 0; i < b.images.size(); ++i) b.images[i] = uniform01(base, i);
  for (std::int64_t i = 0; i < n; ++i) b.labels.push_back(static_cast<std::uint8_t>(i % 10));
  return b;
}

}  // namespace

TEST_CASE("adaptive scales avoid the fp8 overflows of a fixed global scale") {
  // LeNet-5, batch 8, fp8 e4m3 errors and gradients (max 448). At S = 2^16
  // the loss gradient alone is (p - y) 2^16 / 8, up to 8192 x |p - y|: past
  // 448, so the E quantizer overflows. Adaptive scaling, at the same S,
  // scales each layer's error and weight gradient into range.
  const Graph g = make_model("lenet5", "fashion-mnist");
  const Batch b = synthetic_batch(8);
  PrecisionSet p;
  p[Role::E] = Format::floating(4, 3);
  p[Role::G] = Format::floating(4, 3);
  QuantPolicy q;
  q.loss_scale = 65536.0f;
  Network fixed(g, 1, 1);
  fixed.forward(b.images.data(), b.labels.data(), 8, p, q, 0);
  CHECK(fixed.backward(p, q, 0) > 0);
  q.adaptive = true;
  Network adaptive(g, 1, 1);
  adaptive.forward(b.images.data(), b.labels.data(), 8, p, q, 0);
  CHECK(adaptive.backward(p, q, 0) == 0);
  const BackwardReport& r = adaptive.last_backward();
  REQUIRE(r.layer_scales.size() == 5);  // fc3, fc2, fc1, conv2, conv1
  CHECK(r.layer_scales.front() < 1);    // the output layer's errors scaled down
}

TEST_CASE("adaptive scales flush fewer errors than no scaling, and unscale the gradients") {
  // e4m3 errors at S = 1 lose most of LeNet-5's small errors (below 2^-9);
  // adaptive scales keep them. The weight gradients are divided by every
  // scale applied, so they approximate the FP32 ones.
  const Graph g = make_model("lenet5", "fashion-mnist");
  const Batch b = synthetic_batch(8);
  PrecisionSet fp8;
  fp8[Role::E] = Format::floating(4, 3);
  fp8[Role::G] = Format::floating(4, 3);
  QuantPolicy q;
  Network plain(g, 1, 1), adaptive(g, 1, 1), reference(g, 1, 1);
  plain.forward(b.images.data(), b.labels.data(), 8, fp8, q, 0);
  plain.backward(fp8, q, 0);
  reference.forward(b.images.data(), b.labels.data(), 8, PrecisionSet{}, q, 0);
  reference.backward(PrecisionSet{}, q, 0);
  q.adaptive = true;
  adaptive.forward(b.images.data(), b.labels.data(), 8, fp8, q, 0);
  adaptive.backward(fp8, q, 0);
  const BackwardReport& rp = plain.last_backward();
  const BackwardReport& ra = adaptive.last_backward();
  // Fractions: the layers below see different errors once those above were
  // flushed or not.
  const auto flushed = [](const BackwardReport& r) {
    return static_cast<double>(r.e_flushed) / static_cast<double>(r.e_nonzero);
  };
  CHECK(flushed(ra) < flushed(rp));
  // conv1's weight gradient (the last to be computed) against FP32: the
  // relative L2 error with adaptive scales is below that without, and below
  // 2 x 2^-3, twice what one stochastic e4m3 rounding (spacing 2^-3 relative
  // at most) can do: one for E, one for G.
  auto rel_error = [&](Network& n) {
    const auto& x = n.params()[0]->grad;
    const auto& ref = reference.params()[0]->grad;
    double d = 0, r = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      d += (x[i] - ref[i]) * (x[i] - ref[i]);
      r += ref[i] * ref[i];
    }
    return std::sqrt(d / r);
  };
  CHECK(rel_error(adaptive) < 0.25);
  CHECK(rel_error(adaptive) < rel_error(plain));
}
