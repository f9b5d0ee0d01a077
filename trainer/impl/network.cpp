// The trainer's layers: conv (im2col + sgemm), linear (sgemm), batch norm,
// pool, ReLU, flatten, add, softmax cross-entropy; quantization per tensor
// role.
// Parallel work is split in chunks of kChunk samples, each computed by
// single-threaded BLAS calls; partial weight gradients are summed in chunk
// order, so results are the same bit for bit with any number of threads.
#include "trainer/network.h"

#include <cblas.h>
#include <fmt/format.h>
#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/error.h"
#include "trainer/adaptive_loss_scale.h"
#include "trainer/impl/conv_lowering.h"
#include "trainer/impl/cpu.h"
#include "trainer/impl/int_gemm.h"
#include "trainer/impl/parallel.h"

namespace lpsim::trainer {
namespace impl {

// The shape's fields: conv geometry (conv_lowering.h); C, H, W, OH, OW of
// pooling and C of batch norm too; K and P the GEMM sizes of linear layers.
struct Node : ConvShape {
  int graph_index = -1;
  Layer layer;
  std::vector<int> inputs;  // positions in Network::nodes_
  bool has_grad = false;    // a parameter lies at or before this node
  // Its only consumer writes every element of `grad` as 0.0f + (its term),
  // the bits that += into a zeroed gradient gives, so it is not zeroed first.
  bool grad_overwritten = false;
  std::int64_t out_elems = 0;
  std::vector<float> out, grad;
  // The loss scale `grad` carries (backward): the global S times the
  // adaptive scales of the layers above; 0 until something flows in.
  double grad_scale = 0;

  // Conv2d / Linear
  std::unique_ptr<Param> weight, bias;
  std::vector<float> wq, qin, col, eq, g_pre_w, g_pre_b;
  std::vector<std::vector<float>> dw_part, db_part, scratch;
  std::int64_t Cout = 0;
  std::int64_t rows_per_sample = 1;  // Linear: rows of the [rows x K] GEMM per sample
  // Integer GEMMs (docs/trainer.md, "Integer GEMMs"): codes of A, W, E;
  // A's im2col in codes (conv, [batch][K][P]); W as the forward GEMM's
  // operand (conv: rows padded to pad4(K); linear: packed W^T); conv
  // padding's mask [K x P] (1 = inside the image), packed, and per column.
  QuantCodes a_codes, w_codes, e_codes;
  bool fwd_codes = false;  // the last forward ran on codes (A and W valid)
  std::vector<std::uint8_t> colq, w_left, mask;
  impl::PackedB w_packed, mask_packed;
  std::vector<std::int64_t> mask_cols, w_mask;  // [P]; [Cout x P] = sum_k W code x mask
  struct CodeScratch {
    impl::PackedB packed, stacked;
    std::vector<std::uint8_t> left;
    std::vector<std::int64_t> t, dw, e_sum, a_sum;
    std::vector<std::int32_t> e_sum32, raw;
    std::vector<std::int64_t> row_term, col_term;
  };
  std::vector<CodeScratch> code_scratch;  // one per chunk

  // BatchNorm (weight = gamma, bias = beta; C channels of `spatial` elements)
  std::unique_ptr<Buffer> running_mean, running_var;
  std::vector<float> xhat, invstd;
  std::int64_t spatial = 1;

  // Pool
  std::vector<std::int32_t> argmax;
  // Activation
  float clip = std::numeric_limits<float>::infinity();  // relu6: 6
};

}  // namespace impl

namespace {

using impl::Node;

// PyTorch's BatchNorm default eps (the momentum is kBnMomentum, network.h).
constexpr double kBnEps = 1e-5;

// Batch norm's channel sums, in a fixed order that does not depend on the
// thread count: eight float lanes along a row (so the compiler can
// vectorise), the lanes and the rows summed in double.
constexpr int kLanes = 8;
template <typename Term>
double lane_sum(std::int64_t n, const Term& term) {
  float acc[kLanes] = {};
  std::int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int k = 0; k < kLanes; ++k) acc[k] += term(i + k);
  double s = 0;
  for (; i < n; ++i) s += term(i);
  for (int k = 0; k < kLanes; ++k) s += acc[k];
  return s;
}

// Element-wise work in fixed blocks over the pool (each element is computed
// alone, so the blocking cannot change a bit).
constexpr std::size_t kElementBlock = 16384;
template <typename Fn>
void for_blocks(impl::ThreadPool& pool, std::size_t n, const Fn& fn) {
  const auto blocks = static_cast<std::int64_t>((n + kElementBlock - 1) / kElementBlock);
  pool.parallel_for(blocks, [&](std::int64_t b) {
    const std::size_t begin = static_cast<std::size_t>(b) * kElementBlock;
    fn(begin, std::min(n, begin + kElementBlock));
  });
}

// ReLU (clip = +inf) or ReLU6 (clip = 6), written so that it vectorises:
// y = v > 0 ? min(v, clip) : 0 (NaN gives 0).
// In SSE2 (every x86-64), 4 lanes: min_ps(v, clip) is v < clip ? v : clip
// and cmpgt/cmplt are false for NaN, as the scalar selects; the scalar loops
// do the tails and are the definition.
void relu_forward(const float* __restrict x, float* __restrict y, std::size_t n, float clip) {
  const __m128 zero = _mm_setzero_ps(), vclip = _mm_set1_ps(clip);
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const __m128 v = _mm_loadu_ps(x + i);
    _mm_storeu_ps(y + i, _mm_and_ps(_mm_cmpgt_ps(v, zero), _mm_min_ps(v, vclip)));
  }
  for (; i < n; ++i) {
    const float v = x[i];
    const float t = v < clip ? v : clip;
    y[i] = v > 0.0f ? t : 0.0f;
  }
}
// dx += term, or (overwrite) dx = 0.0f + term: the same bits as adding to
// a zeroed dx (0.0f + -0.0f is +0.0f).
template <bool kOverwrite>
void relu_backward(const float* __restrict x, const float* __restrict dy, float* __restrict dx,
                   std::size_t n, float clip) {
  const __m128 zero = _mm_setzero_ps(), vclip = _mm_set1_ps(clip);
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const __m128 v = _mm_loadu_ps(x + i);
    const __m128 keep = _mm_and_ps(_mm_cmpgt_ps(v, zero), _mm_cmplt_ps(v, vclip));
    const __m128 term = _mm_and_ps(keep, _mm_loadu_ps(dy + i));
    _mm_storeu_ps(dx + i, _mm_add_ps(kOverwrite ? zero : _mm_loadu_ps(dx + i), term));
  }
  for (; i < n; ++i) {
    const float v = x[i], d = dy[i];
    const bool keep = v > 0.0f && v < clip;
    dx[i] = (kOverwrite ? 0.0f : dx[i]) + (keep ? d : 0.0f);
  }
}
template <bool kOverwrite>
void add_to(const float* __restrict x, float* __restrict y, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) y[i] = (kOverwrite ? 0.0f : y[i]) + x[i];
}

// Zeroes the gradient of every node that can receive one, in parallel;
// the others keep an all-zero gradient of the right size.
void zero_grads(impl::ThreadPool& pool, std::vector<std::unique_ptr<Node>>& nodes) {
  for (auto& np : nodes) {
    Node& n = *np;
    if (!n.has_grad) {
      if (n.grad.size() != n.out.size()) n.grad.assign(n.out.size(), 0.0f);
      continue;
    }
    n.grad.resize(n.out.size());
    if (n.grad_overwritten) continue;
    float* g = n.grad.data();
    for_blocks(pool, n.grad.size(),
               [g](std::size_t b, std::size_t e) { std::fill(g + b, g + e, 0.0f); });
  }
}

std::int64_t count_nonfinite(const std::vector<float>& v) {
  std::int64_t n = 0;
  for (float x : v) n += std::isfinite(x) ? 0 : 1;
  return n;
}

// Quantizes a backward tensor (E or G) in place and returns its overflow
// count (quantize.h); identity formats quantize nothing, so their
// non-finite values are counted here. `par` may be empty (serial).
std::int64_t quantize_backward(const Format& format, IntMethod method, std::vector<float>& x,
                               Rounding rounding, const RngKey& key, const ParallelFor& par) {
  if (is_identity(format)) return count_nonfinite(x);
  return static_cast<std::int64_t>(
      quantize(format, method, x.data(), 1, x.size(), rounding, key, par));
}

// Before `scale`-carrying error flows into `to`: a node fed by branches of
// different scales (adaptive scaling) keeps one, the latest, rescaling what it
// already holds (powers of two: exact in FP32). Never rescales without
// adaptive scaling, where every scale is the global S.
// A grad_overwritten gradient has one consumer, so it is joined once, at
// scale 0, and its stale values are never rescaled.
void join_scale(Node& to, double scale) {
  assert(!to.grad_overwritten || to.grad_scale == 0);
  if (to.grad_scale != 0 && to.grad_scale != scale) {
    const auto f = static_cast<float>(scale / to.grad_scale);
    for (float& v : to.grad) v *= f;
  }
  to.grad_scale = scale;
}

// Counts into `r` the E values quantized, the non-zero ones among the errors
// before quantization, and those the quantizer flushed to zero. Integer
// counts, so the blocking cannot change them.
void count_flushed(impl::ThreadPool& pool, const std::vector<float>& grad,
                   const std::vector<float>& eq, BackwardReport& r) {
  std::atomic<std::int64_t> nonzero{0}, flushed{0};
  const float* g = grad.data();
  const float* e = eq.data();
  for_blocks(pool, eq.size(), [&, g, e](std::size_t b, std::size_t end) {
    std::int64_t nz = 0, fl = 0;
    for (std::size_t i = b; i < end; ++i) {
      const bool z = g[i] != 0.0f;
      nz += z ? 1 : 0;
      fl += (z && e[i] == 0.0f) ? 1 : 0;
    }
    nonzero += nz;
    flushed += fl;
  });
  r.e_nonzero += nonzero;
  r.e_flushed += flushed;
  r.e_values += static_cast<std::int64_t>(eq.size());
}

std::uint64_t tensor_id(const Node& n, Role role, int sub = 0) {
  return static_cast<std::uint64_t>(n.graph_index) * 16 + static_cast<std::uint64_t>(role) * 2 +
         static_cast<std::uint64_t>(sub);
}

// 2 x 2 max pooling, stride 2, no padding, of one H x W plane: the same
// visit order and tie rule as the general loop (a later element wins only if
// it is larger or NaN), as selects instead of branches (which mispredict on
// data about half the time).
void max_pool_2x2(const float* x, std::int64_t W, std::int64_t OH, std::int64_t OW, float* out,
                  std::int32_t* argmax) {
  for (std::int64_t oh = 0; oh < OH; ++oh) {
    const float* r0 = x + 2 * oh * W;
    const float* r1 = r0 + W;
    const auto i0 = static_cast<std::int32_t>(2 * oh * W);
    const auto i1 = static_cast<std::int32_t>(i0 + W);
    for (std::int64_t ow = 0; ow < OW; ++ow) {
      const auto c = static_cast<std::int32_t>(2 * ow);
      float best = r0[2 * ow];
      std::int32_t arg = i0 + c;
      const float cand[3] = {r0[2 * ow + 1], r1[2 * ow], r1[2 * ow + 1]};
      const std::int32_t at[3] = {i0 + c + 1, i1 + c, i1 + c + 1};
      for (int k = 0; k < 3; ++k) {
        const bool take = cand[k] > best || cand[k] != cand[k];
        best = take ? cand[k] : best;
        arg = take ? at[k] : arg;
      }
      out[oh * OW + ow] = best;
      argmax[oh * OW + ow] = arg;
    }
  }
}

// The gradient of max_pool_2x2 when its windows tile the plane (H = 2 OH,
// W = 2 OW) and it is the plane's only consumer: every element written, the
// window's argmax 0.0f + g, the others 0.0f + 0.0f.
void max_pool_2x2_backward(const float* __restrict g, const std::int32_t* __restrict argmax,
                           std::int64_t W, std::int64_t OH, std::int64_t OW, float* __restrict gx) {
  const auto w = static_cast<std::int32_t>(W);
  const __m128 zero = _mm_setzero_ps();
  for (std::int64_t oh = 0; oh < OH; ++oh) {
    float* r0 = gx + 2 * oh * W;
    float* r1 = r0 + W;
    const float* go = g + oh * OW;
    const std::int32_t* ao = argmax + oh * OW;
    const auto base = static_cast<std::int32_t>(2 * oh * W);
    std::int64_t ow = 0;
    for (; ow + 4 <= OW; ow += 4) {  // four windows: 8 columns of both rows
      const auto i0 = base + 2 * static_cast<std::int32_t>(ow);
      const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(ao + ow));
      const __m128 v = _mm_loadu_ps(go + ow);
      const __m128i i00 = _mm_add_epi32(_mm_set1_epi32(i0), _mm_set_epi32(6, 4, 2, 0));
      const __m128i one = _mm_set1_epi32(1), wv = _mm_set1_epi32(w);
      auto pick = [&](__m128i at) {
        return _mm_add_ps(zero, _mm_and_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(a, at)), v));
      };
      const __m128 t00 = pick(i00), t01 = pick(_mm_add_epi32(i00, one));
      const __m128 t10 = pick(_mm_add_epi32(i00, wv)),
                   t11 = pick(_mm_add_epi32(_mm_add_epi32(i00, wv), one));
      _mm_storeu_ps(r0 + 2 * ow, _mm_unpacklo_ps(t00, t01));
      _mm_storeu_ps(r0 + 2 * ow + 4, _mm_unpackhi_ps(t00, t01));
      _mm_storeu_ps(r1 + 2 * ow, _mm_unpacklo_ps(t10, t11));
      _mm_storeu_ps(r1 + 2 * ow + 4, _mm_unpackhi_ps(t10, t11));
    }
    for (; ow < OW; ++ow) {
      const std::int32_t i00 = base + 2 * static_cast<std::int32_t>(ow), a = ao[ow];
      const float v = go[ow];
      r0[2 * ow] = 0.0f + (a == i00 ? v : 0.0f);
      r0[2 * ow + 1] = 0.0f + (a == i00 + 1 ? v : 0.0f);
      r1[2 * ow] = 0.0f + (a == i00 + w ? v : 0.0f);
      r1[2 * ow + 1] = 0.0f + (a == i00 + w + 1 ? v : 0.0f);
    }
  }
}

// db[o] += sum_p e[o][p] for one sample, each sum in p order from 0.0f (the
// order that fixes the bits); eight channels at a time so the additions of
// different channels overlap instead of waiting on one chain.
void bias_grad_add(const float* e, std::int64_t cout, std::int64_t P, float* db) {
  constexpr std::int64_t kGroup = 8;
  for (std::int64_t o0 = 0; o0 < cout; o0 += kGroup) {
    const std::int64_t g = std::min(kGroup, cout - o0);
    float acc[kGroup] = {};
    if (g == kGroup) {
      for (std::int64_t i = 0; i < P; ++i)
        for (std::int64_t j = 0; j < kGroup; ++j) acc[j] += e[(o0 + j) * P + i];
    } else {
      for (std::int64_t i = 0; i < P; ++i)
        for (std::int64_t j = 0; j < g; ++j) acc[j] += e[(o0 + j) * P + i];
    }
    for (std::int64_t j = 0; j < g; ++j) db[o0 + j] += acc[j];
  }
}

// ---- Integer GEMMs on quantization codes (docs/trainer.md, "Integer GEMMs").
// Every GEMM operand is q s + o, per row or per tensor, the im2col operand
// times the padding mask m (1 inside the image). A GEMM's element
// sum_k (xs qx + xo)(ys qy + yo m) is rebuilt from exact integer sums
// t = sum qx qy, xu = sum qx m, yv = sum qy, cnt = sum m, in this order, in
// double, rounded once to float. Every kernel (and the FP64 reference)
// gives the same integers, hence the same floats.
inline float affine_sum(double xs, double xo, double ys, double yo, std::int64_t t, std::int64_t xu,
                        std::int64_t yv, std::int64_t cnt) {
  return static_cast<float>(xs * ys * static_cast<double>(t) + xs * yo * static_cast<double>(xu) +
                            xo * ys * static_cast<double>(yv) + xo * yo * static_cast<double>(cnt));
}

// out[p] = affine_sum(xs, xo, ys, yo, t[p], xu[p], yv[p], cnt[p]) (+ *bias in
// float) for p < n; xu and cnt are arrays when their flag is set, else one
// value for all p. t is given whole (`t`) or in code_gemm_parts' parts,
// t[p] = raw[p] + col_term[p] + row_term (exact integers either way). The
// AVX-512 body does the same double operations in the same order, 8 lanes
// at a time (exact int64 -> double: all sums < 2^53).
struct IntSum {
  const std::int64_t* t = nullptr;  // whole, or:
  const std::int32_t* raw = nullptr;
  const std::int64_t* col_term = nullptr;
  std::int64_t row_term = 0;
  std::int64_t at(std::int64_t p) const { return t ? t[p] : (raw[p] + col_term[p]) + row_term; }
};
#define LPSIM_AVX512 __attribute__((target("avx512f,avx512dq,avx512vl")))
// GCC 12's AVX-512 headers start some intrinsics from _mm512_undefined_*,
// which -Wmaybe-uninitialized reports falsely once they are inlined.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
LPSIM_AVX512 std::int64_t affine_row_avx512(std::int64_t n, double A, double B, double C, double D,
                                            const IntSum& t, const std::int64_t* xu, bool xu_vec,
                                            const std::int64_t* yv, const std::int64_t* cnt,
                                            bool cnt_vec, const float* bias, float* out) {
  const __m512d vA = _mm512_set1_pd(A), vB = _mm512_set1_pd(B), vC = _mm512_set1_pd(C),
                vD = _mm512_set1_pd(D);
  const __m512d xu1 = _mm512_set1_pd(static_cast<double>(*xu));
  const __m512d cnt1 = _mm512_set1_pd(static_cast<double>(*cnt));
  const __m256 vb = _mm256_set1_ps(bias ? *bias : 0.0f);
  std::int64_t p = 0;
  for (; p + 8 <= n; p += 8) {
    __m512i ti;
    if (t.t) {
      ti = _mm512_loadu_si512(t.t + p);
    } else {
      ti = _mm512_cvtepi32_epi64(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(t.raw + p)));
      ti = _mm512_add_epi64(_mm512_add_epi64(ti, _mm512_loadu_si512(t.col_term + p)),
                            _mm512_set1_epi64(t.row_term));
    }
    const __m512d tt = _mm512_cvtepi64_pd(ti);
    const __m512d uu = xu_vec ? _mm512_cvtepi64_pd(_mm512_loadu_si512(xu + p)) : xu1;
    const __m512d vv = _mm512_cvtepi64_pd(_mm512_loadu_si512(yv + p));
    const __m512d cc = cnt_vec ? _mm512_cvtepi64_pd(_mm512_loadu_si512(cnt + p)) : cnt1;
    const __m512d sum =
        _mm512_add_pd(_mm512_add_pd(_mm512_add_pd(_mm512_mul_pd(vA, tt), _mm512_mul_pd(vB, uu)),
                                    _mm512_mul_pd(vC, vv)),
                      _mm512_mul_pd(vD, cc));
    __m256 f = _mm512_cvtpd_ps(sum);
    if (bias) f = _mm256_add_ps(f, vb);
    _mm256_storeu_ps(out + p, f);
  }
  return p;
}
#pragma GCC diagnostic pop

void affine_row(std::int64_t n, double xs, double xo, double ys, double yo, const IntSum& t,
                const std::int64_t* xu, bool xu_vec, const std::int64_t* yv,
                const std::int64_t* cnt, bool cnt_vec, const float* bias, float* out) {
  std::int64_t p = 0;
  if (impl::have_avx512())
    p = affine_row_avx512(n, xs * ys, xs * yo, xo * ys, xo * yo, t, xu, xu_vec, yv, cnt, cnt_vec,
                          bias, out);
  for (; p < n; ++p) {
    const float v =
        affine_sum(xs, xo, ys, yo, t.at(p), xu[xu_vec ? p : 0], yv[p], cnt[cnt_vec ? p : 0]);
    out[p] = bias ? v + *bias : v;
  }
}

inline double scale_of(const QuantCodes& c, std::int64_t row) {
  return c.scale[c.scale.size() == 1 ? 0 : static_cast<std::size_t>(row)];
}
inline double offset_of(const QuantCodes& c, std::int64_t row) {
  return c.offset[c.offset.size() == 1 ? 0 : static_cast<std::size_t>(row)];
}

// Conv padding's mask, once per layer: im2col of an all-ones image.
void build_mask(Node& n) {
  if (n.pad == 0) return;
  const std::vector<std::uint8_t> ones(static_cast<std::size_t>(n.C * n.H * n.W), 1);
  n.mask.resize(static_cast<std::size_t>(n.K * n.P));
  impl::im2col_codes(n, ones.data(), n.mask.data(), 0, impl::LoweringPath::Scalar);
  impl::pack_b(n.mask_packed, n.K, n.P, n.mask.data(), n.P, false, 1, 0);
  n.mask_cols = n.mask_packed.col_sum;
}

// Once per forward: W's codes as the left operand (conv) or packed W^T
// (linear), and conv's sum_k qw m.
void prepare_weight_codes(Node& n, bool conv, impl::GemmKernel kernel) {
  const QuantCodes& w = n.w_codes;
  if (!conv) {
    impl::pack_b(n.w_packed, n.K, n.Cout, w.code.data(), n.K, true, w.bits, w.zero);
    return;
  }
  const std::int64_t Kp = impl::pad4(n.K);
  n.w_left.assign(static_cast<std::size_t>(n.Cout * Kp), 0);
  n.w_mask.assign(static_cast<std::size_t>(n.pad > 0 ? n.Cout * n.P : n.Cout), 0);
  for (std::int64_t o = 0; o < n.Cout; ++o) {
    std::copy_n(w.code.data() + o * n.K, n.K, n.w_left.data() + o * Kp);
    if (n.pad == 0)
      for (std::int64_t k = 0; k < n.K; ++k)
        n.w_mask[static_cast<std::size_t>(o)] +=
            w.code[static_cast<std::size_t>(o * n.K + k)] - w.zero;
  }
  if (n.pad > 0)
    impl::code_gemm(kernel, n.Cout, n.w_left.data(), Kp, w.bits, w.zero, n.mask_packed,
                    n.w_mask.data(), n.P);
}

// Conv forward of sample s on codes: out[Cout x P] (+ bias).
void conv_forward_codes(Node& n, impl::GemmKernel kernel, std::int64_t s, Node::CodeScratch& cs,
                        const float* bias, float* out) {
  const QuantCodes &a = n.a_codes, &w = n.w_codes;
  std::uint8_t* col = n.colq.data() + s * n.K * n.P;
  const std::uint8_t* x = a.code.data() + s * n.C * n.H * n.W;
  impl::im2col_codes(n, x, col, static_cast<std::uint8_t>(a.zero));
  impl::pack_b(cs.packed, n.K, n.P, col, n.P, false, a.bits, a.zero);
  const bool parts = kernel != impl::GemmKernel::Reference;  // no int64 pass over C
  if (parts) {
    cs.raw.resize(static_cast<std::size_t>(n.Cout * n.P));
    cs.row_term.resize(static_cast<std::size_t>(n.Cout));
    cs.col_term.resize(static_cast<std::size_t>(n.P));
    impl::code_gemm_parts(kernel, n.Cout, n.w_left.data(), impl::pad4(n.K), w.bits, w.zero,
                          cs.packed, cs.raw.data(), cs.row_term.data(), cs.col_term.data());
  } else {
    cs.t.resize(static_cast<std::size_t>(n.Cout * n.P));
    impl::code_gemm(kernel, n.Cout, n.w_left.data(), impl::pad4(n.K), w.bits, w.zero, cs.packed,
                    cs.t.data(), n.P);
  }
  const double ys = a.scale[0], yo = a.offset[0];
  const std::int64_t K = n.K;
  for (std::int64_t o = 0; o < n.Cout; ++o) {
    const double xs = scale_of(w, o), xo = offset_of(w, o);
    const std::int64_t* xu = n.pad > 0 ? n.w_mask.data() + o * n.P : n.w_mask.data() + o;
    const std::int64_t* cnt = n.pad > 0 ? n.mask_cols.data() : &K;
    IntSum t;
    if (parts) {
      t.raw = cs.raw.data() + o * n.P;
      t.col_term = cs.col_term.data();
      t.row_term = cs.row_term[static_cast<std::size_t>(o)];
    } else {
      t.t = cs.t.data() + o * n.P;
    }
    affine_row(n.P, xs, xo, ys, yo, t, xu, n.pad > 0, cs.packed.col_sum.data(), cnt, n.pad > 0,
               bias ? bias + o : nullptr, out + o * n.P);
  }
}

// Linear forward of rows [r0, r1) on codes: out[(r1 - r0) x Cout] (+ bias).
void linear_forward_codes(Node& n, impl::GemmKernel kernel, std::int64_t r0, std::int64_t r1,
                          Node::CodeScratch& cs, const float* bias, float* out) {
  const QuantCodes &a = n.a_codes, &w = n.w_codes;
  const std::int64_t rows = r1 - r0, Kp = impl::pad4(n.K);
  const std::uint8_t* left = a.code.data() + r0 * n.K;
  std::int64_t lda = n.K;
  if (Kp != n.K) {  // rows padded to a multiple of 4 with code 0
    cs.left.assign(static_cast<std::size_t>(rows * Kp), 0);
    for (std::int64_t r = 0; r < rows; ++r)
      std::copy_n(left + r * n.K, n.K, cs.left.data() + r * Kp);
    left = cs.left.data(), lda = Kp;
  }
  cs.t.resize(static_cast<std::size_t>(rows * n.Cout));
  impl::code_gemm(kernel, rows, left, lda, a.bits, a.zero, n.w_packed, cs.t.data(), n.Cout);
  const double xs = a.scale[0], xo = a.offset[0];
  for (std::int64_t r = 0; r < rows; ++r) {
    std::int64_t xu = -n.K * a.zero;
    for (std::int64_t k = 0; k < n.K; ++k) xu += left[r * lda + k];
    for (std::int64_t o = 0; o < n.Cout; ++o) {
      const std::size_t i = static_cast<std::size_t>(r * n.Cout + o);
      const float v = affine_sum(xs, xo, scale_of(w, o), offset_of(w, o), cs.t[i], xu,
                                 n.w_packed.col_sum[static_cast<std::size_t>(o)], n.K);
      out[i] = bias ? v + bias[o] : v;
    }
  }
}

// Weight gradient of chunk [s0, s1) on codes, as exact sums in `cs`:
// dw = sum qe qa, a_sum[k] = sum qa, e_sum = sum qe (per row o, or per
// (o, p) when a conv has padding, for the mask term at the end).
void weight_grad_codes(Node& n, bool conv, impl::GemmKernel kernel, std::int64_t s0,
                       std::int64_t s1, Node::CodeScratch& cs) {
  const QuantCodes &e = n.e_codes, &a = n.a_codes;
  const bool masked = conv && n.pad > 0;
  cs.dw.resize(static_cast<std::size_t>(n.Cout * n.K));  // the first GEMM writes it
  cs.a_sum.assign(static_cast<std::size_t>(n.K), 0);
  cs.e_sum.assign(static_cast<std::size_t>(masked ? n.Cout * n.P : n.Cout), 0);
  cs.t.resize(cs.dw.size());
  // One code GEMM: left = E as [Cout x red] (red padded to 4), right = A as [red x K].
  bool first = true;
  auto accumulate = [&](const std::uint8_t* left, std::int64_t lda) {
    if (first) {
      impl::code_gemm(kernel, n.Cout, left, lda, e.bits, e.zero, cs.packed, cs.dw.data(), n.K);
      first = false;
    } else {
      impl::code_gemm(kernel, n.Cout, left, lda, e.bits, e.zero, cs.packed, cs.t.data(), n.K);
      for (std::size_t i = 0; i < cs.dw.size(); ++i) cs.dw[i] += cs.t[i];
    }
    for (std::size_t k = 0; k < cs.a_sum.size(); ++k) cs.a_sum[k] += cs.packed.col_sum[k];
  };
  if (!conv) {
    const std::int64_t r0 = s0 * n.rows_per_sample, rows = (s1 - s0) * n.rows_per_sample;
    const std::int64_t rp = impl::pad4(rows);
    cs.left.assign(static_cast<std::size_t>(n.Cout * rp), 0);
    for (std::int64_t r = 0; r < rows; ++r)
      for (std::int64_t o = 0; o < n.Cout; ++o) {
        const std::uint8_t q = e.code[static_cast<std::size_t>((r0 + r) * n.Cout + o)];
        cs.left[static_cast<std::size_t>(o * rp + r)] = q;
        cs.e_sum[static_cast<std::size_t>(o)] += q - e.zero;
      }
    impl::pack_b(cs.packed, rows, n.K, a.code.data() + r0 * n.K, n.K, false, a.bits, a.zero);
    accumulate(cs.left.data(), rp);
    return;
  }
  const std::int64_t Pp = impl::pad4(n.P);
  if (masked) cs.e_sum32.assign(cs.e_sum.size(), 0);
  // With P % 4 == 0 the chunk's samples stack along the reduction: one GEMM
  // of red = (s1 - s0) P, E's rows side by side, the packed A slices one
  // after the other (pack_b_into). The same exact integer sums.
  const std::int64_t red = (s1 - s0) * n.P;
  const bool stack = Pp == n.P && red < (std::int64_t{1} << 16);
  if (stack) {
    cs.left.resize(static_cast<std::size_t>(n.Cout * red));
    cs.stacked.K = red, cs.stacked.N = n.K, cs.stacked.bits = a.bits, cs.stacked.zero = a.zero;
    cs.stacked.data.resize(static_cast<std::size_t>(red * n.K));
    cs.packed.col_sum.resize(static_cast<std::size_t>(n.K));
  }
  for (std::int64_t s = s0; s < s1; ++s) {
    const std::uint8_t* es = e.code.data() + s * n.out_elems;
    const std::uint8_t* left = es;
    if (stack) {
      for (std::int64_t o = 0; o < n.Cout; ++o)
        std::copy_n(es + o * n.P, n.P, cs.left.data() + o * red + (s - s0) * n.P);
    } else if (Pp != n.P) {
      cs.left.assign(static_cast<std::size_t>(n.Cout * Pp), 0);
      for (std::int64_t o = 0; o < n.Cout; ++o)
        std::copy_n(es + o * n.P, n.P, cs.left.data() + o * Pp);
      left = cs.left.data();
    }
    if (masked) {  // int32 within the chunk (< kChunk * 255), int64 at its end
      std::int32_t* sum = cs.e_sum32.data();
      for (std::int64_t i = 0; i < n.Cout * n.P; ++i) sum[i] += es[i];
    } else {
      for (std::int64_t o = 0; o < n.Cout; ++o) {
        std::int32_t sum = 0;  // < P * 255: exact
        for (std::int64_t p = 0; p < n.P; ++p) sum += es[o * n.P + p];
        cs.e_sum[static_cast<std::size_t>(o)] += sum - n.P * e.zero;
      }
    }
    // B[p][k] = col[k][p]: the im2col rows, transposed.
    const std::uint8_t* col = n.colq.data() + s * n.K * n.P;
    if (stack) {
      impl::pack_b_into(cs.stacked.data.data() + (s - s0) * n.P * n.K, cs.packed.col_sum.data(),
                        n.P, n.K, col, n.P, true, a.bits, a.zero);
      for (std::size_t k = 0; k < cs.a_sum.size(); ++k) cs.a_sum[k] += cs.packed.col_sum[k];
      continue;
    }
    impl::pack_b(cs.packed, n.P, n.K, col, n.P, true, a.bits, a.zero);
    accumulate(left, Pp);
  }
  if (stack) {
    cs.stacked.col_sum = cs.a_sum;
    impl::code_gemm(kernel, n.Cout, cs.left.data(), red, e.bits, e.zero, cs.stacked, cs.dw.data(),
                    n.K);
  }
  if (masked)
    for (std::size_t i = 0; i < cs.e_sum.size(); ++i)
      cs.e_sum[i] = cs.e_sum32[i] - (s1 - s0) * e.zero;
}

// A linear layer's weight gradient on codes over the whole batch (rows <
// 2^15: int32 sums), into code_scratch.front() as weight_grad_codes would
// leave the chunks' totals: one GEMM with the batch as reduction, split in
// blocks of output rows over the pool (a chunk's reduction is only 16 rows).
constexpr std::int64_t kRowBlock = 16;
void weight_grad_linear_codes(impl::ThreadPool& pool, Node& n, impl::GemmKernel kernel,
                              std::int64_t batch) {
  const QuantCodes &e = n.e_codes, &a = n.a_codes;
  auto& cs = n.code_scratch.front();
  const std::int64_t rows = batch * n.rows_per_sample, rp = impl::pad4(rows);
  impl::pack_b(cs.packed, rows, n.K, a.code.data(), n.K, false, a.bits, a.zero);
  cs.a_sum = cs.packed.col_sum;
  cs.left.assign(static_cast<std::size_t>(n.Cout * rp), 0);
  cs.e_sum.assign(static_cast<std::size_t>(n.Cout), 0);
  cs.dw.resize(static_cast<std::size_t>(n.Cout * n.K));
  pool.parallel_for((n.Cout + kRowBlock - 1) / kRowBlock, [&](std::int64_t b) {
    const std::int64_t o0 = b * kRowBlock, o1 = std::min(n.Cout, o0 + kRowBlock);
    for (std::int64_t o = o0; o < o1; ++o) {
      std::uint8_t* left = cs.left.data() + o * rp;
      std::int64_t sum = 0;
      for (std::int64_t r = 0; r < rows; ++r) {
        const std::uint8_t q = e.code[static_cast<std::size_t>(r * n.Cout + o)];
        left[r] = q;
        sum += q - e.zero;
      }
      cs.e_sum[static_cast<std::size_t>(o)] = sum;
    }
    impl::code_gemm(kernel, o1 - o0, cs.left.data() + o0 * rp, rp, e.bits, e.zero, cs.packed,
                    cs.dw.data() + o0 * n.K, n.K);
  });
}

// The weight gradient from the exact sums of the first `parts` chunks
// (integers: summed in any order), one task per output row o over the pool.
void weight_grad_finish(impl::ThreadPool& pool, Node& n, bool conv, std::int64_t batch,
                        std::size_t parts, float* gw) {
  const QuantCodes &e = n.e_codes, &a = n.a_codes;
  const bool masked = conv && n.pad > 0;
  auto& total = n.code_scratch.front();
  for (std::size_t c = 1; c < parts; ++c) {
    const auto& cs = n.code_scratch[c];
    for (std::size_t i = 0; i < total.a_sum.size(); ++i) total.a_sum[i] += cs.a_sum[i];
  }
  const std::int64_t red = conv ? batch * n.P : batch * n.rows_per_sample;
  std::vector<std::int64_t> cnt(static_cast<std::size_t>(n.K), red);
  if (masked)
    for (std::int64_t k = 0; k < n.K; ++k) {
      const std::uint8_t* m = n.mask.data() + k * n.P;
      cnt[static_cast<std::size_t>(k)] = batch * std::count(m, m + n.P, std::uint8_t{1});
    }
  const double xs = e.scale[0], xo = e.offset[0], ys = a.scale[0], yo = a.offset[0];
  const std::int64_t e_row = masked ? n.P : 1;  // e_sum per row: [P] or one value
  pool.parallel_for(n.Cout, [&](std::int64_t o) {
    std::int64_t* dw = total.dw.data() + o * n.K;
    std::int64_t* es = total.e_sum.data() + o * e_row;
    for (std::size_t c = 1; c < parts; ++c) {
      const auto& cs = n.code_scratch[c];
      for (std::int64_t k = 0; k < n.K; ++k) dw[k] += cs.dw[static_cast<std::size_t>(o * n.K + k)];
      for (std::int64_t p = 0; p < e_row; ++p)
        es[p] += cs.e_sum[static_cast<std::size_t>(o * e_row + p)];
    }
    for (std::int64_t k = 0; k < n.K; ++k) {
      std::int64_t xu = 0;
      if (masked) {
        const std::uint8_t* m = n.mask.data() + k * n.P;
        for (std::int64_t p = 0; p < n.P; ++p) xu += m[p] ? es[p] : 0;
      } else {
        xu = es[0];
      }
      gw[o * n.K + k] =
          affine_sum(xs, xo, ys, yo, dw[k], xu, total.a_sum[static_cast<std::size_t>(k)],
                     cnt[static_cast<std::size_t>(k)]);
    }
  });
}

std::unique_ptr<Param> constant_param(const std::string& name, std::int64_t count, float value) {
  auto p = std::make_unique<Param>();
  p->name = name;
  p->value.assign(static_cast<std::size_t>(count), value);
  p->grad.assign(p->value.size(), 0.0f);
  p->momentum.assign(p->value.size(), 0.0f);
  return p;
}

std::unique_ptr<Param> make_param(const std::string& name, std::int64_t count, float bound,
                                  std::uint64_t seed, std::uint64_t stream) {
  auto p = std::make_unique<Param>();
  p->name = name;
  p->value.resize(static_cast<std::size_t>(count));
  const std::uint64_t base = RngKey{seed, ~std::uint64_t{0}, stream}.base();
  for (std::int64_t i = 0; i < count; ++i)
    p->value[static_cast<std::size_t>(i)] =
        (2.0f * uniform01(base, static_cast<std::uint64_t>(i)) - 1.0f) * bound;
  p->grad.assign(p->value.size(), 0.0f);
  p->momentum.assign(p->value.size(), 0.0f);
  return p;
}

std::string unsupported(const Layer& l, const std::string& why) {
  return fmt::format(
      "layer {} ({}): {}; the trainer runs conv2d (groups 1), linear, "
      "batchnorm, pool, activation (relu, relu6), flatten, add and a final "
      "softmax",
      l.name, layer_kind_name(l.kind), why);
}

}  // namespace

Network::Network(const Graph& graph, std::uint64_t seed, int threads) : graph_(graph), seed_(seed) {
  openblas_set_num_threads(1);  // parallelism is ours, in fixed chunks (see top)
  gemm_kernel_ = impl::resolve(impl::GemmKernel::Auto);
  pool_ = std::make_unique<impl::ThreadPool>(std::max(1, threads));
  std::vector<int> position(static_cast<std::size_t>(graph.size()), -1);
  int softmax_count = 0;
  for (int gi : graph.topological_order()) {
    auto node = std::make_unique<Node>();
    Node& n = *node;
    n.graph_index = gi;
    n.layer = graph.layer(gi);
    const Layer& l = n.layer;
    for (int in : graph.inputs(gi)) n.inputs.push_back(position[static_cast<std::size_t>(in)]);
    n.out_elems = l.out_shape.elements();
    for (int in : n.inputs)
      n.has_grad = n.has_grad || nodes_[static_cast<std::size_t>(in)]->has_grad;
    const auto& in_dims = l.in_shapes.empty() ? std::vector<std::int64_t>{} : l.in_shapes[0].dims;
    switch (l.kind) {
      case LayerKind::Input:
        break;
      case LayerKind::Conv2d: {
        if (l.groups != 1) throw InputError(unsupported(l, "grouped convolution"));
        if (in_dims.size() != 3) throw InputError(unsupported(l, "input is not C x H x W"));
        n.C = in_dims[0], n.H = in_dims[1], n.W = in_dims[2];
        n.Cout = l.out_features;
        n.KH = l.kernel_h, n.KW = l.kernel_w, n.stride = l.stride, n.pad = l.padding;
        n.OH = l.out_shape.dims.at(1), n.OW = l.out_shape.dims.at(2);
        n.K = n.C * n.KH * n.KW;
        n.P = n.OH * n.OW;
        build_mask(n);
        const float bound = 1.0f / std::sqrt(static_cast<float>(n.K));
        n.weight = make_param(l.name + ".weight", n.Cout * n.K, bound, seed, tensor_id(n, Role::W));
        if (l.bias)
          n.bias = make_param(l.name + ".bias", n.Cout, bound, seed, tensor_id(n, Role::W, 1));
        n.has_grad = true;
        break;
      }
      case LayerKind::Linear: {
        if (in_dims.empty()) throw InputError(unsupported(l, "input has no shape"));
        n.K = in_dims.back();
        n.Cout = l.out_features;
        n.rows_per_sample = l.in_shapes[0].elements() / n.K;
        const float bound = 1.0f / std::sqrt(static_cast<float>(n.K));
        n.weight = make_param(l.name + ".weight", n.Cout * n.K, bound, seed, tensor_id(n, Role::W));
        if (l.bias)
          n.bias = make_param(l.name + ".bias", n.Cout, bound, seed, tensor_id(n, Role::W, 1));
        n.has_grad = true;
        break;
      }
      case LayerKind::BatchNorm: {
        if (in_dims.empty() || in_dims[0] < 1)
          throw InputError(unsupported(l, "input has no shape"));
        n.C = in_dims[0];
        n.spatial = l.in_shapes[0].elements() / n.C;
        n.weight = constant_param(l.name + ".weight", n.C, 1.0f);
        n.bias = constant_param(l.name + ".bias", n.C, 0.0f);
        n.running_mean = std::make_unique<Buffer>(Buffer{
            l.name + ".running_mean", std::vector<float>(static_cast<std::size_t>(n.C), 0.0f)});
        n.running_var = std::make_unique<Buffer>(Buffer{
            l.name + ".running_var", std::vector<float>(static_cast<std::size_t>(n.C), 1.0f)});
        n.has_grad = true;
        break;
      }
      case LayerKind::Pool:
        if (in_dims.size() != 3) throw InputError(unsupported(l, "input is not C x H x W"));
        n.C = in_dims[0], n.H = in_dims[1], n.W = in_dims[2];
        n.OH = l.out_shape.dims.at(1), n.OW = l.out_shape.dims.at(2);
        if (l.pool_global) {
          n.KH = n.H, n.KW = n.W, n.stride = 1, n.pad = 0;
        } else {
          n.KH = l.kernel_h, n.KW = l.kernel_w, n.stride = l.stride, n.pad = l.padding;
        }
        break;
      case LayerKind::Activation:
        if (l.activation == "relu6")
          n.clip = 6.0f;
        else if (l.activation != "relu")
          throw InputError(unsupported(l, "activation " + l.activation));
        break;
      case LayerKind::Flatten:
      case LayerKind::Add:
        break;
      case LayerKind::Softmax:
        ++softmax_count;
        break;
      default:
        throw InputError(unsupported(l, "not implemented by the trainer"));
    }
    if (l.kind != LayerKind::Input && n.inputs.empty())
      throw InputError(unsupported(l, "has no input"));
    if (l.kind != LayerKind::Add && n.inputs.size() > 1)
      throw InputError(unsupported(l, "more than one input"));
    position[static_cast<std::size_t>(gi)] = static_cast<int>(nodes_.size());
    nodes_.push_back(std::move(node));
  }
  // Gradients that their only consumer overwrites whole (grad_overwritten).
  std::vector<int> consumers(nodes_.size(), 0), consumer(nodes_.size(), -1);
  for (std::size_t c = 0; c < nodes_.size(); ++c)
    for (int in : nodes_[c]->inputs) {
      ++consumers[static_cast<std::size_t>(in)];
      consumer[static_cast<std::size_t>(in)] = static_cast<int>(c);
    }
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (consumers[i] != 1) continue;
    const Node& c = *nodes_[static_cast<std::size_t>(consumer[i])];
    const LayerKind k = c.layer.kind;
    const bool tiling_pool = k == LayerKind::Pool && c.layer.pool_max && !c.layer.pool_global &&
                             c.KH == 2 && c.KW == 2 && c.stride == 2 && c.pad == 0 &&
                             c.H == 2 * c.OH && c.W == 2 * c.OW;
    nodes_[i]->grad_overwritten =
        k == LayerKind::Activation || k == LayerKind::Flatten || tiling_pool;
  }
  if (softmax_count != 1 || nodes_.back()->layer.kind != LayerKind::Softmax)
    throw InputError(
        fmt::format("model {}: the trainer needs exactly one softmax layer, last", graph.name()));
}

Network::~Network() = default;

int Network::threads() const { return pool_->threads(); }

void Network::set_gemm_kernel(const std::string& name) {
  gemm_kernel_ = impl::resolve(impl::parse_gemm_kernel(name));
}

std::string Network::gemm_kernel() const { return impl::to_string(gemm_kernel_); }

std::vector<Param*> Network::params() {
  std::vector<Param*> out;
  for (auto& n : nodes_) {
    if (n->weight) out.push_back(n->weight.get());
    if (n->bias) out.push_back(n->bias.get());
  }
  return out;
}

std::vector<Buffer*> Network::buffers() {
  std::vector<Buffer*> out;
  for (auto& n : nodes_) {
    if (n->running_mean) out.push_back(n->running_mean.get());
    if (n->running_var) out.push_back(n->running_var.get());
  }
  return out;
}

BatchStats Network::forward(const float* images, const std::uint8_t* labels, std::int64_t batch,
                            const PrecisionSet& p, const QuantPolicy& q, std::uint64_t iteration,
                            Mode mode) {
  batch_ = batch;
  labels_.assign(labels, labels + batch);
  const std::int64_t chunks = (batch + kChunk - 1) / kChunk;
  BatchStats stats;
  stats.samples = batch;
  const ParallelFor par = [this](std::int64_t count, const std::function<void(std::int64_t)>& fn) {
    pool_->parallel_for(count, fn);
  };
  for (auto& np : nodes_) {
    Node& n = *np;
    n.out.resize(static_cast<std::size_t>(batch * n.out_elems));
    const Layer& l = n.layer;
    const Node* in =
        n.inputs.empty() ? nullptr : nodes_[static_cast<std::size_t>(n.inputs[0])].get();
    switch (l.kind) {
      case LayerKind::Input: {
        float* y = n.out.data();
        for_blocks(*pool_, n.out.size(),
                   [=](std::size_t b, std::size_t e) { std::copy(images + b, images + e, y + b); });
        break;
      }
      case LayerKind::Conv2d:
      case LayerKind::Linear: {
        n.qin.resize(in->out.size());
        quantize_to(p[Role::A], q.int_method, in->out.data(), n.qin.data(), 1, n.qin.size(), q.a,
                    RngKey{seed_, iteration, tensor_id(n, Role::A)}, par, &n.a_codes);
        n.wq.resize(n.weight->value.size());
        quantize_to(p[Role::W], q.int_method, n.weight->value.data(), n.wq.data(),
                    static_cast<std::size_t>(n.Cout), static_cast<std::size_t>(n.K), q.w,
                    RngKey{seed_, iteration, tensor_id(n, Role::W)}, par, &n.w_codes);
        const float* bias = n.bias ? n.bias->value.data() : nullptr;
        const bool conv = l.kind == LayerKind::Conv2d;
        n.fwd_codes = n.a_codes.valid && n.w_codes.valid;
        n.code_scratch.resize(static_cast<std::size_t>(chunks));
        if (n.fwd_codes) {
          prepare_weight_codes(n, conv, gemm_kernel_);
          if (conv) n.colq.resize(static_cast<std::size_t>(batch * n.K * n.P));
          pool_->parallel_for(chunks, [&](std::int64_t c) {
            auto& cs = n.code_scratch[static_cast<std::size_t>(c)];
            const std::int64_t s0 = c * kChunk, s1 = std::min(batch, (c + 1) * kChunk);
            if (!conv) {
              const std::int64_t r0 = s0 * n.rows_per_sample;
              linear_forward_codes(n, gemm_kernel_, r0, s1 * n.rows_per_sample, cs, bias,
                                   n.out.data() + r0 * n.Cout);
              return;
            }
            for (std::int64_t s = s0; s < s1; ++s)
              conv_forward_codes(n, gemm_kernel_, s, cs, bias, n.out.data() + s * n.out_elems);
          });
        } else if (conv) {
          const std::int64_t in_elems = n.C * n.H * n.W;
          n.col.resize(static_cast<std::size_t>(batch * n.K * n.P));
          pool_->parallel_for(chunks, [&](std::int64_t c) {
            for (std::int64_t s = c * kChunk; s < std::min(batch, (c + 1) * kChunk); ++s) {
              float* col = n.col.data() + s * n.K * n.P;
              float* out = n.out.data() + s * n.out_elems;
              impl::im2col(n, n.qin.data() + s * in_elems, col);
              cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(n.Cout),
                          static_cast<int>(n.P), static_cast<int>(n.K), 1.0f, n.wq.data(),
                          static_cast<int>(n.K), col, static_cast<int>(n.P), 0.0f, out,
                          static_cast<int>(n.P));
              if (bias)
                for (std::int64_t o = 0; o < n.Cout; ++o)
                  for (std::int64_t i = 0; i < n.P; ++i) out[o * n.P + i] += bias[o];
            }
          });
        } else {
          pool_->parallel_for(chunks, [&](std::int64_t c) {
            const std::int64_t r0 = c * kChunk * n.rows_per_sample;
            const std::int64_t r1 = std::min(batch, (c + 1) * kChunk) * n.rows_per_sample;
            float* out = n.out.data() + r0 * n.Cout;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(r1 - r0),
                        static_cast<int>(n.Cout), static_cast<int>(n.K), 1.0f,
                        n.qin.data() + r0 * n.K, static_cast<int>(n.K), n.wq.data(),
                        static_cast<int>(n.K), 0.0f, out, static_cast<int>(n.Cout));
            if (bias)
              for (std::int64_t r = 0; r < r1 - r0; ++r)
                for (std::int64_t o = 0; o < n.Cout; ++o) out[r * n.Cout + o] += bias[o];
          });
        }
        break;
      }
      case LayerKind::BatchNorm: {
        const std::int64_t C = n.C, M = n.spatial;
        const float* x = in->out.data();
        const float* gamma = n.weight->value.data();
        const float* beta = n.bias->value.data();
        float* rm = n.running_mean->value.data();
        float* rv = n.running_var->value.data();
        if (mode == Mode::Eval) {
          for (std::int64_t c = 0; c < C; ++c) {
            const float a =
                gamma[c] / static_cast<float>(std::sqrt(static_cast<double>(rv[c]) + kBnEps));
            const float b = beta[c] - rm[c] * a;
            for (std::int64_t s = 0; s < batch; ++s) {
              const std::int64_t o = (s * C + c) * M;
              for (std::int64_t i = 0; i < M; ++i)
                n.out[static_cast<std::size_t>(o + i)] = x[o + i] * a + b;
            }
          }
          break;
        }
        n.xhat.resize(n.out.size());
        n.invstd.resize(static_cast<std::size_t>(C));
        const double count = static_cast<double>(batch * M);
        const double momentum = bn_momentum_;
        // One task per channel, each summing in sample order: thread-count independent.
        pool_->parallel_for(C, [&](std::int64_t c) {
          double sum = 0;
          for (std::int64_t s = 0; s < batch; ++s) {
            const float* row = x + (s * C + c) * M;
            sum += lane_sum(M, [row](std::int64_t i) { return row[i]; });
          }
          const double mean = sum / count;
          const float meanf = static_cast<float>(mean);
          double sq = 0;  // two passes: no cancellation in E[x^2] - mean^2
          for (std::int64_t s = 0; s < batch; ++s) {
            const float* row = x + (s * C + c) * M;
            sq += lane_sum(M, [row, meanf](std::int64_t i) {
              const float d = row[i] - meanf;
              return d * d;
            });
          }
          const double var = sq / count;  // biased: normalisation uses it
          const float inv = static_cast<float>(1.0 / std::sqrt(var + kBnEps));
          n.invstd[static_cast<std::size_t>(c)] = inv;
          for (std::int64_t s = 0; s < batch; ++s)
            for (std::int64_t i = 0; i < M; ++i) {
              const std::size_t o = static_cast<std::size_t>((s * C + c) * M + i);
              const float xh = (x[o] - meanf) * inv;
              n.xhat[o] = xh;
              n.out[o] = gamma[c] * xh + beta[c];
            }
          // Running statistics with the unbiased variance (PyTorch).
          const double unbiased = count > 1 ? var * count / (count - 1) : var;
          rm[c] = static_cast<float>((1 - momentum) * rm[c] + momentum * mean);
          rv[c] = static_cast<float>((1 - momentum) * rv[c] + momentum * unbiased);
        });
        break;
      }
      case LayerKind::Pool: {
        n.argmax.resize(n.out.size());
        const bool is_max = l.pool_max;
        const float inv_area = 1.0f / static_cast<float>(n.KH * n.KW);
        pool_->parallel_for(chunks, [&](std::int64_t c) {
          for (std::int64_t s = c * kChunk; s < std::min(batch, (c + 1) * kChunk); ++s)
            for (std::int64_t ch = 0; ch < n.C; ++ch) {
              const float* x = in->out.data() + (s * n.C + ch) * n.H * n.W;
              const std::int64_t obase = (s * n.C + ch) * n.OH * n.OW;
              if (is_max && n.pad == 0 && n.KH == 2 && n.KW == 2 && n.stride == 2) {
                max_pool_2x2(x, n.W, n.OH, n.OW, n.out.data() + obase, n.argmax.data() + obase);
                continue;
              }
              if (is_max && n.pad == 0) {  // the common case, without bounds checks
                for (std::int64_t oh = 0; oh < n.OH; ++oh)
                  for (std::int64_t ow = 0; ow < n.OW; ++ow) {
                    std::int64_t arg = oh * n.stride * n.W + ow * n.stride;
                    float best = x[arg];
                    for (std::int64_t kh = 0; kh < n.KH; ++kh)
                      for (std::int64_t kw = 0; kw < n.KW; ++kw) {
                        const std::int64_t i = (oh * n.stride + kh) * n.W + ow * n.stride + kw;
                        if (x[i] > best || x[i] != x[i]) best = x[i], arg = i;
                      }
                    const std::size_t o = static_cast<std::size_t>(obase + oh * n.OW + ow);
                    n.out[o] = best;
                    n.argmax[o] = static_cast<std::int32_t>(arg);
                  }
                continue;
              }
              for (std::int64_t oh = 0; oh < n.OH; ++oh)
                for (std::int64_t ow = 0; ow < n.OW; ++ow) {
                  float best = -std::numeric_limits<float>::infinity(), sum = 0.0f;
                  std::int32_t arg = -1;
                  for (std::int64_t kh = 0; kh < n.KH; ++kh) {
                    const std::int64_t ih = oh * n.stride - n.pad + kh;
                    if (ih < 0 || ih >= n.H) continue;
                    for (std::int64_t kw = 0; kw < n.KW; ++kw) {
                      const std::int64_t iw = ow * n.stride - n.pad + kw;
                      if (iw < 0 || iw >= n.W) continue;
                      const float v = x[ih * n.W + iw];
                      sum += v;
                      if (arg < 0 || v > best || v != v) {
                        best = v;
                        arg = static_cast<std::int32_t>(ih * n.W + iw);
                      }
                    }
                  }
                  const std::size_t o = static_cast<std::size_t>(obase + oh * n.OW + ow);
                  n.out[o] = is_max ? best : sum * inv_area;
                  n.argmax[o] = arg;
                }
            }
        });
        break;
      }
      case LayerKind::Activation: {
        const float clip = n.clip;
        const float* x = in->out.data();
        float* y = n.out.data();
        for_blocks(*pool_, n.out.size(),
                   [=](std::size_t b, std::size_t e) { relu_forward(x + b, y + b, e - b, clip); });
        break;
      }
      case LayerKind::Flatten: {
        const float* x = in->out.data();
        float* y = n.out.data();
        for_blocks(*pool_, n.out.size(),
                   [=](std::size_t b, std::size_t e) { std::copy(x + b, x + e, y + b); });
        break;
      }
      case LayerKind::Add: {
        std::fill(n.out.begin(), n.out.end(), 0.0f);
        for (int ii : n.inputs) {
          const auto& src = nodes_[static_cast<std::size_t>(ii)]->out;
          for (std::size_t i = 0; i < n.out.size(); ++i) n.out[i] += src[i];
        }
        break;
      }
      case LayerKind::Softmax: {
        const std::int64_t classes = n.out_elems;
        for (std::int64_t s = 0; s < batch; ++s) {
          const float* x = in->out.data() + s * classes;
          float* prob = n.out.data() + s * classes;
          float m = x[0];
          std::int64_t arg = 0;
          for (std::int64_t k = 1; k < classes; ++k)
            if (x[k] > m) m = x[k], arg = k;
          double sum = 0;
          for (std::int64_t k = 0; k < classes; ++k) sum += std::exp(static_cast<double>(x[k] - m));
          const std::uint8_t y = labels[s];
          if (y >= classes)
            throw InputError(
                fmt::format("label {} of sample {}: must be below {} classes", y, s, classes));
          for (std::int64_t k = 0; k < classes; ++k)
            prob[k] = static_cast<float>(std::exp(static_cast<double>(x[k] - m)) / sum);
          stats.loss_sum += std::log(sum) + static_cast<double>(m) - static_cast<double>(x[y]);
          stats.correct += arg == y ? 1 : 0;
        }
        break;
      }
      default:
        throw InternalError("unsupported layer reached forward");
    }
  }
  return stats;
}

std::int64_t Network::backward(const PrecisionSet& p, const QuantPolicy& q,
                               std::uint64_t iteration) {
  const std::int64_t batch = batch_;
  std::int64_t overflow = 0;
  const std::int64_t chunks = (batch + kChunk - 1) / kChunk;
  // Gradients accumulate (+=) from every consumer, so they start at zero;
  // nodes without a parameter at or before them never receive one. A
  // grad_overwritten gradient keeps last step's values, but its scale starts
  // at 0 like every other: its only consumer's join_scale finds nothing to
  // rescale, then overwrites it whole.
  zero_grads(*pool_, nodes_);
  for (auto& np : nodes_) np->grad_scale = 0;
  report_ = BackwardReport{};
  auto scale_of = [&q](const Node& n) {
    return n.grad_scale > 0 ? n.grad_scale : static_cast<double>(q.loss_scale);
  };
  const ParallelFor par = [this](std::int64_t count, const std::function<void(std::int64_t)>& fn) {
    pool_->parallel_for(count, fn);
  };
  for (auto it = nodes_.rbegin(); it != nodes_.rend(); ++it) {
    Node& n = **it;
    const Layer& l = n.layer;
    Node* in = n.inputs.empty() ? nullptr : nodes_[static_cast<std::size_t>(n.inputs[0])].get();
    const bool to_input = in != nullptr && in->has_grad;
    switch (l.kind) {
      case LayerKind::Input:
        break;
      case LayerKind::Softmax: {
        if (!to_input) break;
        join_scale(*in, q.loss_scale);
        const std::int64_t classes = n.out_elems;
        const float scale = q.loss_scale / static_cast<float>(batch);
        for (std::int64_t s = 0; s < batch; ++s)
          for (std::int64_t k = 0; k < classes; ++k) {
            const float target = k == labels_[static_cast<std::size_t>(s)] ? 1.0f : 0.0f;
            in->grad[static_cast<std::size_t>(s * classes + k)] +=
                (n.out[static_cast<std::size_t>(s * classes + k)] - target) * scale;
          }
        break;
      }
      case LayerKind::Activation: {
        if (!to_input) break;
        join_scale(*in, scale_of(n));
        const float clip = n.clip;
        const float* x = in->out.data();
        const float* dy = n.grad.data();
        float* dx = in->grad.data();
        const bool overwrite = in->grad_overwritten;
        for_blocks(*pool_, n.grad.size(), [=](std::size_t b, std::size_t e) {
          if (overwrite)
            relu_backward<true>(x + b, dy + b, dx + b, e - b, clip);
          else
            relu_backward<false>(x + b, dy + b, dx + b, e - b, clip);
        });
        break;
      }
      case LayerKind::Flatten: {
        if (!to_input) break;
        join_scale(*in, scale_of(n));
        const float* dy = n.grad.data();
        float* dx = in->grad.data();
        const bool overwrite = in->grad_overwritten;
        for_blocks(*pool_, n.grad.size(), [=](std::size_t b, std::size_t e) {
          if (overwrite)
            add_to<true>(dy + b, dx + b, e - b);
          else
            add_to<false>(dy + b, dx + b, e - b);
        });
        break;
      }
      case LayerKind::BatchNorm: {
        // dx = gamma invstd (dy - mean(dy) - xhat mean(dy xhat)), per channel.
        const std::int64_t C = n.C, M = n.spatial;
        const double count = static_cast<double>(batch * M);
        const float* gamma = n.weight->value.data();
        float* dgamma = n.weight->grad.data();
        float* dbeta = n.bias->grad.data();
        const float unscale = 1.0f / static_cast<float>(scale_of(n));
        if (to_input) join_scale(*in, scale_of(n));
        pool_->parallel_for(C, [&](std::int64_t c) {
          double sdy = 0, sdyx = 0;
          for (std::int64_t s = 0; s < batch; ++s) {
            const float* dy = n.grad.data() + (s * C + c) * M;
            const float* xh = n.xhat.data() + (s * C + c) * M;
            sdy += lane_sum(M, [dy](std::int64_t i) { return dy[i]; });
            sdyx += lane_sum(M, [dy, xh](std::int64_t i) { return dy[i] * xh[i]; });
          }
          dgamma[c] = static_cast<float>(sdyx) * unscale;
          dbeta[c] = static_cast<float>(sdy) * unscale;
          if (!to_input) return;
          const float a = gamma[c] * n.invstd[static_cast<std::size_t>(c)];
          const float mean_dy = static_cast<float>(sdy / count);
          const float mean_dyx = static_cast<float>(sdyx / count);
          for (std::int64_t s = 0; s < batch; ++s)
            for (std::int64_t i = 0; i < M; ++i) {
              const std::size_t o = static_cast<std::size_t>((s * C + c) * M + i);
              in->grad[o] += a * (n.grad[o] - mean_dy - n.xhat[o] * mean_dyx);
            }
        });
        overflow += count_nonfinite(n.weight->grad) + count_nonfinite(n.bias->grad);
        break;
      }
      case LayerKind::Add:
        for (int ii : n.inputs) {
          Node& src = *nodes_[static_cast<std::size_t>(ii)];
          if (!src.has_grad) continue;
          join_scale(src, scale_of(n));
          for (std::size_t i = 0; i < n.grad.size(); ++i) src.grad[i] += n.grad[i];
        }
        break;
      case LayerKind::Pool: {
        if (!to_input) break;
        join_scale(*in, scale_of(n));
        const bool is_max = l.pool_max;
        const float inv_area = 1.0f / static_cast<float>(n.KH * n.KW);
        if (in->grad_overwritten) {  // 2 x 2 windows tile the input (see the constructor)
          pool_->parallel_for(chunks, [&](std::int64_t c) {
            for (std::int64_t s = c * kChunk; s < std::min(batch, (c + 1) * kChunk); ++s)
              for (std::int64_t ch = 0; ch < n.C; ++ch) {
                const std::int64_t obase = (s * n.C + ch) * n.OH * n.OW;
                max_pool_2x2_backward(n.grad.data() + obase, n.argmax.data() + obase, n.W, n.OH,
                                      n.OW, in->grad.data() + (s * n.C + ch) * n.H * n.W);
              }
          });
          break;
        }
        pool_->parallel_for(chunks, [&](std::int64_t c) {
          for (std::int64_t s = c * kChunk; s < std::min(batch, (c + 1) * kChunk); ++s)
            for (std::int64_t ch = 0; ch < n.C; ++ch) {
              float* gx = in->grad.data() + (s * n.C + ch) * n.H * n.W;
              const std::int64_t obase = (s * n.C + ch) * n.OH * n.OW;
              for (std::int64_t oh = 0; oh < n.OH; ++oh)
                for (std::int64_t ow = 0; ow < n.OW; ++ow) {
                  const std::size_t o = static_cast<std::size_t>(obase + oh * n.OW + ow);
                  const float g = n.grad[o];
                  if (is_max) {
                    if (n.argmax[o] >= 0) gx[n.argmax[o]] += g;
                    continue;
                  }
                  for (std::int64_t kh = 0; kh < n.KH; ++kh) {
                    const std::int64_t ih = oh * n.stride - n.pad + kh;
                    if (ih < 0 || ih >= n.H) continue;
                    for (std::int64_t kw = 0; kw < n.KW; ++kw) {
                      const std::int64_t iw = ow * n.stride - n.pad + kw;
                      if (iw >= 0 && iw < n.W) gx[ih * n.W + iw] += g * inv_area;
                    }
                  }
                }
            }
        });
        break;
      }
      case LayerKind::Conv2d:
      case LayerKind::Linear: {
        double alpha = 1;
        if (q.adaptive) {
          const std::int64_t fan = l.kind == LayerKind::Conv2d ? n.Cout * n.KH * n.KW : n.Cout;
          alpha = adaptive_layer_scale(
              measure_error_weight(n.grad.data(), n.grad.size(), n.wq.data(), n.wq.size(), fan),
              scale_range_of(p[Role::E]));
          // The scale carried on stays inside float32 (2^100 leaves room for sums).
          alpha =
              std::min(alpha, std::exp2(std::floor(std::log2(std::ldexp(1.0, 100) / scale_of(n)))));
        }
        report_.layer_scales.push_back(alpha);
        const double carried = scale_of(n) * alpha;
        if (to_input) join_scale(*in, carried);
        // E = quantize(alpha grad); the codes, where the format has them,
        // are those of the scaled E, so the integer weight-gradient GEMM
        // sums what the float path would.
        if (alpha != 1) {
          n.eq.resize(n.grad.size());
          const auto a = static_cast<float>(alpha);
          const float* g = n.grad.data();
          float* eq = n.eq.data();
          for_blocks(*pool_, n.eq.size(), [=](std::size_t b, std::size_t e) {
            for (std::size_t i = b; i < e; ++i) eq[i] = g[i] * a;
          });
        }
        if (is_identity(p[Role::E])) {
          if (alpha == 1) n.eq = n.grad;
          overflow += count_nonfinite(n.eq);
          n.e_codes.valid = false;
        } else if (alpha != 1) {
          overflow += static_cast<std::int64_t>(
              quantize(p[Role::E], q.int_method, n.eq.data(), 1, n.eq.size(), q.e,
                       RngKey{seed_, iteration, tensor_id(n, Role::E)}, par, &n.e_codes));
        } else {
          n.eq.resize(n.grad.size());
          overflow += static_cast<std::int64_t>(
              quantize_to(p[Role::E], q.int_method, n.grad.data(), n.eq.data(), 1, n.eq.size(), q.e,
                          RngKey{seed_, iteration, tensor_id(n, Role::E)}, par, &n.e_codes));
        }
        // Underflow is read for minifloat E only (FloatErrorTally); a pass
        // over both tensors costs ~10% of an integer epoch, so not counted there.
        if (p[Role::E].is_float() && p[Role::E] != Format::fp32())
          count_flushed(*pool_, n.grad, n.eq, report_);
        const float unscale = 1.0f / static_cast<float>(carried);
        // Weight gradient on codes when A (forward) and E both have them.
        const bool wgrad_codes = n.fwd_codes && n.e_codes.valid;
        const std::size_t wsize = n.weight->value.size();
        n.dw_part.resize(static_cast<std::size_t>(chunks));
        n.db_part.resize(static_cast<std::size_t>(chunks));
        n.scratch.resize(static_cast<std::size_t>(chunks));
        const bool conv = l.kind == LayerKind::Conv2d;
        const bool linear_whole =
            wgrad_codes && !conv && batch * n.rows_per_sample < (std::int64_t{1} << 15);
        if (linear_whole) weight_grad_linear_codes(*pool_, n, gemm_kernel_, batch);
        pool_->parallel_for(chunks, [&](std::int64_t c) {
          auto& dw = n.dw_part[static_cast<std::size_t>(c)];
          auto& db = n.db_part[static_cast<std::size_t>(c)];
          dw.assign(wgrad_codes ? 0 : wsize, 0.0f);
          db.assign(static_cast<std::size_t>(n.Cout), 0.0f);
          const std::int64_t s0 = c * kChunk, s1 = std::min(batch, (c + 1) * kChunk);
          if (wgrad_codes && !linear_whole)
            weight_grad_codes(n, conv, gemm_kernel_, s0, s1,
                              n.code_scratch[static_cast<std::size_t>(c)]);
          if (conv) {
            const std::int64_t in_elems = n.C * n.H * n.W;
            auto& dcol = n.scratch[static_cast<std::size_t>(c)];
            if (to_input || n.fwd_codes) dcol.resize(static_cast<std::size_t>(n.K * n.P));
            for (std::int64_t s = s0; s < s1; ++s) {
              const float* e = n.eq.data() + s * n.out_elems;
              if (!wgrad_codes) {
                const float* col = n.col.data() + s * n.K * n.P;
                if (n.fwd_codes) {  // the forward kept codes only: im2col of A here
                  impl::im2col(n, n.qin.data() + s * in_elems, dcol.data());
                  col = dcol.data();
                }
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(n.Cout),
                            static_cast<int>(n.K), static_cast<int>(n.P), 1.0f, e,
                            static_cast<int>(n.P), col, static_cast<int>(n.P), 1.0f, dw.data(),
                            static_cast<int>(n.K));
              }
              bias_grad_add(e, n.Cout, n.P, db.data());
              if (to_input) {
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, static_cast<int>(n.K),
                            static_cast<int>(n.P), static_cast<int>(n.Cout), 1.0f, n.wq.data(),
                            static_cast<int>(n.K), e, static_cast<int>(n.P), 0.0f, dcol.data(),
                            static_cast<int>(n.P));
                impl::col2im_add(n, dcol.data(), in->grad.data() + s * in_elems);
              }
            }
          } else {
            const std::int64_t r0 = s0 * n.rows_per_sample, r1 = s1 * n.rows_per_sample;
            const float* e = n.eq.data() + r0 * n.Cout;
            if (!wgrad_codes)
              cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, static_cast<int>(n.Cout),
                          static_cast<int>(n.K), static_cast<int>(r1 - r0), 1.0f, e,
                          static_cast<int>(n.Cout), n.qin.data() + r0 * n.K, static_cast<int>(n.K),
                          0.0f, dw.data(), static_cast<int>(n.K));
            for (std::int64_t r = 0; r < r1 - r0; ++r)
              for (std::int64_t o = 0; o < n.Cout; ++o)
                db[static_cast<std::size_t>(o)] += e[r * n.Cout + o];
            if (to_input)
              cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(r1 - r0),
                          static_cast<int>(n.K), static_cast<int>(n.Cout), 1.0f, e,
                          static_cast<int>(n.Cout), n.wq.data(), static_cast<int>(n.K), 1.0f,
                          in->grad.data() + r0 * n.K, static_cast<int>(n.K));
          }
        });
        // Fixed reduction order over chunks: thread count cannot change the sums.
        auto& gw = n.weight->grad;
        std::fill(gw.begin(), gw.end(), 0.0f);
        if (wgrad_codes) {
          weight_grad_finish(*pool_, n, conv, batch,
                             linear_whole ? 1 : static_cast<std::size_t>(chunks), gw.data());
        } else {
          float* g = gw.data();  // each element sums the chunks in chunk order
          for_blocks(*pool_, wsize, [&n, g](std::size_t b, std::size_t e) {
            for (const auto& part : n.dw_part)
              for (std::size_t i = b; i < e; ++i) g[i] += part[i];
          });
        }
        n.g_pre_w = gw;
        if (n.bias) {
          auto& gb = n.bias->grad;
          std::fill(gb.begin(), gb.end(), 0.0f);
          for (const auto& part : n.db_part)
            for (std::size_t i = 0; i < gb.size(); ++i) gb[i] += part[i];
          n.g_pre_b = gb;
        }
        float g_unscale = unscale;
        if (q.adaptive) {  // the backward-weight GEMM's output kept inside G's range
          double g_max = 0;
          for (float v : gw) g_max = std::max(g_max, static_cast<double>(std::fabs(v)));
          if (n.bias)
            for (float v : n.bias->grad) g_max = std::max(g_max, static_cast<double>(std::fabs(v)));
          const double gamma = gradient_scale(g_max, scale_range_of(p[Role::G]));
          if (gamma != 1) {
            for (auto& v : gw) v *= static_cast<float>(gamma);
            if (n.bias)
              for (auto& v : n.bias->grad) v *= static_cast<float>(gamma);
            g_unscale = 1.0f / static_cast<float>(carried * gamma);
          }
        }
        overflow += quantize_backward(p[Role::G], q.int_method, gw, q.g,
                                      RngKey{seed_, iteration, tensor_id(n, Role::G)}, {});
        if (g_unscale != 1.0f)
          for (auto& v : gw) v *= g_unscale;
        if (n.bias) {
          auto& gb = n.bias->grad;
          overflow += quantize_backward(p[Role::G], q.int_method, gb, q.g,
                                        RngKey{seed_, iteration, tensor_id(n, Role::G, 1)}, {});
          if (g_unscale != 1.0f)
            for (auto& v : gb) v *= g_unscale;
        }
        break;
      }
      default:
        throw InternalError("unsupported layer reached backward");
    }
  }
  return overflow;
}

void Network::sgd_step(float lr, float momentum, float weight_decay) {
  for (Param* p : params()) {
    float* w = p->value.data();
    float* v = p->momentum.data();
    const float* g = p->grad.data();
    for_blocks(*pool_, p->value.size(), [=](std::size_t b, std::size_t e) {
      for (std::size_t i = b; i < e; ++i) {
        v[i] = momentum * v[i] + (g[i] + weight_decay * w[i]);
        w[i] -= lr * v[i];
      }
    });
  }
}

Network::LayerTensors Network::tensors_of(const std::string& name) const {
  for (const auto& n : nodes_)
    if (n->layer.name == name)
      return {n->out, n->grad, n->qin, n->wq, n->eq, n->g_pre_w, n->g_pre_b};
  throw InputError(fmt::format("model {}: no layer named {}", graph_.name(), name));
}

std::vector<std::string> Network::layer_names() const {
  std::vector<std::string> out;
  for (const auto& n : nodes_) out.push_back(n->layer.name);
  return out;
}

}  // namespace lpsim::trainer
