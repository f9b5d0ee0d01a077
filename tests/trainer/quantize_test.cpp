// Quantizers against values worked by hand (formulas in trainer/quantize.h).
#include "trainer/quantize.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "core/error.h"

using namespace lpsim;
using namespace lpsim::trainer;
using Catch::Matchers::WithinAbs;

namespace {
const float kInf = std::numeric_limits<float>::infinity();
const float kNaN = std::numeric_limits<float>::quiet_NaN();
const RngKey kKey{7, 3, 11};
}  // namespace

TEST_CASE("range quantization puts 2^b - 1 steps between the tensor's min and max") {
  // lo = -1, hi = 1, 2 bits: s = 2/3, (x + 1) / s = 0, 1.2, 1.95, 3 -> 0, 1, 2, 3.
  std::vector<float> x = {-1.0f, -0.2f, 0.3f, 1.0f};
  quantize_range(x.data(), x.size(), 2, Rounding::Nearest, kKey);
  CHECK_THAT(x[0], WithinAbs(-1.0, 1e-6));
  CHECK_THAT(x[1], WithinAbs(-1.0 / 3, 1e-6));
  CHECK_THAT(x[2], WithinAbs(1.0 / 3, 1e-6));
  CHECK_THAT(x[3], WithinAbs(1.0, 1e-6));
}

TEST_CASE("range quantization is asymmetric: an all-positive tensor keeps its own minimum") {
  // lo = 2, hi = 4, 3 bits: s = 2/7; 3.1 -> (1.1 / s) = 3.85 -> 4 -> 2 + 8/7.
  std::vector<float> x = {2.0f, 3.1f, 4.0f};
  quantize_range(x.data(), x.size(), 3, Rounding::Nearest, kKey);
  CHECK_THAT(x[0], WithinAbs(2.0, 1e-6));
  CHECK_THAT(x[1], WithinAbs(2.0 + 8.0 / 7.0, 1e-6));
  CHECK_THAT(x[2], WithinAbs(4.0, 1e-6));
}

TEST_CASE("per-row range quantization gives each output channel its own range") {
  // Row 0 in [0, 1], row 1 in [-10, 10]; 1 bit: each value snaps to its row's min or max.
  std::vector<float> x = {0.0f, 0.6f, 1.0f, -10.0f, -1.0f, 10.0f};
  quantize_range_rows(x.data(), 2, 3, 1, Rounding::Nearest, kKey);
  CHECK(x == std::vector<float>{0.0f, 1.0f, 1.0f, -10.0f, -10.0f, 10.0f});
}

TEST_CASE("a constant or all-zero tensor is left unchanged by range quantization") {
  std::vector<float> zero(5, 0.0f), same(5, -2.5f);
  quantize_range(zero.data(), zero.size(), 4, Rounding::Stochastic, kKey);
  quantize_range(same.data(), same.size(), 4, Rounding::Nearest, kKey);
  CHECK(zero == std::vector<float>(5, 0.0f));
  CHECK(same == std::vector<float>(5, -2.5f));
}

TEST_CASE("range quantization keeps NaN and saturates infinities to the finite range") {
  std::vector<float> x = {-1.0f, kNaN, kInf, -kInf, 1.0f};
  quantize_range(x.data(), x.size(), 4, Rounding::Nearest, kKey);
  CHECK(x[0] == -1.0f);
  CHECK(std::isnan(x[1]));
  CHECK(x[2] == 1.0f);
  CHECK(x[3] == -1.0f);
  CHECK(x[4] == 1.0f);
}

TEST_CASE("stochastic range rounding only picks the two neighbours and is unbiased") {
  // Grid of 2 bits on [0, 1] is {0, 1/3, 2/3, 1}; 0.3 rounds to 1/3 with
  // probability 0.9 and to 0 with 0.1: mean 0.3, standard deviation of one
  // rounding sqrt(0.9 * 0.1) / 3 = 0.1, so the mean of 100,000 is within 0.0015 (5 sigma).
  const std::size_t n = 100000;
  std::vector<float> x(n + 2, 0.3f);
  x[n] = 0.0f;
  x[n + 1] = 1.0f;
  quantize_range(x.data(), x.size(), 2, Rounding::Stochastic, kKey);
  double sum = 0;
  std::size_t ups = 0;
  for (std::size_t i = 0; i < n; ++i) {
    REQUIRE((std::fabs(x[i]) < 1e-7 || std::fabs(x[i] - 1.0f / 3.0f) < 1e-6));
    sum += x[i];
    ups += x[i] > 0.1f ? 1 : 0;
  }
  CHECK_THAT(sum / n, WithinAbs(0.3, 0.0015));
  CHECK_THAT(static_cast<double>(ups) / n, WithinAbs(0.9, 0.005));
}

TEST_CASE("the mean of one element's stochastic roundings over many iterations converges to it") {
  double sum = 0;
  const int trials = 20000;
  for (int t = 0; t < trials; ++t) {
    std::vector<float> x = {-1.0f, 0.123f, 1.0f};  // 3 bits on [-1, 1]: step 2/7
    quantize_range(x.data(), x.size(), 3, Rounding::Stochastic,
                   RngKey{1, static_cast<std::uint64_t>(t), 5});
    sum += x[1];
  }
  // One rounding's standard deviation is below step / 2 = 1/7; 20,000 trials: 5 sigma < 0.0051.
  CHECK_THAT(sum / trials, WithinAbs(0.123, 0.0051));
}

TEST_CASE("stochastic rounding is a pure function of seed, iteration, tensor and index") {
  std::vector<float> a(1000), b;
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = std::sin(static_cast<float>(i));
  b = a;
  std::vector<float> c = a;
  quantize_range(a.data(), a.size(), 4, Rounding::Stochastic, kKey);
  quantize_range(b.data(), b.size(), 4, Rounding::Stochastic, kKey);
  quantize_range(c.data(), c.size(), 4, Rounding::Stochastic, RngKey{7, 4, 11});
  CHECK(a == b);
  CHECK(a != c);
}

TEST_CASE("dynamic fixed point picks MuPPET's power-of-two scale") {
  // 8 bits: maxV = 127.5, minV = -128.5; max 0.5 -> 255, min -0.25 -> 514;
  // sf = floor(log2 255) = 7: values on a grid of 1/128.
  std::vector<float> x = {0.5f, -0.25f, 0.126f, -0.0041f};
  const int sf = quantize_dynamic_fixed(x.data(), x.size(), 8, Rounding::Nearest, kKey);
  CHECK(sf == 7);
  CHECK(x[0] == 0.5f);
  CHECK(x[1] == -0.25f);
  CHECK(x[2] == 0.125f);       // 16.128 -> 16
  CHECK(x[3] == -0.0078125f);  // -0.5248 -> -1
}

TEST_CASE("dynamic fixed point saturates infinities, keeps NaN, leaves zeros alone") {
  // Finite max 1: sf = floor(log2 127.5) = 6; +Inf -> 127 / 64, -Inf -> -128 / 64.
  std::vector<float> x = {1.0f, kInf, -kInf, kNaN, 0.0f};
  CHECK(quantize_dynamic_fixed(x.data(), x.size(), 8, Rounding::Nearest, kKey) == 6);
  CHECK(x[0] == 1.0f);
  CHECK(x[1] == 127.0f / 64.0f);
  CHECK(x[2] == -2.0f);
  CHECK(std::isnan(x[3]));
  CHECK(x[4] == 0.0f);
  std::vector<float> zeros(4, 0.0f);
  CHECK(quantize_dynamic_fixed(zeros.data(), zeros.size(), 8, Rounding::Stochastic, kKey) == 0);
  CHECK(zeros == std::vector<float>(4, 0.0f));
}

TEST_CASE("dynamic fixed point handles an all-negative tensor") {
  // 4 bits: maxV = 7.5, minV = -8.5; max -1 -> 7.5, min -3 -> 2.83; sf = floor(log2 2.83) = 1.
  std::vector<float> x = {-3.0f, -1.0f, -2.2f};
  CHECK(quantize_dynamic_fixed(x.data(), x.size(), 4, Rounding::Nearest, kKey) == 1);
  CHECK(x == std::vector<float>{-3.0f, -1.0f, -2.0f});  // -4.4 -> -4 -> -2
}

TEST_CASE("minifloat e4m3 rounds to 3 mantissa bits, saturates at 448, keeps subnormals") {
  std::vector<float> x = {1.0625f, 1.1f,    0.3f, 1000.0f, -1000.0f, kInf,
                          0.001f,  0.0009f, 0.0f, -0.3f,   kNaN};
  quantize_minifloat(x.data(), x.size(), 4, 3, Rounding::Nearest, kKey);
  CHECK(x[0] == 1.0f);  // tie between 1 and 1.125: to even
  CHECK(x[1] == 1.125f);
  CHECK(x[2] == 0.3125f);  // quantum 2^-5: 9.6 -> 10
  CHECK(x[3] == 448.0f);   // OCP FP8 E4M3 max
  CHECK(x[4] == -448.0f);
  CHECK(x[5] == 448.0f);
  CHECK(x[6] == 0.001953125f);  // smallest subnormal 2^-9: 0.512 -> 1
  CHECK(x[7] == 0.0f);          // 0.46 -> 0
  CHECK(x[8] == 0.0f);
  CHECK(x[9] == -0.3125f);
  CHECK(std::isnan(x[10]));
  CHECK(minifloat_max(4, 3) == 448.0f);
}

TEST_CASE("minifloat e5m2 and fp16 have IEEE maxima") {
  CHECK(minifloat_max(5, 2) == 57344.0f);
  CHECK(minifloat_max(5, 10) == 65504.0f);
  std::vector<float> x = {60000.0f, 3.0f, 1.0f / 3.0f};
  quantize_minifloat(x.data(), 2, 5, 2, Rounding::Nearest, kKey);
  CHECK(x[0] == 57344.0f);
  CHECK(x[1] == 3.0f);
  quantize_minifloat(x.data() + 2, 1, 5, 10, Rounding::Nearest, kKey);
  CHECK(x[2] == 0.333251953125f);  // 1365 / 4096: fp16's nearest to 1/3
}

TEST_CASE("stochastic minifloat rounding is unbiased") {
  // e5m2 around 1: quantum 0.25; 1.1 -> 1.0 (p = 0.6) or 1.25 (p = 0.4).
  const std::size_t n = 100000;
  std::vector<float> x(n, 1.1f);
  quantize_minifloat(x.data(), n, 5, 2, Rounding::Stochastic, kKey);
  double sum = 0;
  for (float v : x) {
    REQUIRE((v == 1.0f || v == 1.25f));
    sum += v;
  }
  // One rounding's sd = 0.25 sqrt(0.24) = 0.122; mean of 1e5 within 5 sigma = 0.0020.
  CHECK_THAT(sum / n, WithinAbs(1.1, 0.002));
}

TEST_CASE("fp32 and integer widths of 24 bits or more are the identity") {
  std::vector<float> x = {0.1f, -3.7f, 1e-30f};
  const auto y = x;
  quantize(Format::fp32(), IntMethod::Range, x.data(), 1, 3, Rounding::Stochastic, kKey);
  quantize(Format::integer(32), IntMethod::DynamicFixed, x.data(), 1, 3, Rounding::Nearest, kKey);
  CHECK(x == y);
  CHECK(is_identity(Format::integer(24)));
  CHECK_FALSE(is_identity(Format::integer(23)));
  CHECK_FALSE(is_identity(Format::floating(8, 7)));
}

TEST_CASE("bad quantizer widths and formats are input errors") {
  std::vector<float> x = {1.0f, 2.0f};
  CHECK_THROWS_AS(quantize_range(x.data(), 2, 0, Rounding::Nearest, kKey), InputError);
  CHECK_THROWS_AS(quantize_minifloat(x.data(), 2, 9, 3, Rounding::Nearest, kKey), InputError);
  CHECK_THROWS_AS(parse_int_method("log"), InputError);
}

TEST_CASE("quantizing in parallel blocks gives the serial result bit for bit") {
  const std::size_t n = 5 * kQuantBlock + 123;
  std::vector<float> base(n);
  for (std::size_t i = 0; i < n; ++i) base[i] = std::sin(0.001f * static_cast<float>(i)) * 3.0f;
  base[n - 1] = 9.0f;  // the range's maximum sits in the last, short block
  // Blocks run in reverse order on the calling thread: order must not matter.
  const ParallelFor reversed = [](std::int64_t count, const std::function<void(std::int64_t)>& fn) {
    for (std::int64_t i = count - 1; i >= 0; --i) fn(i);
  };
  for (const Format f : {Format::integer(5), Format::floating(4, 3)})
    for (const IntMethod m : {IntMethod::Range, IntMethod::DynamicFixed})
      for (const Rounding r : {Rounding::Nearest, Rounding::Stochastic}) {
        std::vector<float> serial = base, parallel = base;
        quantize(f, m, serial.data(), 1, n, r, kKey);
        quantize(f, m, parallel.data(), 1, n, r, kKey, reversed);
        CHECK(serial == parallel);
        CHECK(serial != base);
      }
}

TEST_CASE("quantizers count overflow: NaN, Inf and values rounding past the largest finite") {
  // e4m3 near its max 448 = 1.75 * 2^8: quantum 2^(8-3) = 32. 460 / 32 = 14.4 -> 14 -> 448
  // (fits); 470 / 32 = 14.7 -> 15 -> 480 > 448 (overflow, saturated to 448).
  std::vector<float> x = {460.0f, 470.0f, -470.0f, 1.0f, kInf, kNaN};
  CHECK(quantize_minifloat(x.data(), x.size(), 4, 3, Rounding::Nearest, kKey) == 4);
  CHECK(x[1] == 448.0f);
  CHECK(x[2] == -448.0f);
  // e5m2 max 57344 = 7 * 2^13 (quantum 8192): 60000 -> 7 (fits); 61440 = 7.5 quanta is a
  // tie, to even 8 = 65536, past the max: IEEE round-to-nearest gives Inf there.
  std::vector<float> y = {60000.0f, 61440.0f};
  CHECK(quantize_minifloat(y.data(), y.size(), 5, 2, Rounding::Nearest, kKey) == 1);
  CHECK(y[1] == 57344.0f);
  // Integer quantizers adapt their range: only non-finite values overflow.
  std::vector<float> z = {1e30f, -2.0f, kNaN, 3.0f};
  CHECK(quantize(Format::integer(8), IntMethod::Range, z.data(), 1, z.size(), Rounding::Nearest,
                 kKey) == 1);
  std::vector<float> w = {kInf, 0.5f, -0.25f};
  CHECK(quantize(Format::integer(8), IntMethod::DynamicFixed, w.data(), 1, w.size(),
                 Rounding::Nearest, kKey) == 1);
  // Identity formats quantize nothing and report nothing.
  CHECK(quantize(Format::fp32(), IntMethod::Range, w.data(), 1, w.size(), Rounding::Nearest,
                 kKey) == 0);
}

TEST_CASE("the parallel quantizer counts the same overflow as the serial one") {
  const std::size_t n = 3 * kQuantBlock + 5;
  std::vector<float> a(n);
  for (std::size_t i = 0; i < n; ++i)
    a[i] = (i % 997 == 0) ? 1e6f : std::sin(0.01f * static_cast<float>(i));
  std::vector<float> b = a;
  const ParallelFor serial_blocks = [](std::int64_t count,
                                       const std::function<void(std::int64_t)>& fn) {
    for (std::int64_t i = count - 1; i >= 0; --i) fn(i);  // any order
  };
  const Format e5m2 = Format::floating(5, 2);
  const std::size_t serial =
      quantize(e5m2, IntMethod::Range, a.data(), 1, n, Rounding::Stochastic, kKey);
  const std::size_t blocked =
      quantize(e5m2, IntMethod::Range, b.data(), 1, n, Rounding::Stochastic, kKey, serial_blocks);
  CHECK(serial == (n + 996) / 997);  // every 1e6 is past 57344
  CHECK(blocked == serial);
  CHECK(a == b);
}

TEST_CASE("range and dfx quantizers give the element-wise formula bit for bit at any length") {
  // The formulas of quantize.h evaluated one element at a time, against the
  // quantizers (whose bodies run 16 elements at a time where the CPU can, and
  // the rest one by one): lengths around the vector width, NaN and Inf inside.
  for (const std::size_t n : {std::size_t{1}, std::size_t{15}, std::size_t{16}, std::size_t{17},
                              std::size_t{100}, std::size_t{1000}})
    for (const Rounding r : {Rounding::Nearest, Rounding::Stochastic})
      for (const int bits : {2, 5, 8}) {
        std::vector<float> x(n);
        for (std::size_t i = 0; i < n; ++i) x[i] = std::sin(0.37f * static_cast<float>(i)) * 2.5f;
        if (n > 20) x[3] = kNaN, x[19] = kInf, x[n - 1] = -kInf;
        float lo = kInf, hi = -kInf;
        for (float v : x)
          if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
        const std::uint64_t base = kKey.base();
        // Range: s = (hi - lo) / L, v = (x - lo) / s (+ u), clamp to [0, L], round, q s + lo.
        std::vector<float> want(n), got = x;
        const float L = static_cast<float>((1 << bits) - 1), s = (hi - lo) / L;
        for (std::size_t i = 0; i < n; ++i) {
          float v = (x[i] - lo) / s;
          if (r == Rounding::Stochastic) v += uniform01(base, i);
          v = std::isnan(v) ? v : std::clamp(v, 0.0f, L);
          const float q = r == Rounding::Nearest ? std::nearbyint(v) : std::floor(v);
          want[i] = std::isnan(x[i]) ? x[i] : q * s + lo;
        }
        if (n > 1) {
          quantize_range(got.data(), n, bits, r, kKey);
          for (std::size_t i = 0; i < n; ++i)
            CHECK((std::isnan(want[i]) ? std::isnan(got[i]) : got[i] == want[i]));
        }
        // Dynamic fixed point: x 2^sf (+ u), clamp to [-2^(b-1), 2^(b-1) - 1], round, / 2^sf.
        got = x;
        const int sf = quantize_dynamic_fixed(got.data(), n, bits, r, kKey);
        const float qmax = std::ldexp(1.0f, bits - 1) - 1.0f, qmin = -qmax - 1.0f;
        for (std::size_t i = 0; i < n; ++i) {
          float v = x[i] * std::ldexp(1.0f, sf);
          if (r == Rounding::Stochastic) v += uniform01(base, i);
          v = std::isnan(v) ? v : std::clamp(v, qmin, qmax);
          const float q = r == Rounding::Nearest ? std::nearbyint(v) : std::floor(v);
          const float w = std::isnan(x[i]) ? x[i] : q * std::ldexp(1.0f, -sf);
          CHECK((std::isnan(w) ? std::isnan(got[i]) : got[i] == w));
        }
      }
}

TEST_CASE("quantize_to leaves its source alone and writes what quantize writes in place") {
  std::vector<float> x(3 * kQuantBlock + 5);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = 1.5f + std::cos(0.01f * static_cast<float>(i));
  // The minimum is zero twice, with both signs: the first zero sets the
  // offset's sign, as the serial min (v < lo ? v : lo) does.
  for (const float first_zero : {0.0f, -0.0f})
    for (std::size_t second = 8; second < 24; ++second) {  // every other lane of the same block
      std::fill(x.begin() + 7, x.begin() + 24, 1.0f);
      x[7] = first_zero;
      x[second] = -first_zero;
      for (const Format f : {Format::integer(4), Format::integer(8), Format::floating(5, 2)})
        for (const Rounding r : {Rounding::Nearest, Rounding::Stochastic}) {
          const std::vector<float> src = x;
          std::vector<float> in_place = x, out(x.size());
          QuantCodes a, b;
          quantize(f, IntMethod::Range, in_place.data(), 1, x.size(), r, kKey, {}, &a);
          quantize_to(f, IntMethod::Range, src.data(), out.data(), 1, x.size(), r, kKey, {}, &b);
          CHECK(std::equal(src.begin(), src.end(), x.begin(),
                           [](float p, float q) { return std::memcmp(&p, &q, sizeof p) == 0; }));
          CHECK(out == in_place);
          CHECK(a.code == b.code);
          if (!f.is_float()) {
            REQUIRE(b.valid);
            CHECK(b.offset[0] == 0.0f);
            CHECK(std::signbit(b.offset[0]) == std::signbit(first_zero));
          }
        }
    }
}
