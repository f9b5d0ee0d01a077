// Integer GEMM kernels of the trainer (int_gemm.h). The SIMD kernels are
// compiled per function (target attributes) and chosen at run time, so the
// rest of the build keeps its flags and a CPU without them runs the scalar
// kernel, which gives the same integers.
#include "trainer/impl/int_gemm.h"

#include <cblas.h>
#include <fmt/format.h>
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "trainer/impl/cpu.h"

namespace lpsim::trainer::impl {
namespace {

std::int32_t load4(const std::uint8_t* p) {
  std::int32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

void gemm_scalar(std::int64_t M, std::int64_t N, std::int64_t Kp, const std::uint8_t* a,
                 std::int64_t lda, const std::int8_t* b, std::int32_t* c, std::int64_t ldc) {
  for (std::int64_t i = 0; i < M; ++i) {
    std::int32_t* ci = c + i * ldc;
    std::fill(ci, ci + N, 0);
    for (std::int64_t k4 = 0; k4 < Kp / 4; ++k4) {
      const std::uint8_t* ai = a + i * lda + 4 * k4;
      const std::int8_t* bk = b + k4 * N * 4;
      for (std::int64_t j = 0; j < N; ++j)
        for (int r = 0; r < 4; ++r) ci[j] += ai[r] * bk[j * 4 + r];
    }
  }
}

// ---- AVX-512 VNNI: vpdpbusd, 4 rows x 32 columns of int32 accumulators.
template <int MI>
__attribute__((target("avx512f,avx512bw,avx512vnni"))) void vnni_block(
    std::int64_t N, std::int64_t Kp, const std::uint8_t* a, std::int64_t lda, const std::int8_t* b,
    std::int32_t* c, std::int64_t ldc, std::int64_t j0) {
  const std::int64_t nj = std::min<std::int64_t>(32, N - j0);
  const __mmask16 m0 = static_cast<__mmask16>(nj >= 16 ? 0xffff : (1u << nj) - 1);
  const __mmask16 m1 = static_cast<__mmask16>(nj >= 32   ? 0xffff
                                              : nj <= 16 ? 0
                                                         : (1u << (nj - 16)) - 1);
  __m512i acc0[MI], acc1[MI];
  for (int r = 0; r < MI; ++r) acc0[r] = acc1[r] = _mm512_setzero_si512();
  for (std::int64_t k4 = 0; k4 < Kp / 4; ++k4) {
    const std::int8_t* bk = b + (k4 * N + j0) * 4;
    const __m512i b0 = _mm512_maskz_loadu_epi32(m0, bk);
    const __m512i b1 = _mm512_maskz_loadu_epi32(m1, bk + 64);
    for (int r = 0; r < MI; ++r) {
      const __m512i av = _mm512_set1_epi32(load4(a + r * lda + 4 * k4));
      acc0[r] = _mm512_dpbusd_epi32(acc0[r], av, b0);
      acc1[r] = _mm512_dpbusd_epi32(acc1[r], av, b1);
    }
  }
  for (int r = 0; r < MI; ++r) {
    _mm512_mask_storeu_epi32(c + r * ldc + j0, m0, acc0[r]);
    _mm512_mask_storeu_epi32(c + r * ldc + j0 + 16, m1, acc1[r]);
  }
}

// The lanes of the 16 columns from j0 that exist (nj of them), as two
// 8-lane masks for the AVX2 masked loads and stores.
__attribute__((target("avx2"))) inline void column_masks(std::int64_t nj, __m256i& m0,
                                                         __m256i& m1) {
  alignas(32) std::int32_t mk[16];
  for (int j = 0; j < 16; ++j) mk[j] = j < nj ? -1 : 0;
  m0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(mk));
  m1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(mk + 8));
}

// ---- AVX2, any width <= 8: bytes widened to int16 (even and odd k of each
// 32-bit lane), vpmaddwd, 4 rows x 16 columns.
template <int MI>
__attribute__((target("avx2"))) void avx2_block(std::int64_t N, std::int64_t Kp,
                                                const std::uint8_t* a, std::int64_t lda,
                                                const std::int8_t* b, std::int32_t* c,
                                                std::int64_t ldc, std::int64_t j0) {
  __m256i m0, m1;
  column_masks(std::min<std::int64_t>(16, N - j0), m0, m1);
  const __m256i lo_bytes = _mm256_set1_epi16(0x00ff);
  __m256i acc0[MI], acc1[MI];
  for (int r = 0; r < MI; ++r) acc0[r] = acc1[r] = _mm256_setzero_si256();
  for (std::int64_t k4 = 0; k4 < Kp / 4; ++k4) {
    const std::int8_t* bk = b + (k4 * N + j0) * 4;
    const __m256i b0 = _mm256_maskload_epi32(reinterpret_cast<const int*>(bk), m0);
    const __m256i b1 = _mm256_maskload_epi32(reinterpret_cast<const int*>(bk + 32), m1);
    const __m256i b0e = _mm256_srai_epi16(_mm256_slli_epi16(b0, 8), 8),
                  b0o = _mm256_srai_epi16(b0, 8);
    const __m256i b1e = _mm256_srai_epi16(_mm256_slli_epi16(b1, 8), 8),
                  b1o = _mm256_srai_epi16(b1, 8);
    for (int r = 0; r < MI; ++r) {
      const __m256i av = _mm256_set1_epi32(load4(a + r * lda + 4 * k4));
      const __m256i ae = _mm256_and_si256(av, lo_bytes), ao = _mm256_srli_epi16(av, 8);
      acc0[r] = _mm256_add_epi32(
          acc0[r], _mm256_add_epi32(_mm256_madd_epi16(ae, b0e), _mm256_madd_epi16(ao, b0o)));
      acc1[r] = _mm256_add_epi32(
          acc1[r], _mm256_add_epi32(_mm256_madd_epi16(ae, b1e), _mm256_madd_epi16(ao, b1o)));
    }
  }
  for (int r = 0; r < MI; ++r) {
    _mm256_maskstore_epi32(reinterpret_cast<int*>(c + r * ldc + j0), m0, acc0[r]);
    _mm256_maskstore_epi32(reinterpret_cast<int*>(c + r * ldc + j0 + 8), m1, acc1[r]);
  }
}

// ---- AVX2, both operands <= 4 bits ("narrow"): vpmaddubsw multiplies the
// bytes directly (|a b| <= 15 * 8, a pair <= 240: no int16 saturation) and
// int16 partial sums run for up to kNarrowRun k4 steps (240 * 128 < 2^15)
// before vpmaddwd widens them: two instructions per 32 products, against
// six for the 8-bit AVX2 kernel.
constexpr std::int64_t kNarrowRun = 128;
template <int MI>
__attribute__((target("avx2"))) void narrow_block(std::int64_t N, std::int64_t Kp,
                                                  const std::uint8_t* a, std::int64_t lda,
                                                  const std::int8_t* b, std::int32_t* c,
                                                  std::int64_t ldc, std::int64_t j0) {
  __m256i m0, m1;
  column_masks(std::min<std::int64_t>(16, N - j0), m0, m1);
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i acc0[MI], acc1[MI];
  for (int r = 0; r < MI; ++r) acc0[r] = acc1[r] = _mm256_setzero_si256();
  for (std::int64_t s = 0; s < Kp / 4; s += kNarrowRun) {
    __m256i p0[MI], p1[MI];
    for (int r = 0; r < MI; ++r) p0[r] = p1[r] = _mm256_setzero_si256();
    const std::int64_t end = std::min(Kp / 4, s + kNarrowRun);
    for (std::int64_t k4 = s; k4 < end; ++k4) {
      const std::int8_t* bk = b + (k4 * N + j0) * 4;
      const __m256i b0 = _mm256_maskload_epi32(reinterpret_cast<const int*>(bk), m0);
      const __m256i b1 = _mm256_maskload_epi32(reinterpret_cast<const int*>(bk + 32), m1);
      for (int r = 0; r < MI; ++r) {
        const __m256i av = _mm256_set1_epi32(load4(a + r * lda + 4 * k4));
        p0[r] = _mm256_add_epi16(p0[r], _mm256_maddubs_epi16(av, b0));
        p1[r] = _mm256_add_epi16(p1[r], _mm256_maddubs_epi16(av, b1));
      }
    }
    for (int r = 0; r < MI; ++r) {
      acc0[r] = _mm256_add_epi32(acc0[r], _mm256_madd_epi16(p0[r], ones));
      acc1[r] = _mm256_add_epi32(acc1[r], _mm256_madd_epi16(p1[r], ones));
    }
  }
  for (int r = 0; r < MI; ++r) {
    _mm256_maskstore_epi32(reinterpret_cast<int*>(c + r * ldc + j0), m0, acc0[r]);
    _mm256_maskstore_epi32(reinterpret_cast<int*>(c + r * ldc + j0 + 8), m1, acc1[r]);
  }
}

// Runs a kernel of 4-row x `width`-column blocks over the whole of C.
template <typename BlockFn>
void run_blocks(std::int64_t M, std::int64_t N, std::int64_t width, const BlockFn& block) {
  for (std::int64_t j0 = 0; j0 < N; j0 += width)
    for (std::int64_t i0 = 0; i0 < M; i0 += 4) block(i0, std::min<std::int64_t>(4, M - i0), j0);
}

#define LPSIM_DISPATCH_ROWS(FN)                            \
  [&](std::int64_t i0, std::int64_t mi, std::int64_t j0) { \
    const std::uint8_t* ai = a + i0 * lda;                 \
    std::int32_t* ci = c + i0 * ldc;                       \
    switch (mi) {                                          \
      case 4:                                              \
        FN<4>(N, Kp, ai, lda, b, ci, ldc, j0);             \
        break;                                             \
      case 3:                                              \
        FN<3>(N, Kp, ai, lda, b, ci, ldc, j0);             \
        break;                                             \
      case 2:                                              \
        FN<2>(N, Kp, ai, lda, b, ci, ldc, j0);             \
        break;                                             \
      default:                                             \
        FN<1>(N, Kp, ai, lda, b, ci, ldc, j0);             \
        break;                                             \
    }                                                      \
  }

}  // namespace

GemmKernel parse_gemm_kernel(const std::string& text) {
  if (text == "auto") return GemmKernel::Auto;
  if (text == "reference") return GemmKernel::Reference;
  if (text == "scalar") return GemmKernel::Scalar;
  if (text == "avx2") return GemmKernel::Avx2;
  if (text == "vnni") return GemmKernel::Vnni;
  throw InputError(
      fmt::format("--gemm-kernel {}: must be one of auto, reference, scalar, avx2, vnni", text));
}

std::string to_string(GemmKernel kernel) {
  switch (kernel) {
    case GemmKernel::Auto:
      return "auto";
    case GemmKernel::Reference:
      return "reference";
    case GemmKernel::Scalar:
      return "scalar";
    case GemmKernel::Avx2:
      return "avx2";
    case GemmKernel::Vnni:
      return "vnni";
  }
  return "?";
}

bool cpu_supports(GemmKernel kernel) {
  __builtin_cpu_init();
  switch (kernel) {
    case GemmKernel::Avx2:
      return __builtin_cpu_supports("avx2");
    case GemmKernel::Vnni:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vnni");
    default:
      return true;
  }
}

GemmKernel resolve(GemmKernel kernel) {
  if (kernel == GemmKernel::Auto) {
    if (cpu_supports(GemmKernel::Vnni)) return GemmKernel::Vnni;
    if (cpu_supports(GemmKernel::Avx2)) return GemmKernel::Avx2;
    return GemmKernel::Scalar;
  }
  if (!cpu_supports(kernel))
    throw InputError(fmt::format("--gemm-kernel {}: this CPU does not have it", to_string(kernel)));
  return kernel;
}

void raw_gemm(GemmKernel kernel, std::int64_t M, std::int64_t N, std::int64_t Kp,
              const std::uint8_t* a, std::int64_t lda, const std::int8_t* b, std::int32_t* c,
              std::int64_t ldc, int a_bits, int b_bits) {
  switch (kernel) {
    case GemmKernel::Vnni:
      run_blocks(M, N, 32, LPSIM_DISPATCH_ROWS(vnni_block));
      return;
    case GemmKernel::Avx2:
      if (a_bits <= 4 && b_bits <= 4)
        run_blocks(M, N, 16, LPSIM_DISPATCH_ROWS(narrow_block));
      else
        run_blocks(M, N, 16, LPSIM_DISPATCH_ROWS(avx2_block));
      return;
    default:
      gemm_scalar(M, N, Kp, a, lda, b, c, ldc);
      return;
  }
}

namespace {

// Four stored codes c (one per byte) to the packed bytes c - half, without
// carries between bytes: c + 128 - half lies in [0, 256), and xor 0x80
// then subtracts 128 modulo 256.
inline std::uint32_t to_packed(std::uint32_t word, std::uint32_t add) {
  return (word + add) ^ 0x80808080u;
}

// Sum of n bytes (psadbw against zero: eight bytes to one 64-bit lane).
std::int64_t sum_bytes(const std::uint8_t* p, std::int64_t n) {
  __m128i acc = _mm_setzero_si128();
  std::int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    acc = _mm_add_epi64(acc, _mm_sad_epu8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i)),
                                          _mm_setzero_si128()));
  std::int64_t sum = _mm_cvtsi128_si64(acc) + _mm_cvtsi128_si64(_mm_unpackhi_epi64(acc, acc));
  for (; i < n; ++i) sum += p[i];
  return sum;
}

// sums[n] = sum_k b[k * ldb + n] for n < N, 32 columns at a time: bytes
// widened to 16-bit lanes (at most 256 rows of 255 each: 65,280 < 2^16),
// then to 32-bit ones. Integers: the same sums as the scalar loop.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
__attribute__((target("avx512f,avx512bw,avx512vl"))) void column_sums_avx512(
    const std::uint8_t* b, std::int64_t ldb, std::int64_t K, std::int64_t N, std::int32_t* sums) {
  for (std::int64_t n = 0; n < N; n += 32) {
    const std::int64_t w = std::min<std::int64_t>(32, N - n);
    const auto bytes = static_cast<__mmask32>(w == 32 ? 0xffffffffu : (1u << w) - 1);
    __m512i lo = _mm512_setzero_si512(), hi = _mm512_setzero_si512();
    for (std::int64_t k0 = 0; k0 < K; k0 += 256) {
      __m512i acc = _mm512_setzero_si512();
      for (std::int64_t k = k0; k < std::min(K, k0 + 256); ++k)
        acc = _mm512_add_epi16(
            acc, _mm512_cvtepu8_epi16(_mm256_maskz_loadu_epi8(bytes, b + k * ldb + n)));
      lo = _mm512_add_epi32(lo, _mm512_cvtepu16_epi32(_mm512_castsi512_si256(acc)));
      hi = _mm512_add_epi32(hi, _mm512_cvtepu16_epi32(_mm512_extracti64x4_epi64(acc, 1)));
    }
    const auto m0 = static_cast<__mmask16>(w >= 16 ? 0xffff : (1u << w) - 1);
    const auto m1 = static_cast<__mmask16>(w >= 32 ? 0xffff : w <= 16 ? 0 : (1u << (w - 16)) - 1);
    _mm512_mask_storeu_epi32(sums + n, m0, lo);
    _mm512_mask_storeu_epi32(sums + n + 16, m1, hi);
  }
}

// pack_b_into's interleave of rows [K x N] (not transposed) with AVX-512BW:
// 64 columns of four rows at a time, the SSE2 loop's unpacks within each
// 128-bit lane, then a 4 x 4 transpose of lanes so that columns stay in
// order; the last K % 4 rows read as the code `half`, which packs to 0.
// The same bytes as the SSE2 and scalar loops.
__attribute__((target("avx512f,avx512bw,avx512vl"))) void interleave_rows_avx512(
    std::int8_t* d, std::int64_t K, std::int64_t N, const std::uint8_t* b, std::int64_t ldb,
    int half) {
  const __m512i vadd = _mm512_set1_epi8(static_cast<char>(128 - half));
  const __m512i vsign = _mm512_set1_epi8(static_cast<char>(0x80));
  const __m512i vhalf = _mm512_set1_epi8(static_cast<char>(half));
  for (std::int64_t k4 = 0; k4 < pad4(K) / 4; ++k4) {
    for (std::int64_t n = 0; n < N; n += 64) {
      const std::int64_t w = std::min<std::int64_t>(64, N - n);
      const __mmask64 m = w == 64 ? ~__mmask64{0} : (__mmask64{1} << w) - 1;
      __m512i a[4];
      for (int r = 0; r < 4; ++r) {
        const std::int64_t k = 4 * k4 + r;
        a[r] = k < K ? _mm512_maskz_loadu_epi8(m, b + k * ldb + n) : vhalf;
      }
      const __m512i l01 = _mm512_unpacklo_epi8(a[0], a[1]), h01 = _mm512_unpackhi_epi8(a[0], a[1]);
      const __m512i l23 = _mm512_unpacklo_epi8(a[2], a[3]), h23 = _mm512_unpackhi_epi8(a[2], a[3]);
      // t_q, lane L: columns 16 L + 4 q .. + 3, four bytes each.
      const __m512i t0 = _mm512_unpacklo_epi16(l01, l23), t1 = _mm512_unpackhi_epi16(l01, l23);
      const __m512i t2 = _mm512_unpacklo_epi16(h01, h23), t3 = _mm512_unpackhi_epi16(h01, h23);
      const __m512i u0 = _mm512_shuffle_i64x2(t0, t1, 0x44),
                    u1 = _mm512_shuffle_i64x2(t2, t3, 0x44);
      const __m512i u2 = _mm512_shuffle_i64x2(t0, t1, 0xEE),
                    u3 = _mm512_shuffle_i64x2(t2, t3, 0xEE);
      const __m512i o[4] = {_mm512_shuffle_i64x2(u0, u1, 0x88), _mm512_shuffle_i64x2(u0, u1, 0xDD),
                            _mm512_shuffle_i64x2(u2, u3, 0x88), _mm512_shuffle_i64x2(u2, u3, 0xDD)};
      for (int j = 0; j < 4; ++j) {  // o[j]: columns n + 16 j .. + 15
        const std::int64_t cols = std::clamp<std::int64_t>(w - 16 * j, 0, 16);
        if (cols == 0) break;
        const __mmask64 sm = cols == 16 ? ~__mmask64{0} : (__mmask64{1} << (4 * cols)) - 1;
        _mm512_mask_storeu_epi8(d + (k4 * N + n + 16 * j) * 4, sm,
                                _mm512_xor_si512(_mm512_add_epi8(o[j], vadd), vsign));
      }
    }
  }
}

// pack_b_into's transposed packing with AVX-512: rows n0 .. n0 + 15 of
// b[n * ldb + k], 16 words (64 bytes) each, transposed as a 16 x 16 matrix
// of 32-bit words: unpacks of 32 and 64 bits within 128-bit lanes, then a
// 4 x 4 transpose of lanes. Returns the first row not done (N rounded down
// to 16); the full words (k4 < K / 4) only, as the SSE2 loop.
std::int64_t transpose_words_avx512(std::int8_t* d, std::int64_t K4, std::int64_t N,
                                    const std::uint8_t* b, std::int64_t ldb, int half)
    __attribute__((target("avx512f,avx512bw,avx512vl")));
std::int64_t transpose_words_avx512(std::int8_t* d, std::int64_t K4, std::int64_t N,
                                    const std::uint8_t* b, std::int64_t ldb, int half) {
  const __m512i vadd = _mm512_set1_epi8(static_cast<char>(128 - half));
  const __m512i vsign = _mm512_set1_epi8(static_cast<char>(0x80));
  std::int64_t n0 = 0;
  for (; n0 + 16 <= N; n0 += 16)
    for (std::int64_t k4 = 0; k4 < K4; k4 += 16) {
      const std::int64_t words = std::min<std::int64_t>(16, K4 - k4);
      const auto m = static_cast<__mmask16>(words == 16 ? 0xffff : (1u << words) - 1);
      __m512i r[16], t[16], u[16];
      for (int i = 0; i < 16; ++i) r[i] = _mm512_maskz_loadu_epi32(m, b + (n0 + i) * ldb + 4 * k4);
      for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
      }
      // u[4 g + q], lane L: rows 4 g .. 4 g + 3, word 4 L + q.
      for (int g = 0; g < 4; ++g) {
        u[4 * g] = _mm512_unpacklo_epi64(t[4 * g], t[4 * g + 2]);
        u[4 * g + 1] = _mm512_unpackhi_epi64(t[4 * g], t[4 * g + 2]);
        u[4 * g + 2] = _mm512_unpacklo_epi64(t[4 * g + 1], t[4 * g + 3]);
        u[4 * g + 3] = _mm512_unpackhi_epi64(t[4 * g + 1], t[4 * g + 3]);
      }
      for (int q = 0; q < 4; ++q) {
        const __m512i x0 = _mm512_shuffle_i64x2(u[q], u[4 + q], 0x44);
        const __m512i x1 = _mm512_shuffle_i64x2(u[8 + q], u[12 + q], 0x44);
        const __m512i x2 = _mm512_shuffle_i64x2(u[q], u[4 + q], 0xEE);
        const __m512i x3 = _mm512_shuffle_i64x2(u[8 + q], u[12 + q], 0xEE);
        const __m512i out[4] = {
            _mm512_shuffle_i64x2(x0, x1, 0x88), _mm512_shuffle_i64x2(x0, x1, 0xDD),
            _mm512_shuffle_i64x2(x2, x3, 0x88), _mm512_shuffle_i64x2(x2, x3, 0xDD)};
        for (int L = 0; L < 4; ++L) {  // word 4 L + q of the 16 rows
          const std::int64_t j = 4 * L + q;
          if (j < words)
            _mm512_storeu_si512(d + ((k4 + j) * N + n0) * 4,
                                _mm512_xor_si512(_mm512_add_epi8(out[L], vadd), vsign));
        }
      }
    }
  return n0;
}
#pragma GCC diagnostic pop

}  // namespace

void pack_b(PackedB& out, std::int64_t K, std::int64_t N, const std::uint8_t* b, std::int64_t ldb,
            bool transposed, int bits, int zero) {
  out.K = K, out.N = N, out.bits = bits, out.zero = zero;
  out.data.resize(static_cast<std::size_t>(pad4(K) * N));
  out.col_sum.resize(static_cast<std::size_t>(N));
  pack_b_into(out.data.data(), out.col_sum.data(), K, N, b, ldb, transposed, bits, zero);
}

void pack_b_into(std::int8_t* d, std::int64_t* col_sum, std::int64_t K, std::int64_t N,
                 const std::uint8_t* b, std::int64_t ldb, bool transposed, int bits, int zero) {
  const std::int64_t K4 = K / 4, Kp = pad4(K);
  const int half = 1 << (bits - 1);
  const std::uint32_t add = static_cast<std::uint32_t>(128 - half) * 0x01010101u;
  // to_packed on 16 bytes: a byte-wise add never carries (see to_packed).
  const __m128i vadd = _mm_set1_epi32(static_cast<int>(add));
  const __m128i vsign = _mm_set1_epi32(static_cast<int>(0x80808080u));
  auto store16 = [d, vadd, vsign](std::int64_t at, __m128i v) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(d + at),
                     _mm_xor_si128(_mm_add_epi8(v, vadd), vsign));
  };
  auto load16 = [](const std::uint8_t* p) {
    return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  };
  auto store = [d](std::int64_t at, std::uint32_t w) { std::memcpy(d + at, &w, 4); };
  auto tail = [&](std::int64_t n, auto code_at) {  // the last K % 4 codes, the rest 0
    if (Kp == K) return;
    std::int8_t* g = d + (K4 * N + n) * 4;
    for (std::int64_t r = 0; r < 4; ++r)
      g[r] = 4 * K4 + r < K ? static_cast<std::int8_t>(code_at(4 * K4 + r) - half) : 0;
  };
  if (transposed) {  // b[n * ldb + k]: four k of a column are one 32-bit word
    for (std::int64_t n = 0; n < N; ++n) {
      const std::uint8_t* src = b + n * ldb;
      col_sum[n] = sum_bytes(src, K) - K * zero;
      tail(n, [src](std::int64_t k) { return src[k]; });
    }
    std::int64_t n0 = have_avx512() ? transpose_words_avx512(d, K4, N, b, ldb, half) : 0;
    for (; n0 + 4 <= N; n0 += 4) {  // 4 columns x 4 words: a 4 x 4 transpose of words
      const std::uint8_t* r0 = b + n0 * ldb;
      const std::uint8_t *r1 = r0 + ldb, *r2 = r1 + ldb, *r3 = r2 + ldb;
      std::int64_t k4 = 0;
      for (; k4 + 4 <= K4; k4 += 4) {
        const __m128i x0 = load16(r0 + 4 * k4), x1 = load16(r1 + 4 * k4);
        const __m128i x2 = load16(r2 + 4 * k4), x3 = load16(r3 + 4 * k4);
        const __m128i t0 = _mm_unpacklo_epi32(x0, x1), t1 = _mm_unpacklo_epi32(x2, x3);
        const __m128i t2 = _mm_unpackhi_epi32(x0, x1), t3 = _mm_unpackhi_epi32(x2, x3);
        store16((k4 * N + n0) * 4, _mm_unpacklo_epi64(t0, t1));
        store16(((k4 + 1) * N + n0) * 4, _mm_unpackhi_epi64(t0, t1));
        store16(((k4 + 2) * N + n0) * 4, _mm_unpacklo_epi64(t2, t3));
        store16(((k4 + 3) * N + n0) * 4, _mm_unpackhi_epi64(t2, t3));
      }
      for (; k4 < K4; ++k4)
        for (std::int64_t j = 0; j < 4; ++j) {
          std::uint32_t w;
          std::memcpy(&w, b + (n0 + j) * ldb + 4 * k4, 4);
          store((k4 * N + n0 + j) * 4, to_packed(w, add));
        }
    }
    for (; n0 < N; ++n0)
      for (std::int64_t k4 = 0; k4 < K4; ++k4) {
        std::uint32_t w;
        std::memcpy(&w, b + n0 * ldb + 4 * k4, 4);
        store((k4 * N + n0) * 4, to_packed(w, add));
      }
    return;
  }
  thread_local std::vector<std::int32_t> sums;  // < K * 255 < 2^24
  if (have_avx512()) {
    sums.resize(static_cast<std::size_t>(N));
    column_sums_avx512(b, ldb, K, N, sums.data());
    interleave_rows_avx512(d, K, N, b, ldb, half);
    for (std::int64_t n = 0; n < N; ++n) col_sum[n] = sums[static_cast<std::size_t>(n)] - K * zero;
    return;
  }
  sums.assign(static_cast<std::size_t>(N), 0);
  for (std::int64_t k = 0; k < K; ++k) {
    const std::uint8_t* src = b + k * ldb;
    std::int32_t* sp = sums.data();
    for (std::int64_t n = 0; n < N; ++n) sp[n] += src[n];
  }
  for (std::int64_t k4 = 0; k4 < K4; ++k4) {
    const std::uint8_t *s0 = b + 4 * k4 * ldb, *s1 = s0 + ldb, *s2 = s1 + ldb, *s3 = s2 + ldb;
    std::int64_t n = 0;
    for (; n + 16 <= N; n += 16) {  // interleave the four rows' bytes
      const __m128i a0 = load16(s0 + n), a1 = load16(s1 + n);
      const __m128i a2 = load16(s2 + n), a3 = load16(s3 + n);
      const __m128i l01 = _mm_unpacklo_epi8(a0, a1), h01 = _mm_unpackhi_epi8(a0, a1);
      const __m128i l23 = _mm_unpacklo_epi8(a2, a3), h23 = _mm_unpackhi_epi8(a2, a3);
      const std::int64_t at = (k4 * N + n) * 4;
      store16(at, _mm_unpacklo_epi16(l01, l23));
      store16(at + 16, _mm_unpackhi_epi16(l01, l23));
      store16(at + 32, _mm_unpacklo_epi16(h01, h23));
      store16(at + 48, _mm_unpackhi_epi16(h01, h23));
    }
    for (; n < N; ++n) {
      const std::uint32_t w =
          static_cast<std::uint32_t>(s0[n]) | static_cast<std::uint32_t>(s1[n]) << 8 |
          static_cast<std::uint32_t>(s2[n]) << 16 | static_cast<std::uint32_t>(s3[n]) << 24;
      store((k4 * N + n) * 4, to_packed(w, add));
    }
  }
  for (std::int64_t n = 0; n < N; ++n) {
    col_sum[n] = sums[static_cast<std::size_t>(n)] - K * zero;
    tail(n, [b, ldb, n](std::int64_t k) { return b[k * ldb + n]; });
  }
}

void code_gemm(GemmKernel kernel, std::int64_t M, const std::uint8_t* a, std::int64_t lda,
               int a_bits, int za, const PackedB& b, std::int64_t* c, std::int64_t ldc) {
  const std::int64_t K = b.K, N = b.N;
  if (K >= (std::int64_t{1} << 16))
    throw InternalError(fmt::format("code_gemm: K = {} past the int32 accumulators", K));
  const std::int64_t cb = (std::int64_t{1} << (b.bits - 1)) - b.zero;  // true b = packed + cb
  if (kernel == GemmKernel::Reference) {
    std::vector<double> ad(static_cast<std::size_t>(M * K)), bd(static_cast<std::size_t>(K * N)),
        cd(static_cast<std::size_t>(M * N));
    for (std::int64_t i = 0; i < M; ++i)
      for (std::int64_t k = 0; k < K; ++k)
        ad[static_cast<std::size_t>(i * K + k)] = static_cast<double>(a[i * lda + k]) - za;
    for (std::int64_t k = 0; k < K; ++k)
      for (std::int64_t n = 0; n < N; ++n)
        bd[static_cast<std::size_t>(k * N + n)] = static_cast<double>(
            b.data[static_cast<std::size_t>(((k >> 2) * N + n) * 4 + (k & 3))] + cb);
    if (M > 0 && N > 0 && K > 0)
      cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(M),
                  static_cast<int>(N), static_cast<int>(K), 1.0, ad.data(), static_cast<int>(K),
                  bd.data(), static_cast<int>(N), 0.0, cd.data(), static_cast<int>(N));
    for (std::int64_t i = 0; i < M; ++i)
      for (std::int64_t n = 0; n < N; ++n)
        c[i * ldc + n] =
            K > 0 ? static_cast<std::int64_t>(cd[static_cast<std::size_t>(i * N + n)]) : 0;
    return;
  }
  thread_local std::vector<std::int32_t> raw;
  thread_local std::vector<std::int64_t> row_term, col_term;
  raw.resize(static_cast<std::size_t>(M * N));
  row_term.resize(static_cast<std::size_t>(M));
  col_term.resize(static_cast<std::size_t>(N));
  code_gemm_parts(kernel, M, a, lda, a_bits, za, b, raw.data(), row_term.data(), col_term.data());
  for (std::int64_t i = 0; i < M; ++i) {
    const std::int32_t* ri = raw.data() + i * N;
    const std::int64_t* ct = col_term.data();
    const std::int64_t rt = row_term[static_cast<std::size_t>(i)];
    std::int64_t* ci = c + i * ldc;
    for (std::int64_t n = 0; n < N; ++n) ci[n] = (ri[n] + ct[n]) + rt;
  }
}

void code_gemm_parts(GemmKernel kernel, std::int64_t M, const std::uint8_t* a, std::int64_t lda,
                     int a_bits, int za, const PackedB& b, std::int32_t* raw,
                     std::int64_t* row_term, std::int64_t* col_term) {
  const std::int64_t K = b.K, N = b.N, Kp = pad4(K);
  if (K >= (std::int64_t{1} << 16))
    throw InternalError(fmt::format("code_gemm: K = {} past the int32 accumulators", K));
  if (kernel == GemmKernel::Reference || kernel == GemmKernel::Auto)
    throw InternalError("code_gemm_parts: an integer kernel only");
  const std::int64_t cb = (std::int64_t{1} << (b.bits - 1)) - b.zero;  // true b = packed + cb
  raw_gemm(kernel, M, N, Kp, a, lda, b.data.data(), raw, N, a_bits, b.bits);
  // sum (a - za)(b' + cb) = sum a b' - za sum b' + cb sum (a - za), b' = packed:
  // a per-column and a per-row term beside the int32 sums.
  for (std::int64_t n = 0; n < N; ++n)
    col_term[n] = -za * (b.col_sum[static_cast<std::size_t>(n)] - K * cb);
  for (std::int64_t i = 0; i < M; ++i) {
    const std::uint8_t* ai = a + i * lda;
    std::int32_t row = 0;  // < K * 255 < 2^24
    for (std::int64_t k = 0; k < K; ++k) row += ai[k];
    row_term[i] = cb * (row - K * za);
  }
}

}  // namespace lpsim::trainer::impl
