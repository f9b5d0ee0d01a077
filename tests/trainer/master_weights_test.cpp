// 16-bit master weights (trainer/master_weights.h): rounding to bf16 / fp16
// against hand-worked bit patterns, and what nearest and stochastic
// rounding do to updates smaller than half an ulp.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/error.h"
#include "trainer/master_weights.h"

using namespace lpsim;
using namespace lpsim::trainer;

namespace {

float from_bits(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}
std::uint32_t to_bits(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

MasterWeights master(const char* format, Rounding r = Rounding::Nearest) {
  MasterWeights m;
  m.format = parse_master_format(format);
  m.rounding = r;
  return m;
}

// Rounds one value; `saturated` receives the returned count.
std::uint32_t round_bits(const MasterWeights& m, std::uint32_t in, std::size_t* saturated = nullptr) {
  float x = from_bits(in);
  const std::size_t s = round_to_master(m, &x, 1, RngKey{});
  if (saturated) *saturated = s;
  return to_bits(x);
}

}  // namespace

TEST_CASE("bf16 master weights keep the top 16 bits of float32, rounding to nearest even") {
  const MasterWeights bf16 = master("bf16");
  // bf16 is float32's sign, exponent and top 7 mantissa bits: a result is
  // exact when its low 16 bits are zero. At 1.0 its ulp is 2^-7.
  CHECK(round_bits(bf16, 0x3F800000u) == 0x3F800000u);  // 1.0 exact
  CHECK(round_bits(bf16, 0x3F808000u) == 0x3F800000u);  // 1 + 2^-8: a tie, to even (0x3F80)
  CHECK(round_bits(bf16, 0x3F818000u) == 0x3F820000u);  // 1 + 3 2^-8: a tie, to even (0x3F82)
  CHECK(round_bits(bf16, 0x3F808001u) == 0x3F810000u);  // just above the tie: up
  CHECK(round_bits(bf16, 0x3F807FFFu) == 0x3F800000u);  // just below: down
  CHECK(round_bits(bf16, 0x40490FDBu) == 0x40490000u);  // pi: low half 0x0FDB < 0x8000
  CHECK(round_bits(bf16, 0xBF808000u) == 0xBF800000u);  // -(1 + 2^-8): tie, to even
  // Subnormal bf16 (below 2^-126): quantum 2^-133. 1.5 quanta is a tie
  // between 1 and 2 quanta: to even, 2 quanta = 2^-132 (float32 bits 1 << 17).
  CHECK(round_bits(bf16, 3u << 15) == 1u << 17);
  CHECK(round_bits(bf16, 1u << 16) == 1u << 16);  // 2^-133, the smallest bf16: exact
  // The largest bf16 is 0x7F7F0000 = (2 - 2^-7) 2^127; float32's largest
  // rounds past it: saturated (no Inf), and counted.
  std::size_t sat = 0;
  CHECK(round_bits(bf16, 0x7F7FFFFFu, &sat) == 0x7F7F0000u);
  CHECK(sat == 1);
}

TEST_CASE("fp16 master weights round to nearest even, with subnormals and saturation") {
  const MasterWeights fp16 = master("fp16");
  auto r = [&](float v) { return round_bits(fp16, to_bits(v)); };
  // At 1.0 fp16's ulp is 2^-10.
  CHECK(r(1.0f + std::ldexp(1.0f, -11)) == to_bits(1.0f));                          // tie: to even
  CHECK(r(1.0f + 3 * std::ldexp(1.0f, -11)) == to_bits(1.0f + std::ldexp(1.0f, -9)));  // tie: to even
  CHECK(r(1.0f + std::ldexp(1.0f, -11) + std::ldexp(1.0f, -20)) ==
        to_bits(1.0f + std::ldexp(1.0f, -10)));  // above the tie: up
  // Subnormals: quantum 2^-24 below 2^-14.
  CHECK(r(std::ldexp(1.0f, -25)) == to_bits(0.0f));                  // half a quantum: tie, to 0
  CHECK(r(3 * std::ldexp(1.0f, -26)) == to_bits(std::ldexp(1.0f, -24)));  // 0.75 quantum: up
  CHECK(r(3 * std::ldexp(1.0f, -25)) == to_bits(std::ldexp(1.0f, -23)));  // 1.5 quanta: to even, 2
  CHECK(r(std::ldexp(1.0f, -14) - std::ldexp(1.0f, -24)) ==
        to_bits(std::ldexp(1.0f, -14) - std::ldexp(1.0f, -24)));  // the largest subnormal: exact
  // The largest fp16 is 65504; the top binade's quantum is 32, so 65519
  // rounds down to it and 65520 (the tie with 65536) rounds past it:
  // saturated to 65504 and counted as an overflow.
  std::size_t sat = 0;
  CHECK(from_bits(round_bits(fp16, to_bits(65519.0f), &sat)) == 65504.0f);
  CHECK(sat == 0);
  CHECK(from_bits(round_bits(fp16, to_bits(65520.0f), &sat)) == 65504.0f);
  CHECK(sat == 1);
  CHECK(from_bits(round_bits(fp16, to_bits(-70000.0f), &sat)) == -65504.0f);
}

TEST_CASE("fp32 master weights are left as they are") {
  const MasterWeights fp32 = master("fp32", Rounding::Nearest);
  CHECK(fp32.is_fp32());
  CHECK(round_bits(fp32, 0x3F808001u) == 0x3F808001u);
}

TEST_CASE("updates below half an ulp are lost with nearest, kept on average with stochastic") {
  // 4096 weights at 1.0 in bf16 (ulp 2^-7 above 1), gradient -2^-9 each step,
  // lr 1, no momentum or decay: each step adds 2^-9, a quarter ulp.
  const std::size_t n = 4096;
  const float step = std::ldexp(1.0f, -9);
  auto run = [&](Rounding rounding, int steps) {
    Param p;
    p.name = "w";
    p.value.assign(n, 1.0f);
    p.momentum.assign(n, 0.0f);
    p.grad.assign(n, -step);
    const MasterWeights m = master("bf16", rounding);
    for (int t = 0; t < steps; ++t)
      sgd_step_master({&p}, 1.0f, 0.0f, 0.0f, m, 7, static_cast<std::uint64_t>(t));
    double sum = 0;
    for (float w : p.value) sum += w;
    return std::pair(sum / static_cast<double>(n), p.value);
  };
  const int steps = 16;
  const auto [nearest_mean, nearest] = run(Rounding::Nearest, steps);
  for (float w : nearest) REQUIRE(w == 1.0f);  // 1 + 2^-9 rounds back to 1, every step
  CHECK(nearest_mean == 1.0);
  // Stochastic rounding is unbiased: E[w] = 1 + 16 x 2^-9 = 1.03125. Each
  // step adds variance at most ulp^2 / 4 = 2^-16 (ulp 2^-7 up to 2), so a
  // weight's deviation is at most sqrt(16 x 2^-16) = 2^-6 and the mean's
  // over 4096 weights 2^-12: 5 of those is the bound.
  const auto [stochastic_mean, stochastic] = run(Rounding::Stochastic, steps);
  CHECK(std::fabs(stochastic_mean - (1.0 + steps * std::ldexp(1.0, -9))) < 5 * std::ldexp(1.0, -12));
  for (float w : stochastic) {  // every stored value is a bf16
    std::uint32_t u;
    std::memcpy(&u, &w, sizeof u);
    REQUIRE((u & 0xFFFFu) == 0);
  }
}

TEST_CASE("momenta are stored in the master format too") {
  Param p;
  p.name = "w";
  p.value.assign(1, 0.0f);
  p.momentum.assign(1, 0.0f);
  p.grad.assign(1, 1.0f + std::ldexp(1.0f, -9));  // not a bf16: 1 + 2^-9 -> 1.0
  sgd_step_master({&p}, 1.0f, 0.9f, 0.0f, master("bf16"), 1, 0);
  CHECK(p.momentum[0] == 1.0f);
  CHECK(p.value[0] == -1.0f);
}

TEST_CASE("master-weight options outside their lists are input errors naming them") {
  CHECK_THROWS_WITH(parse_master_format("fp8"),
                    Catch::Contains("--master-weights fp8") && Catch::Contains("fp32, fp16, bf16"));
  CHECK_THROWS_WITH(parse_master_rounding("up"),
                    Catch::Contains("--master-rounding up") && Catch::Contains("nearest, stochastic"));
}
