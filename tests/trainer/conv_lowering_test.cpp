// Conv lowering (trainer/impl/conv_lowering.h): on random shapes beyond the
// zoo's, every path this CPU has (scalar, AVX-512, AVX-512 VBMI) gives the
// bytes of im2col's formula and the floats of col2im_add's, which are the
// loops written here. Samples are lowered last to first, as parallel chunks
// may, so a path that writes past its sample's block is caught.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "trainer/impl/conv_lowering.h"
#include "trainer/impl/cpu.h"

using namespace lpsim::trainer;
using impl::ConvShape;
using impl::LoweringPath;

namespace {

constexpr int kShapes = 400;
constexpr std::int64_t kGuard = 64;  // elements past the batch's blocks that must stay as they were

struct Case {
  ConvShape s;
  std::int64_t batch = 1;
};

std::string describe(const Case& c) {
  const ConvShape& s = c.s;
  return "batch " + std::to_string(c.batch) + ", C " + std::to_string(s.C) + ", H x W " +
         std::to_string(s.H) + " x " + std::to_string(s.W) + ", kernel " + std::to_string(s.KH) +
         " x " + std::to_string(s.KW) + ", stride " + std::to_string(s.stride) + ", pad " +
         std::to_string(s.pad);
}

// Channels 1..9, H and W 1..40, kernels 1..7 each way, padding 0..3 (also
// wider than the kernel), stride 1 (the AVX-512 paths) in three shapes of
// four, else 2 or 3; batches of 1..3 samples.
Case random_case(std::mt19937_64& rng) {
  auto pick = [&rng](std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
  };
  Case c;
  ConvShape& s = c.s;
  do {
    s.C = pick(1, 9), s.H = pick(1, 40), s.W = pick(1, 40);
    s.KH = pick(1, 7), s.KW = pick(1, 7), s.pad = pick(0, 3);
    s.stride = pick(0, 3) == 0 ? pick(2, 3) : 1;
  } while (s.H + 2 * s.pad < s.KH || s.W + 2 * s.pad < s.KW);
  s.OH = (s.H + 2 * s.pad - s.KH) / s.stride + 1;
  s.OW = (s.W + 2 * s.pad - s.KW) / s.stride + 1;
  s.K = s.C * s.KH * s.KW;
  s.P = s.OH * s.OW;
  c.batch = pick(1, 3);
  return c;
}

// The paths to compare: those this CPU has, as production checks it.
std::vector<LoweringPath> paths_here() {
  std::vector<LoweringPath> out = {LoweringPath::Scalar};
  if (impl::have_avx512())
    out.push_back(LoweringPath::Avx512);
  else
    WARN("this CPU lacks AVX-512 (F, BW, DQ, VL): its paths are not compared");
  if (impl::have_avx512vbmi())
    out.push_back(LoweringPath::Vbmi);
  else
    WARN("this CPU lacks AVX-512 VBMI: im2col's VBMI path is not compared");
  return out;
}

const char* name(LoweringPath p) {
  return p == LoweringPath::Scalar ? "scalar" : p == LoweringPath::Avx512 ? "avx512" : "vbmi";
}

// The first element whose bytes differ, or -1.
template <typename T>
std::int64_t first_difference(const std::vector<T>& got, const std::vector<T>& want) {
  for (std::size_t i = 0; i < want.size(); ++i)
    if (std::memcmp(&got[i], &want[i], sizeof(T)) != 0) return static_cast<std::int64_t>(i);
  return -1;
}

// Calls tap(i, j) for each element j of one sample's [K x P] block, c, kh,
// kw outermost, with the index i of the image element it reads, or -1
// outside the image.
template <typename Tap>
void for_each_tap(const ConvShape& s, const Tap& tap) {
  for (std::int64_t c = 0; c < s.C; ++c)
    for (std::int64_t kh = 0; kh < s.KH; ++kh)
      for (std::int64_t kw = 0; kw < s.KW; ++kw)
        for (std::int64_t oh = 0; oh < s.OH; ++oh)
          for (std::int64_t ow = 0; ow < s.OW; ++ow) {
            const std::int64_t ih = oh * s.stride - s.pad + kh, iw = ow * s.stride - s.pad + kw;
            const bool inside = ih >= 0 && ih < s.H && iw >= 0 && iw < s.W;
            tap(inside ? (c * s.H + ih) * s.W + iw : -1,
                ((c * s.KH + kh) * s.KW + kw) * s.P + oh * s.OW + ow);
          }
}

// im2col's formula, one sample.
void im2col_formula(const ConvShape& s, const std::uint8_t* x, std::uint8_t* col,
                    std::uint8_t fill) {
  for_each_tap(s, [&](std::int64_t i, std::int64_t j) { col[j] = i >= 0 ? x[i] : fill; });
}

// col2im_add's formula, one sample: each element of x adds its terms in
// (kh, kw) order.
void col2im_add_formula(const ConvShape& s, const float* col, float* x) {
  for_each_tap(s, [&](std::int64_t i, std::int64_t j) {
    if (i >= 0) x[i] += col[j];
  });
}

// Floats whose sums round differently in another order: signed zeros (in
// `zeros` of the draws, to keep some sums at -0.0f), subnormals, infinities
// now and then, else any sign and a binary exponent in [-12, 12].
float random_float(std::mt19937_64& rng, double zeros) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const double r = u(rng);
  const float sign = u(rng) < 0.5 ? -1.0f : 1.0f;
  if (r < zeros) return u(rng) < 0.75 ? -0.0f : 0.0f;
  if (r < zeros + 0.02) return sign * std::numeric_limits<float>::denorm_min() * 37.0f;
  if (r < zeros + 0.025) return sign * std::numeric_limits<float>::infinity();
  const int e = std::uniform_int_distribution<int>(-12, 12)(rng);
  return sign * std::ldexp(static_cast<float>(u(rng)) + 1.0f, e);
}

}  // namespace

TEST_CASE("im2col of codes: every path writes the formula's bytes and no others, any shape") {
  std::mt19937_64 rng(20261130);
  const std::vector<LoweringPath> paths = paths_here();
  int taken[3] = {};
  for (int trial = 0; trial < kShapes; ++trial) {
    const Case c = random_case(rng);
    const ConvShape& s = c.s;
    const int bits = std::uniform_int_distribution<int>(1, 8)(rng);
    std::uniform_int_distribution<int> code(0, (1 << bits) - 1);
    const auto fill = static_cast<std::uint8_t>(code(rng));  // the zero point
    const std::int64_t in = s.C * s.H * s.W, block = s.K * s.P;
    std::vector<std::uint8_t> x(static_cast<std::size_t>(c.batch * in));
    for (auto& v : x) v = static_cast<std::uint8_t>(code(rng));
    std::vector<std::uint8_t> want(static_cast<std::size_t>(c.batch * block + kGuard), 0x5a);
    for (std::int64_t b = 0; b < c.batch; ++b)
      im2col_formula(s, x.data() + b * in, want.data() + b * block, fill);
    INFO(describe(c) << ", fill " << int{fill});
    for (LoweringPath most : paths) {
      const LoweringPath path = impl::im2col_codes_path(s, most);
      ++taken[static_cast<int>(path)];
      INFO("paths up to " << name(most) << ": ran " << name(path));
      std::vector<std::uint8_t> got(want.size(), 0x5a);
      // Every byte of the blocks must be written: start them at a byte that
      // codes of fewer than 8 bits never take.
      std::fill(got.begin(), got.end() - kGuard, static_cast<std::uint8_t>(~fill));
      for (std::int64_t b = c.batch - 1; b >= 0; --b)
        impl::im2col_codes(s, x.data() + b * in, got.data() + b * block, fill, most);
      REQUIRE(first_difference(got, want) == -1);
    }
    // The production call (the best path here) is one of those.
    std::vector<std::uint8_t> got(want.size(), 0x5a);
    for (std::int64_t b = c.batch - 1; b >= 0; --b)
      impl::im2col_codes(s, x.data() + b * in, got.data() + b * block, fill);
    REQUIRE(first_difference(got, want) == -1);
  }
  // Each path this CPU has ran on many of the shapes.
  for (LoweringPath p : paths) {
    INFO(name(p) << " ran " << taken[static_cast<int>(p)] << " times");
    CHECK(taken[static_cast<int>(p)] >= kShapes / 10);
  }
}

TEST_CASE("col2im_add: every path adds the formula's floats bit for bit, signed zeros included") {
  std::mt19937_64 rng(20261201);
  std::vector<LoweringPath> paths = paths_here();
  paths.erase(std::remove(paths.begin(), paths.end(), LoweringPath::Vbmi), paths.end());
  int taken[3] = {};
  for (int trial = 0; trial < kShapes; ++trial) {
    const Case c = random_case(rng);
    const ConvShape& s = c.s;
    // One shape in three mostly signed zeros: an element that only adds
    // -0.0f stays -0.0f, which adding a +0.0f for a lane outside the
    // kernel's window would turn into +0.0f.
    const double zeros = trial % 3 == 0 ? 0.9 : 0.05;
    const std::int64_t in = s.C * s.H * s.W, block = s.K * s.P;
    std::vector<float> col(static_cast<std::size_t>(c.batch * block));
    for (auto& v : col) v = random_float(rng, zeros);
    std::vector<float> x0(static_cast<std::size_t>(c.batch * in + kGuard));
    for (auto& v : x0) v = random_float(rng, zeros);
    std::vector<float> want = x0;
    for (std::int64_t b = 0; b < c.batch; ++b)
      col2im_add_formula(s, col.data() + b * block, want.data() + b * in);
    INFO(describe(c));
    for (LoweringPath most : paths) {
      const LoweringPath path = impl::col2im_add_path(s, most);
      ++taken[static_cast<int>(path)];
      INFO("paths up to " << name(most) << ": ran " << name(path));
      std::vector<float> got = x0;
      for (std::int64_t b = c.batch - 1; b >= 0; --b)
        impl::col2im_add(s, col.data() + b * block, got.data() + b * in, most);
      REQUIRE(first_difference(got, want) == -1);
    }
    std::vector<float> got = x0;
    for (std::int64_t b = c.batch - 1; b >= 0; --b)
      impl::col2im_add(s, col.data() + b * block, got.data() + b * in);
    REQUIRE(first_difference(got, want) == -1);
  }
  for (LoweringPath p : paths) {
    INFO(name(p) << " ran " << taken[static_cast<int>(p)] << " times");
    CHECK(taken[static_cast<int>(p)] >= kShapes / 10);
  }
}

TEST_CASE("conv lowering: only stride 1 takes an AVX-512 path, and only one the CPU has") {
  ConvShape s;
  s.C = 3, s.H = s.W = 12, s.KH = s.KW = 3, s.pad = 1, s.stride = 2;
  s.OH = s.OW = 6, s.K = 27, s.P = 36;
  CHECK(impl::im2col_codes_path(s, LoweringPath::Vbmi) == LoweringPath::Scalar);
  CHECK(impl::col2im_add_path(s, LoweringPath::Vbmi) == LoweringPath::Scalar);
  s.stride = 1, s.OH = s.OW = 12, s.P = 144;
  const LoweringPath best = impl::best_lowering_path();
  CHECK(impl::im2col_codes_path(s, LoweringPath::Scalar) == LoweringPath::Scalar);
  // 64 / 12 = 5 output rows of a 14-byte padded row: 4 x 14 + 12 + 2 = 70 bytes read.
  CHECK(impl::im2col_codes_path(s, LoweringPath::Vbmi) == best);
  CHECK(impl::col2im_add_path(s, LoweringPath::Vbmi) ==
        (best == LoweringPath::Scalar ? LoweringPath::Scalar : LoweringPath::Avx512));
  // 64 output rows of 1 byte read 63 padded rows of 3 bytes: beyond vpermt2b's 128.
  s.C = 1, s.H = 70, s.W = 1, s.KH = s.KW = 3, s.OH = 70, s.OW = 1, s.K = 9, s.P = 70;
  CHECK(impl::im2col_codes_path(s, LoweringPath::Vbmi) ==
        (best == LoweringPath::Scalar ? LoweringPath::Scalar : LoweringPath::Avx512));
}
