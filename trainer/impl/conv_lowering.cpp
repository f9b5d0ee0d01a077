// Conv lowering (conv_lowering.h): im2col and col2im_add.
#include "trainer/impl/conv_lowering.h"

#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "trainer/impl/cpu.h"

namespace lpsim::trainer::impl {
namespace {

// Output columns ow whose input column ow * stride - pad + kw lies inside [0, W).
inline void valid_columns(const ConvShape& n, std::int64_t kw, std::int64_t& lo, std::int64_t& hi) {
  const std::int64_t off = kw - n.pad;
  lo = off >= 0 ? 0 : (-off + n.stride - 1) / n.stride;
  hi = n.W - off <= 0 ? 0 : std::min(n.OW, (n.W - off + n.stride - 1) / n.stride);
  lo = std::min(lo, hi);
}

// bytes in [sizeof(Word), 2 sizeof(Word)]: the first and the last Word, which
// overlap when bytes < 2 sizeof(Word); both read before either is written.
template <class Word>
inline void copy_ends(unsigned char* dst, const unsigned char* src, std::int64_t bytes) {
  constexpr std::int64_t w = sizeof(Word);
  Word a, b;
  std::memcpy(&a, src, w);
  std::memcpy(&b, src + bytes - w, w);
  std::memcpy(dst, &a, w);
  std::memcpy(dst + bytes - w, &b, w);
}

// Copies `bytes` bytes between arrays that do not overlap, with 16-, 8- or
// 4-byte moves (the last one overlapping the previous): im2col's rows are a
// few dozen bytes, where a call to memmove costs more than the copy.
inline void copy_short(void* dst_v, const void* src_v, std::int64_t bytes) {
  auto* dst = static_cast<unsigned char*>(dst_v);
  const auto* src = static_cast<const unsigned char*>(src_v);
  if (bytes >= 16) {
    std::int64_t i = 0;
    for (; i + 16 <= bytes; i += 16)
      _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i),
                       _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i)));
    if (i < bytes)
      _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + bytes - 16),
                       _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + bytes - 16)));
  } else if (bytes >= 8) {
    copy_ends<std::uint64_t>(dst, src, bytes);
  } else if (bytes >= 4) {
    copy_ends<std::uint32_t>(dst, src, bytes);
  } else {
    for (std::int64_t i = 0; i < bytes; ++i) dst[i] = src[i];
  }
}

// `fill` is what the padding reads: 0.0f for floats, the code of 0 for
// codes. With padding, the whole [K x P] block is filled first (one pass)
// and only the image's segments are copied over it.
template <typename T>
void im2col_scalar(const ConvShape& n, const T* x, T* col, T fill) {
  const bool prefilled = n.pad > 0;
  if (prefilled) std::fill(col, col + n.K * n.P, fill);
  for (std::int64_t c = 0; c < n.C; ++c)
    for (std::int64_t kh = 0; kh < n.KH; ++kh)
      for (std::int64_t kw = 0; kw < n.KW; ++kw) {
        T* row = col + ((c * n.KH + kh) * n.KW + kw) * n.P;
        std::int64_t lo, hi;
        valid_columns(n, kw, lo, hi);
        const std::int64_t off = kw - n.pad;
        for (std::int64_t oh = 0; oh < n.OH; ++oh) {
          const std::int64_t ih = oh * n.stride - n.pad + kh;
          T* dst = row + oh * n.OW;
          if (ih < 0 || ih >= n.H) {
            if (!prefilled) std::fill(dst, dst + n.OW, fill);
            continue;
          }
          const T* src = x + (c * n.H + ih) * n.W + off;
          if (!prefilled) std::fill(dst, dst + lo, fill);
          if (n.stride == 1) {
            copy_short(dst + lo, src + lo, (hi - lo) * static_cast<std::int64_t>(sizeof(T)));
          } else {
            for (std::int64_t ow = lo; ow < hi; ++ow) dst[ow] = src[ow * n.stride];
          }
          if (!prefilled) std::fill(dst + hi, dst + n.OW, fill);
        }
      }
}

// im2col of codes at stride 1 with AVX-512BW: every row segment of the
// block is one masked 32-byte load and store (OW bytes a segment). With
// padding, the image is first copied into a plane padded with `fill`, so
// that every segment is a whole one. The same bytes as im2col, which
// remains the definition.
// Whether im2col_codes_vbmi takes the block: a 64-byte piece of whole
// output rows reads at most 128 bytes of its input rows.
bool vbmi_fits(const ConvShape& n, std::int64_t Wp) {
  if (n.OW > 64) return false;
  const std::int64_t rows = 64 / n.OW;
  return (rows - 1) * Wp + n.OW + n.KW - 1 <= 128;
}

// im2col_codes_stride1_avx512 with AVX-512 VBMI, on the (padded) plane: per
// (c, kh) and piece of 64 / OW output rows, the input rows they read are
// loaded once (<= 128 bytes) and every kw's piece is one vpermt2b of them
// (byte b of a piece: row b / OW, column b % OW + kw) and one masked store.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vbmi"))) void im2col_codes_vbmi(
    const ConvShape& n, const std::uint8_t* plane, std::int64_t Hp, std::int64_t Wp,
    std::uint8_t* col) {
  const std::int64_t C = n.C, KH = n.KH, KW = n.KW, OH = n.OH, OW = n.OW, P = n.P;
  const std::int64_t rows = 64 / OW;
  alignas(64) std::uint8_t at[64] = {};
  for (std::int64_t b = 0; b < rows * OW; ++b)
    at[b] = static_cast<std::uint8_t>(b / OW * Wp + b % OW);
  const __m512i idx = _mm512_load_si512(at);
  auto bytes_mask = [](std::int64_t k) {
    return k >= 64 ? ~__mmask64{0} : k <= 0 ? __mmask64{0} : (__mmask64{1} << k) - 1;
  };
  for (std::int64_t c = 0; c < C; ++c)
    for (std::int64_t kh = 0; kh < KH; ++kh)
      for (std::int64_t oh0 = 0; oh0 < OH; oh0 += rows) {
        const std::int64_t nrows = std::min(rows, OH - oh0);
        const std::int64_t span = (nrows - 1) * Wp + OW + KW - 1;
        const std::uint8_t* base = plane + (c * Hp + oh0 + kh) * Wp;
        const __m512i t0 = _mm512_maskz_loadu_epi8(bytes_mask(span), base);
        const __m512i t1 = _mm512_maskz_loadu_epi8(bytes_mask(span - 64), base + 64);
        const __mmask64 out = bytes_mask(nrows * OW);
        for (std::int64_t kw = 0; kw < KW; ++kw) {
          const __m512i v = _mm512_permutex2var_epi8(
              t0, _mm512_add_epi8(idx, _mm512_set1_epi8(static_cast<char>(kw))), t1);
          _mm512_mask_storeu_epi8(col + ((c * KH + kh) * KW + kw) * P + oh0 * OW, out, v);
        }
      }
}

__attribute__((target("avx512f,avx512bw,avx512vl"))) void im2col_codes_stride1_avx512(
    const ConvShape& n, const std::uint8_t* x, std::uint8_t* col, std::uint8_t fill, bool vbmi) {
  const std::int64_t Hp = n.H + 2 * n.pad, Wp = n.W + 2 * n.pad;
  const std::uint8_t* plane = x;
  if (n.pad > 0) {
    thread_local std::vector<std::uint8_t> padded;
    padded.assign(static_cast<std::size_t>(n.C * Hp * Wp), fill);
    for (std::int64_t c = 0; c < n.C; ++c)
      for (std::int64_t h = 0; h < n.H; ++h)
        std::memcpy(padded.data() + (c * Hp + h + n.pad) * Wp + n.pad, x + (c * n.H + h) * n.W,
                    static_cast<std::size_t>(n.W));
    plane = padded.data();
  }
  if (vbmi) {
    im2col_codes_vbmi(n, plane, Hp, Wp, col);
    return;
  }
  // Segments are written in order, so each may store 32 bytes whole: the
  // next segment overwrites what lies past its end. Only the block's last
  // store is masked (past it starts another sample, maybe another thread's).
  const std::int64_t C = n.C, KH = n.KH, KW = n.KW, OH = n.OH, OW = n.OW;
  std::uint8_t* const end = col + n.K * n.P;
  for (std::int64_t c = 0; c < C; ++c)
    for (std::int64_t kh = 0; kh < KH; ++kh)
      for (std::int64_t kw = 0; kw < KW; ++kw) {
        std::uint8_t* row = col + ((c * KH + kh) * KW + kw) * OH * OW;
        const std::uint8_t* src = plane + (c * Hp + kh) * Wp + kw;
        for (std::int64_t oh = 0; oh < OH; ++oh, src += Wp, row += OW)
          for (std::int64_t j = 0; j < OW; j += 32) {
            const std::int64_t w = std::min<std::int64_t>(32, OW - j);
            const auto m = static_cast<__mmask32>(w == 32 ? 0xffffffffu : (1u << w) - 1);
            const __m256i v = _mm256_maskz_loadu_epi8(m, src + j);
            if (end - (row + j) >= 32)
              _mm256_storeu_si256(reinterpret_cast<__m256i*>(row + j), v);
            else
              _mm256_mask_storeu_epi8(row + j, m, v);
          }
      }
}

// col2im_add at stride 1 with AVX-512: each input row in pieces of 16
// lanes held in a register while the (kh, kw) rows add into it, a masked
// add per (kh, kw) (lanes outside the window keep their value, so no + 0.0f
// turns a -0.0f into +0.0f). Every element receives the same additions in
// the same (kh, kw) order as the loop below, which is the definition.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
__attribute__((target("avx512f,avx512dq,avx512vl"))) void col2im_add_stride1_avx512(
    const ConvShape& n, const float* col, float* x) {
  std::int64_t lo[64], hi[64];  // input columns [lo, hi) that kernel column kw reaches
  for (std::int64_t kw = 0; kw < n.KW; ++kw) {
    std::int64_t l, h;
    valid_columns(n, kw, l, h);
    lo[kw] = l + kw - n.pad;
    hi[kw] = h + kw - n.pad;
  }
  for (std::int64_t c = 0; c < n.C; ++c)
    for (std::int64_t ih = 0; ih < n.H; ++ih) {
      float* dst = x + (c * n.H + ih) * n.W;
      for (std::int64_t j0 = 0; j0 < n.W; j0 += 16) {
        const std::int64_t w = std::min<std::int64_t>(16, n.W - j0);
        const auto all = static_cast<__mmask16>((1u << w) - 1);
        __m512 acc = _mm512_maskz_loadu_ps(all, dst + j0);
        for (std::int64_t kh = 0; kh < n.KH; ++kh) {
          const std::int64_t oh = ih + n.pad - kh;
          if (oh < 0 || oh >= n.OH) continue;
          for (std::int64_t kw = 0; kw < n.KW; ++kw) {
            const std::int64_t a = std::max(j0, lo[kw]), b = std::min(j0 + w, hi[kw]);
            if (a >= b) continue;
            const auto mask =
                static_cast<__mmask16>(((1u << (b - j0)) - 1) & ~((1u << (a - j0)) - 1));
            // Lane l is input column j0 + l, read from output column j0 + l - (kw - pad).
            const float* src =
                col + ((c * n.KH + kh) * n.KW + kw) * n.P + oh * n.OW + j0 - (kw - n.pad);
            acc = _mm512_mask_add_ps(acc, mask, acc, _mm512_maskz_loadu_ps(mask, src));
          }
        }
        _mm512_mask_storeu_ps(dst + j0, all, acc);
      }
    }
}
#pragma GCC diagnostic pop

void col2im_add_scalar(const ConvShape& n, const float* col, float* x) {
  for (std::int64_t c = 0; c < n.C; ++c)
    for (std::int64_t kh = 0; kh < n.KH; ++kh)
      for (std::int64_t kw = 0; kw < n.KW; ++kw) {
        const float* row = col + ((c * n.KH + kh) * n.KW + kw) * n.P;
        std::int64_t lo, hi;
        valid_columns(n, kw, lo, hi);
        const std::int64_t off = kw - n.pad;
        for (std::int64_t oh = 0; oh < n.OH; ++oh) {
          const std::int64_t ih = oh * n.stride - n.pad + kh;
          if (ih < 0 || ih >= n.H) continue;
          float* dst = x + (c * n.H + ih) * n.W + off;
          const float* src = row + oh * n.OW;
          if (n.stride == 1) {  // contiguous: vectorises, same additions per element
            for (std::int64_t ow = lo; ow < hi; ++ow) dst[ow] += src[ow];
          } else {
            for (std::int64_t ow = lo; ow < hi; ++ow) dst[ow * n.stride] += src[ow];
          }
        }
      }
}

}  // namespace

LoweringPath best_lowering_path() {
  return have_avx512vbmi() ? LoweringPath::Vbmi
         : have_avx512()   ? LoweringPath::Avx512
                           : LoweringPath::Scalar;
}

LoweringPath im2col_codes_path(const ConvShape& s, LoweringPath most) {
  most = std::min(most, best_lowering_path());
  if (most == LoweringPath::Scalar || s.stride != 1) return LoweringPath::Scalar;
  if (most == LoweringPath::Vbmi && vbmi_fits(s, s.W + 2 * s.pad)) return LoweringPath::Vbmi;
  return LoweringPath::Avx512;
}

LoweringPath col2im_add_path(const ConvShape& s, LoweringPath most) {
  most = std::min(most, best_lowering_path());
  if (most == LoweringPath::Scalar || s.stride != 1 || s.KW > 64) return LoweringPath::Scalar;
  return LoweringPath::Avx512;
}

void im2col(const ConvShape& s, const float* x, float* col) { im2col_scalar(s, x, col, 0.0f); }

void im2col_codes(const ConvShape& s, const std::uint8_t* x, std::uint8_t* col, std::uint8_t fill,
                  LoweringPath most) {
  const LoweringPath path = im2col_codes_path(s, most);
  if (path == LoweringPath::Scalar)
    im2col_scalar(s, x, col, fill);
  else
    im2col_codes_stride1_avx512(s, x, col, fill, path == LoweringPath::Vbmi);
}

void col2im_add(const ConvShape& s, const float* col, float* x, LoweringPath most) {
  if (col2im_add_path(s, most) == LoweringPath::Avx512)
    col2im_add_stride1_avx512(s, col, x);
  else
    col2im_add_scalar(s, col, x);
}

}  // namespace lpsim::trainer::impl
