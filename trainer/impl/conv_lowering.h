// Conv lowering of one sample: im2col (image -> [K x P] columns) and its
// adjoint col2im_add, as scalar loops (the definitions) and AVX-512 paths
// that give the same bits, chosen at run time (cpu.h).
#pragma once

#include <cstdint>

namespace lpsim::trainer::impl {

// Input C x H x W, kernel KH x KW, stride, padding pad on every side,
// output OH x OW; the lowered block has K = C KH KW rows of P = OH OW.
struct ConvShape {
  std::int64_t C = 0, H = 0, W = 0, OH = 0, OW = 0, K = 0, P = 0;
  std::int64_t KH = 1, KW = 1, stride = 1, pad = 0;
};

// The paths, each allowing those before it: Avx512 (F, BW, DQ, VL) at
// stride 1; Vbmi (and VBMI) for im2col of codes whose rows are short (64
// output bytes read at most 128 input bytes). A call runs the best path
// that the shape, the CPU and `most` allow.
enum class LoweringPath : std::uint8_t { Scalar, Avx512, Vbmi };
LoweringPath best_lowering_path();  // of this CPU
LoweringPath im2col_codes_path(const ConvShape& s, LoweringPath most);
LoweringPath col2im_add_path(const ConvShape& s, LoweringPath most);

// col[(c KH + kh) KW + kw][oh OW + ow] = x[c][oh stride - pad + kh][ow stride - pad + kw],
// or `fill` where that lies outside the image (0.0f for floats, the code of 0
// for codes). Writes the K P elements of col and nothing else.
void im2col(const ConvShape& s, const float* x, float* col);  // scalar
void im2col_codes(const ConvShape& s, const std::uint8_t* x, std::uint8_t* col, std::uint8_t fill,
                  LoweringPath most = best_lowering_path());
// x += im2col's transpose applied to col: each element of x adds its terms
// in (kh, kw) order, so every path gives the same floats.
void col2im_add(const ConvShape& s, const float* col, float* x,
                LoweringPath most = best_lowering_path());

}  // namespace lpsim::trainer::impl
