// Quantizers: range-based linear (CPT), dynamic fixed point (MuPPET),
// minifloat. Loops are written branch-free over float arrays so the compiler
// can vectorise them; rounding uses the 1.5 * 2^23 trick (round half to even
// under the default rounding mode) wherever the scaled value is below 2^22.
#include "trainer/quantize.h"

#include <fmt/format.h>
#include <immintrin.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "core/error.h"
#include "trainer/impl/cpu.h"

namespace lpsim::trainer {
namespace {

constexpr float kMagic = 12582912.0f;  // 1.5 * 2^23

// Round half to even for |v| <= 2^22 (NaN and Inf pass through).
inline float rne(float v) { return (v + kMagic) - kMagic; }

// floor for |v| < 2^31 (NaN gives garbage: callers restore NaN afterwards).
inline float floor_small(float v) {
  const float t = static_cast<float>(static_cast<std::int32_t>(v));
  return t > v ? t - 1.0f : t;
}

inline std::uint32_t bits_of(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}
inline float float_of(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

// Min and max over the finite elements; lo > hi when there are none.
// Returns how many elements are not finite (NaN, +-Inf). The serial
// definition: l = v < l ? v : l in index order, i.e. the FIRST element equal
// to the minimum (which matters only for the sign of a zero minimum).
std::size_t finite_range_scalar(const float* x, std::size_t n, float& lo, float& hi) {
  float l = std::numeric_limits<float>::infinity();
  float h = -std::numeric_limits<float>::infinity();
  std::size_t nonfinite = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const float v = x[i];
    const bool finite = std::fabs(v) <= FLT_MAX;  // false for NaN and +-Inf
    l = (finite && v < l) ? v : l;
    h = (finite && v > h) ? v : h;
    nonfinite += finite ? 0u : 1u;
  }
  lo = l;
  hi = h;
  return nonfinite;
}

// ---- AVX-512 forms of the hot loops (compiled per function, chosen at run
// time). Each does, per element, exactly the float operations of the scalar
// loop (the trainer target is built with -ffp-contract=off, so a * b + c
// stays two roundings); max_ps(c, v) / min_ps(c, v) return v when the
// comparison is false, as the scalar selects do for NaN.
using impl::have_avx512;  // trainer/impl/cpu.h
#define LPSIM_AVX512 __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl")))
// GCC 12's AVX-512 headers start some intrinsics from _mm512_undefined_*,
// which -Wmaybe-uninitialized reports falsely once they are inlined.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

LPSIM_AVX512 std::size_t finite_range_avx512(const float* x, std::size_t n, float& lo, float& hi) {
  const __m512 fmax = _mm512_set1_ps(FLT_MAX);
  __m512 l = _mm512_set1_ps(std::numeric_limits<float>::infinity());
  __m512 h = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  std::size_t nonfinite = 0, i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 v = _mm512_loadu_ps(x + i);
    const __mmask16 fin = _mm512_cmp_ps_mask(_mm512_abs_ps(v), fmax, _CMP_LE_OQ);
    l = _mm512_mask_mov_ps(l, fin & _mm512_cmp_ps_mask(v, l, _CMP_LT_OQ), v);
    h = _mm512_mask_mov_ps(h, fin & _mm512_cmp_ps_mask(v, h, _CMP_GT_OQ), v);
    nonfinite += static_cast<std::size_t>(16 - __builtin_popcount(fin));
  }
  float tl, th;
  nonfinite += finite_range_scalar(x + i, n - i, tl, th);
  lo = std::min(_mm512_reduce_min_ps(l), tl);
  hi = std::max(_mm512_reduce_max_ps(h), th);
  return nonfinite;
}

std::size_t finite_range(const float* x, std::size_t n, float& lo, float& hi) {
  if (!have_avx512() || n < 64) return finite_range_scalar(x, n, lo, hi);
  const std::size_t nonfinite = finite_range_avx512(x, n, lo, hi);
  // Lanes lose the order; a zero extreme takes the sign of the first zero.
  if (lo == 0.0f) lo = *std::find(x, x + n, 0.0f);
  if (hi == 0.0f) hi = *std::find(x, x + n, 0.0f);
  return nonfinite;
}

// floor(v) as floor_small computes it (truncate, then step down), 16 lanes.
LPSIM_AVX512 inline __m512 floor_small16(__m512 v) {
  const __m512 t = _mm512_cvtepi32_ps(_mm512_cvttps_epi32(v));
  return _mm512_mask_sub_ps(t, _mm512_cmp_ps_mask(t, v, _CMP_GT_OQ), t, _mm512_set1_ps(1.0f));
}

// The top 24 bits of mix64(base + (first + j) * golden), j = 0..7 (uniform01).
LPSIM_AVX512 inline __m256i random24x8(std::uint64_t base, std::uint64_t first) {
  const __m512i golden = _mm512_set1_epi64(static_cast<long long>(0x9e3779b97f4a7c15ULL));
  const __m512i c1 = _mm512_set1_epi64(static_cast<long long>(0xbf58476d1ce4e5b9ULL));
  const __m512i c2 = _mm512_set1_epi64(static_cast<long long>(0x94d049bb133111ebULL));
  const __m512i idx = _mm512_add_epi64(_mm512_set1_epi64(static_cast<long long>(first)),
                                       _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0));
  __m512i z = _mm512_add_epi64(_mm512_set1_epi64(static_cast<long long>(base)),
                               _mm512_mullo_epi64(idx, golden));
  z = _mm512_add_epi64(z, golden);  // mix64 from here
  z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 30)), c1);
  z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 27)), c2);
  z = _mm512_xor_si512(z, _mm512_srli_epi64(z, 31));
  return _mm512_cvtepi64_epi32(_mm512_srli_epi64(z, 40));
}

// uniform01(base, i0 + j), j = 0..15, as 16 floats.
LPSIM_AVX512 inline __m512 uniform16(std::uint64_t base, std::uint64_t i0) {
  const __m512i r =
      _mm512_inserti64x4(_mm512_castsi256_si512(random24x8(base, i0)), random24x8(base, i0 + 8), 1);
  return _mm512_mul_ps(_mm512_cvtepi32_ps(r), _mm512_set1_ps(1.0f / 16777216.0f));
}

// Range quantization, 16 elements at a time (range_apply_t below is the
// definition); returns how many elements it did (a multiple of 16).
LPSIM_AVX512 std::size_t range_apply_avx512(const float* src, float* dst, std::size_t n, float lo,
                                            float s, float levels, bool stochastic,
                                            std::uint64_t base, std::uint64_t idx0,
                                            std::uint8_t* code) {
  const __m512 vlo = _mm512_set1_ps(lo), vs = _mm512_set1_ps(s), vl = _mm512_set1_ps(levels);
  const __m512 zero = _mm512_setzero_ps(), magic = _mm512_set1_ps(12582912.0f);
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 in = _mm512_loadu_ps(src + i);
    __m512 v = _mm512_div_ps(_mm512_sub_ps(in, vlo), vs);
    if (stochastic) v = _mm512_add_ps(v, uniform16(base, idx0 + i));
    v = _mm512_min_ps(vl, _mm512_max_ps(zero, v));
    const __m512 r = stochastic ? floor_small16(v) : _mm512_sub_ps(_mm512_add_ps(v, magic), magic);
    __m512 y = _mm512_add_ps(_mm512_mul_ps(r, vs), vlo);
    if (stochastic) y = _mm512_mask_mov_ps(in, _mm512_cmp_ps_mask(in, in, _CMP_ORD_Q), y);
    _mm512_storeu_ps(dst + i, y);
    if (code)
      _mm_storeu_si128(reinterpret_cast<__m128i*>(code + i),
                       _mm512_cvtepi32_epi8(_mm512_cvttps_epi32(r)));
  }
  return i;
}

// Dynamic fixed point, 16 at a time (dfx_apply_t is the definition).
LPSIM_AVX512 std::size_t dfx_apply_avx512(const float* src, float* dst, std::size_t n, float scale,
                                          float inv, float qmin, float qmax, std::int32_t half,
                                          bool stochastic, std::uint64_t base, std::uint64_t idx0,
                                          std::uint8_t* code) {
  const __m512 vsc = _mm512_set1_ps(scale), vinv = _mm512_set1_ps(inv);
  const __m512 vmin = _mm512_set1_ps(qmin), vmax = _mm512_set1_ps(qmax);
  const __m512 magic = _mm512_set1_ps(12582912.0f);
  const __m512i vhalf = _mm512_set1_epi32(half);
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 in = _mm512_loadu_ps(src + i);
    __m512 v = _mm512_mul_ps(in, vsc);
    if (stochastic) v = _mm512_add_ps(v, uniform16(base, idx0 + i));
    v = _mm512_min_ps(vmax, _mm512_max_ps(vmin, v));
    const __m512 r = stochastic ? floor_small16(v) : _mm512_sub_ps(_mm512_add_ps(v, magic), magic);
    __m512 y = _mm512_mul_ps(r, vinv);
    if (stochastic) y = _mm512_mask_mov_ps(in, _mm512_cmp_ps_mask(in, in, _CMP_ORD_Q), y);
    _mm512_storeu_ps(dst + i, y);
    if (code)
      _mm_storeu_si128(reinterpret_cast<__m128i*>(code + i),
                       _mm512_cvtepi32_epi8(_mm512_add_epi32(_mm512_cvttps_epi32(r), vhalf)));
  }
  return i;
}

// Range quantization of src[0..n) into dst (which may be src) with a given
// [lo, hi]; stream index of element i is idx0 + i. With kCodes, code[i]
// gets the integer level (QuantCodes). Returns the scale s (0 for a
// constant tensor, which is copied unchanged).
#pragma GCC diagnostic pop

template <bool kCodes>
float range_apply_t(const float* src, float* dst, std::size_t n, float lo, float hi, int bits,
                    Rounding rounding, std::uint64_t base, std::uint64_t idx0, std::uint8_t* code) {
  if (!(hi > lo)) {  // constant tensor (or no finite value): unchanged
    if (dst != src) std::copy(src, src + n, dst);
    if constexpr (kCodes) std::fill(code, code + n, std::uint8_t{0});
    return 0.0f;
  }
  const float levels = static_cast<float>((1u << bits) - 1u);
  const float s = (hi - lo) / levels;
  std::size_t i = 0;
  if (have_avx512())
    i = range_apply_avx512(src, dst, n, lo, s, levels, rounding == Rounding::Stochastic, base, idx0,
                           kCodes ? code : nullptr);
  if (rounding == Rounding::Nearest) {
    for (; i < n; ++i) {
      float v = (src[i] - lo) / s;
      v = v < 0.0f ? 0.0f : v;
      v = v > levels ? levels : v;
      const float r = rne(v);
      dst[i] = r * s + lo;
      if constexpr (kCodes) code[i] = static_cast<std::uint8_t>(static_cast<std::int32_t>(r));
    }
  } else {
    for (; i < n; ++i) {
      const float in = src[i];
      float v = (in - lo) / s + uniform01(base, idx0 + i);
      v = v < 0.0f ? 0.0f : v;
      v = v > levels ? levels : v;
      const float r = floor_small(v);
      const float y = r * s + lo;
      dst[i] = in == in ? y : in;
      if constexpr (kCodes) code[i] = static_cast<std::uint8_t>(static_cast<std::int32_t>(r));
    }
  }
  return s;
}

float range_apply(const float* src, float* dst, std::size_t n, float lo, float hi, int bits,
                  Rounding rounding, std::uint64_t base, std::uint64_t idx0,
                  std::uint8_t* code = nullptr) {
  return code ? range_apply_t<true>(src, dst, n, lo, hi, bits, rounding, base, idx0, code)
              : range_apply_t<false>(src, dst, n, lo, hi, bits, rounding, base, idx0, nullptr);
}
float range_apply(float* x, std::size_t n, float lo, float hi, int bits, Rounding rounding,
                  std::uint64_t base, std::uint64_t idx0, std::uint8_t* code = nullptr) {
  return range_apply(x, x, n, lo, hi, bits, rounding, base, idx0, code);
}

void check_int_bits(int bits) {
  if (bits < 1 || bits > kMaxBits)
    throw InputError(
        fmt::format("quantizer width {} bits: must be in {}..{}", bits, kMinBits, kMaxBits));
}

}  // namespace

std::string to_string(Rounding r) { return r == Rounding::Nearest ? "nearest" : "stochastic"; }
std::string to_string(IntMethod m) { return m == IntMethod::Range ? "range" : "dfx"; }

IntMethod parse_int_method(const std::string& text) {
  if (text == "range") return IntMethod::Range;
  if (text == "dfx") return IntMethod::DynamicFixed;
  throw InputError(fmt::format("--quantizer {}: must be one of range, dfx", text));
}

std::size_t quantize_range(float* x, std::size_t n, int bits, Rounding rounding,
                           const RngKey& key) {
  check_int_bits(bits);
  if (bits >= kIdentityIntBits || n == 0) return 0;
  float lo, hi;
  const std::size_t nonfinite = finite_range(x, n, lo, hi);
  range_apply(x, n, lo, hi, bits, rounding, key.base(), 0);
  return nonfinite;
}

std::size_t quantize_range_rows(float* x, std::size_t rows, std::size_t cols, int bits,
                                Rounding rounding, const RngKey& key) {
  check_int_bits(bits);
  if (bits >= kIdentityIntBits) return 0;
  const std::uint64_t base = key.base();
  std::size_t nonfinite = 0;
  for (std::size_t r = 0; r < rows; ++r) {
    float* row = x + r * cols;
    float lo, hi;
    nonfinite += finite_range(row, cols, lo, hi);
    range_apply(row, cols, lo, hi, bits, rounding, base, r * cols);
  }
  return nonfinite;
}

namespace {

// MuPPET's scale exponent for a tensor whose finite values span [lo, hi];
// false when the tensor is to be left unchanged (no finite non-zero value).
bool dfx_scale(float lo, float hi, int bits, int& sf) {
  if (!(hi >= lo)) return false;  // no finite value
  const double max_v = std::ldexp(1.0, bits - 1) - 0.5;
  const double min_v = -std::ldexp(1.0, bits - 1) - 0.5;
  const double inf = std::numeric_limits<double>::infinity();
  const double r_max = hi != 0.0f ? std::fabs(max_v / hi) : inf;
  const double r_min = lo != 0.0f ? std::fabs(min_v / lo) : inf;
  const double r = std::min(r_max, r_min);
  if (std::isinf(r)) return false;  // all zero
  sf = std::clamp(static_cast<int>(std::floor(std::log2(r))), -120, 120);
  return true;
}

template <bool kCodes>
void dfx_apply_t(const float* src, float* dst, std::size_t n, int sf, int bits, Rounding rounding,
                 std::uint64_t base, std::uint64_t idx0, std::uint8_t* code) {
  const float scale = std::ldexp(1.0f, sf);
  const float inv = std::ldexp(1.0f, -sf);
  const float qmin = -std::ldexp(1.0f, bits - 1);
  const float qmax = std::ldexp(1.0f, bits - 1) - 1.0f;
  const std::int32_t half = 1 << (bits - 1);
  std::size_t i = 0;
  if (have_avx512())
    i = dfx_apply_avx512(src, dst, n, scale, inv, qmin, qmax, half,
                         rounding == Rounding::Stochastic, base, idx0, kCodes ? code : nullptr);
  if (rounding == Rounding::Nearest) {
    for (; i < n; ++i) {
      float v = src[i] * scale;
      v = v < qmin ? qmin : v;
      v = v > qmax ? qmax : v;
      const float r = rne(v);
      dst[i] = r * inv;
      if constexpr (kCodes)
        code[i] = static_cast<std::uint8_t>(static_cast<std::int32_t>(r) + half);
    }
  } else {
    for (; i < n; ++i) {
      const float in = src[i];
      float v = in * scale + uniform01(base, idx0 + i);
      v = v < qmin ? qmin : v;
      v = v > qmax ? qmax : v;
      const float r = floor_small(v);
      const float y = r * inv;
      dst[i] = in == in ? y : in;
      if constexpr (kCodes)
        code[i] = static_cast<std::uint8_t>(static_cast<std::int32_t>(r) + half);
    }
  }
}

void dfx_apply(const float* src, float* dst, std::size_t n, int sf, int bits, Rounding rounding,
               std::uint64_t base, std::uint64_t idx0, std::uint8_t* code = nullptr) {
  if (code)
    dfx_apply_t<true>(src, dst, n, sf, bits, rounding, base, idx0, code);
  else
    dfx_apply_t<false>(src, dst, n, sf, bits, rounding, base, idx0, nullptr);
}
void dfx_apply(float* x, std::size_t n, int sf, int bits, Rounding rounding, std::uint64_t base,
               std::uint64_t idx0, std::uint8_t* code = nullptr) {
  dfx_apply(x, x, n, sf, bits, rounding, base, idx0, code);
}

}  // namespace

namespace {
// MuPPET's quantizer; `nonfinite` gets the count of non-finite elements.
int dynamic_fixed(float* x, std::size_t n, int bits, Rounding rounding, const RngKey& key,
                  std::size_t& nonfinite) {
  nonfinite = 0;
  check_int_bits(bits);
  if (bits >= kIdentityIntBits || n == 0) return 0;
  float lo, hi;
  nonfinite = finite_range(x, n, lo, hi);
  int sf = 0;
  if (!dfx_scale(lo, hi, bits, sf)) return 0;
  dfx_apply(x, n, sf, bits, rounding, key.base(), 0);
  return sf;
}
}  // namespace

int quantize_dynamic_fixed(float* x, std::size_t n, int bits, Rounding rounding,
                           const RngKey& key) {
  std::size_t nonfinite;
  return dynamic_fixed(x, n, bits, rounding, key, nonfinite);
}

namespace {
struct MinifloatParams {
  int emin, emax;
  float max_value;
};

MinifloatParams minifloat_params(int exp_bits, int man_bits) {
  if (exp_bits < 2 || exp_bits > 8 || man_bits < 0 || man_bits > 23)
    throw InputError(
        fmt::format("minifloat e{}m{}: exponent bits must be in 2..8 and mantissa bits in 0..23 "
                    "(the trainer emulates formats that fit in float32)",
                    exp_bits, man_bits));
  const int bias = (1 << (exp_bits - 1)) - 1;
  MinifloatParams p;
  p.emin = 1 - bias;
  const bool ocp_e4m3 = exp_bits == 4 && man_bits == 3;
  if (ocp_e4m3) {
    // OCP FP8 (2023): S.1111.111 is NaN, the rest of the top binade is normal.
    p.emax = (1 << exp_bits) - 1 - bias;
    p.max_value = static_cast<float>(std::ldexp(2.0 - std::ldexp(1.0, 1 - man_bits), p.emax));
  } else {
    p.emax = (1 << exp_bits) - 2 - bias;
    p.max_value = static_cast<float>(std::ldexp(2.0 - std::ldexp(1.0, -man_bits), p.emax));
  }
  if (exp_bits == 8) p.emax = std::min(p.emax, 127);
  return p;
}
}  // namespace

float minifloat_max(int exp_bits, int man_bits) {
  return minifloat_params(exp_bits, man_bits).max_value;
}

namespace {
// Returns the overflow count: NaN, +-Inf, and values whose rounding lands
// past the largest finite value (they are saturated to it).
std::size_t minifloat_apply(float* x, std::size_t n, int exp_bits, int man_bits, Rounding rounding,
                            std::uint64_t base, std::uint64_t idx0) {
  const MinifloatParams p = minifloat_params(exp_bits, man_bits);
  if (exp_bits == 8 && man_bits == 23) return 0;  // float32 itself
  const float mx = p.max_value;
  std::size_t overflow = 0;
  const bool fast = man_bits <= 21;  // |x / quantum| < 2^22: the magic rounding is exact
  for (std::size_t i = 0; i < n; ++i) {
    const float in = x[i];
    int e = static_cast<int>((bits_of(in) >> 23) & 0xffu) - 127;
    e = e < p.emin ? p.emin : e;
    e = e > p.emax ? p.emax : e;
    const int qe = e - man_bits;  // quantum 2^qe (>= 2^-149, a float32 subnormal at worst)
    const float q = qe >= -126 ? float_of(static_cast<std::uint32_t>(qe + 127) << 23)
                               : float_of(1u << (qe + 149));
    float v = in / q;
    if (rounding == Rounding::Nearest) {
      v = fast ? rne(v) : std::nearbyint(v);
    } else {
      const float w = v + uniform01(base, idx0 + i);
      v = std::fabs(w) < 2147483520.0f ? floor_small(w) : w;
    }
    float y = v * q;
    overflow += (std::fabs(y) > mx || in != in) ? 1u : 0u;
    y = y > mx ? mx : y;
    y = y < -mx ? -mx : y;
    x[i] = in == in ? y : in;
  }
  return overflow;
}
}  // namespace

std::size_t quantize_minifloat(float* x, std::size_t n, int exp_bits, int man_bits,
                               Rounding rounding, const RngKey& key) {
  return minifloat_apply(x, n, exp_bits, man_bits, rounding, key.base(), 0);
}

bool is_identity(const Format& format) {
  if (format.is_float()) return format.exp_bits >= 8 && format.man_bits >= 23;
  return format.bits >= kIdentityIntBits;
}

std::size_t quantize(const Format& format, IntMethod method, float* x, std::size_t rows,
                     std::size_t cols, Rounding rounding, const RngKey& key) {
  if (is_identity(format)) return 0;
  if (format.is_float())
    return quantize_minifloat(x, rows * cols, format.exp_bits, format.man_bits, rounding, key);
  if (method == IntMethod::DynamicFixed) {
    std::size_t nonfinite;
    dynamic_fixed(x, rows * cols, format.bits, rounding, key, nonfinite);
    return nonfinite;
  }
  if (rows > 1) return quantize_range_rows(x, rows, cols, format.bits, rounding, key);
  return quantize_range(x, rows * cols, format.bits, rounding, key);
}

bool has_codes(const Format& format) { return !format.is_float() && format.bits <= kMaxCodeBits; }

namespace {

// quantize() of an integer format of <= kMaxCodeBits, keeping the codes.
// Same arithmetic, blocks and random streams as the forms without codes.
// Reads src, writes x (they may be the same array).
std::size_t quantize_with_codes(const Format& format, IntMethod method, const float* src, float* x,
                                std::size_t rows, std::size_t cols, Rounding rounding,
                                const RngKey& key, const ParallelFor& parallel_for,
                                QuantCodes& codes) {
  check_int_bits(format.bits);
  const int bits = format.bits;
  const std::size_t n = rows * cols;
  const std::uint64_t base = key.base();
  codes.bits = bits;
  codes.code.resize(n);
  std::uint8_t* code = codes.code.data();
  std::size_t nonfinite = 0;
  if (method == IntMethod::Range && rows > 1) {  // one range per row (weights)
    codes.zero = 0;
    codes.scale.resize(rows);
    codes.offset.resize(rows);
    std::vector<std::size_t> counts(rows, 0);
    auto row = [&](std::size_t r) {
      float lo, hi;
      counts[r] = finite_range(src + r * cols, cols, lo, hi);
      codes.scale[r] = range_apply(src + r * cols, x + r * cols, cols, lo, hi, bits, rounding, base,
                                   r * cols, code + r * cols);
      codes.offset[r] = lo;
    };
    // Rows are independent: in groups of about kQuantBlock elements over the pool.
    const std::size_t group =
        std::max<std::size_t>(1, kQuantBlock / std::max<std::size_t>(1, cols));
    const auto groups = static_cast<std::int64_t>((rows + group - 1) / group);
    auto run_group = [&](std::int64_t g) {
      const std::size_t r0 = static_cast<std::size_t>(g) * group;
      for (std::size_t r = r0; r < std::min(rows, r0 + group); ++r) row(r);
    };
    if (parallel_for && groups > 1)
      parallel_for(groups, run_group);
    else
      for (std::int64_t g = 0; g < groups; ++g) run_group(g);
    for (std::size_t c : counts) nonfinite += c;
    codes.valid = nonfinite == 0;
    return nonfinite;
  }
  const auto blocks = static_cast<std::int64_t>((n + kQuantBlock - 1) / kQuantBlock);
  auto run = [&](const std::function<void(std::int64_t)>& fn) {
    if (parallel_for && blocks > 1)
      parallel_for(blocks, fn);
    else
      for (std::int64_t b = 0; b < blocks; ++b) fn(b);
  };
  auto begin_of = [](std::int64_t b) { return static_cast<std::size_t>(b) * kQuantBlock; };
  auto len_of = [&](std::int64_t b) { return std::min(kQuantBlock, n - begin_of(b)); };
  std::vector<std::size_t> counts(static_cast<std::size_t>(blocks), 0);
  std::vector<float> los(counts.size()), his(counts.size());
  run([&](std::int64_t b) {
    const auto i = static_cast<std::size_t>(b);
    counts[i] = finite_range(src + begin_of(b), len_of(b), los[i], his[i]);
  });
  float lo = std::numeric_limits<float>::infinity(), hi = -lo;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    nonfinite += counts[i];
    lo = std::min(lo, los[i]);
    hi = std::max(hi, his[i]);
  }
  codes.scale.assign(1, 0.0f);
  codes.offset.assign(1, 0.0f);
  if (method == IntMethod::DynamicFixed) {
    codes.zero = 1 << (bits - 1);
    int sf = 0;
    if (!dfx_scale(lo, hi, bits, sf)) {
      std::fill(code, code + n, static_cast<std::uint8_t>(codes.zero));
      if (x != src) std::copy(src, src + n, x);
    } else {
      codes.scale[0] = std::ldexp(1.0f, -sf);
      run([&](std::int64_t b) {
        dfx_apply(src + begin_of(b), x + begin_of(b), len_of(b), sf, bits, rounding, base,
                  begin_of(b), code + begin_of(b));
      });
    }
  } else {
    codes.zero = 0;
    codes.offset[0] = lo;
    if (hi > lo) codes.scale[0] = (hi - lo) / static_cast<float>((1u << bits) - 1u);
    run([&](std::int64_t b) {
      range_apply(src + begin_of(b), x + begin_of(b), len_of(b), lo, hi, bits, rounding, base,
                  begin_of(b), code + begin_of(b));
    });
  }
  codes.valid = nonfinite == 0;
  return nonfinite;
}

}  // namespace

std::size_t quantize(const Format& format, IntMethod method, float* x, std::size_t rows,
                     std::size_t cols, Rounding rounding, const RngKey& key,
                     const ParallelFor& parallel_for, QuantCodes* codes) {
  if (codes) codes->valid = false;
  if (codes && has_codes(format))
    return quantize_with_codes(format, method, x, x, rows, cols, rounding, key, parallel_for,
                               *codes);
  const std::size_t n = rows * cols;
  const bool per_row = rows > 1 && !format.is_float() && method == IntMethod::Range;
  if (!parallel_for || n < 2 * kQuantBlock || per_row || is_identity(format))
    return quantize(format, method, x, rows, cols, rounding, key);
  const auto blocks = static_cast<std::int64_t>((n + kQuantBlock - 1) / kQuantBlock);
  const std::uint64_t base = key.base();
  auto block = [&](std::int64_t b, std::size_t& begin, std::size_t& len) {
    begin = static_cast<std::size_t>(b) * kQuantBlock;
    len = std::min(kQuantBlock, n - begin);
  };
  // Per-block counts, summed in block order.
  std::vector<std::size_t> counts(static_cast<std::size_t>(blocks), 0);
  auto total = [&counts] {
    std::size_t sum = 0;
    for (std::size_t c : counts) sum += c;
    return sum;
  };
  if (format.is_float()) {
    minifloat_params(format.exp_bits, format.man_bits);  // validate before the threads
    parallel_for(blocks, [&](std::int64_t b) {
      std::size_t begin, len;
      block(b, begin, len);
      counts[static_cast<std::size_t>(b)] =
          minifloat_apply(x + begin, len, format.exp_bits, format.man_bits, rounding, base, begin);
    });
    return total();
  }
  check_int_bits(format.bits);
  std::vector<float> los(static_cast<std::size_t>(blocks)), his(static_cast<std::size_t>(blocks));
  parallel_for(blocks, [&](std::int64_t b) {
    std::size_t begin, len;
    block(b, begin, len);
    counts[static_cast<std::size_t>(b)] = finite_range(
        x + begin, len, los[static_cast<std::size_t>(b)], his[static_cast<std::size_t>(b)]);
  });
  float lo = std::numeric_limits<float>::infinity(), hi = -lo;
  for (std::int64_t b = 0; b < blocks; ++b) {
    lo = std::min(lo, los[static_cast<std::size_t>(b)]);
    hi = std::max(hi, his[static_cast<std::size_t>(b)]);
  }
  if (method == IntMethod::DynamicFixed) {
    int sf = 0;
    if (!dfx_scale(lo, hi, format.bits, sf)) return total();
    parallel_for(blocks, [&](std::int64_t b) {
      std::size_t begin, len;
      block(b, begin, len);
      dfx_apply(x + begin, len, sf, format.bits, rounding, base, begin);
    });
  } else {
    parallel_for(blocks, [&](std::int64_t b) {
      std::size_t begin, len;
      block(b, begin, len);
      range_apply(x + begin, len, lo, hi, format.bits, rounding, base, begin);
    });
  }
  return total();
}

std::size_t quantize_to(const Format& format, IntMethod method, const float* src, float* dst,
                        std::size_t rows, std::size_t cols, Rounding rounding, const RngKey& key,
                        const ParallelFor& parallel_for, QuantCodes* codes) {
  if (codes) codes->valid = false;
  if (codes && has_codes(format))
    return quantize_with_codes(format, method, src, dst, rows, cols, rounding, key, parallel_for,
                               *codes);
  std::copy(src, src + rows * cols, dst);
  return quantize(format, method, dst, rows, cols, rounding, key, parallel_for, codes);
}

}  // namespace lpsim::trainer
