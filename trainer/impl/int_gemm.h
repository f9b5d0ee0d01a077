// Integer GEMM of quantization codes (docs/trainer.md, "Integer GEMMs").
//
// Operands are the stored codes of <= 8-bit quantized tensors (quantize.h,
// QuantCodes: stored c in [0, 2^bits), true code c - zero). The left operand
// A is row-major u8 [M x Kp] (Kp = K rounded up to a multiple of 4, the pad
// zero); the right operand is packed once (PackedB) as [Kp/4][N][4] signed
// bytes c - 2^(bits-1), the layout of VNNI's vpdpbusd (four k of one column
// per 32-bit lane). code_gemm returns the exact sums of products of the TRUE
// codes, sum_k (a - za)(b - zb), in int64: every kernel gives the same
// integers, so every kernel gives the same bits after the (shared) epilogue.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lpsim::trainer::impl {

// Which GEMM the quantized layers run (hidden option --gemm-kernel):
//  Reference: FP64 BLAS (dgemm) on the true codes: exact, as every integer
//             below 2^53 is a double; the "fake-quantized float path".
//  Scalar, Avx2, Vnni: the integer kernels (int32 accumulation); Auto picks
//             the fastest the CPU has (run-time check).
enum class GemmKernel : std::uint8_t { Auto, Reference, Scalar, Avx2, Vnni };
GemmKernel parse_gemm_kernel(const std::string& text);  // InputError on anything else
std::string to_string(GemmKernel kernel);
bool cpu_supports(GemmKernel kernel);
// Auto -> the best supported kernel; an explicit kernel the CPU lacks -> InputError.
GemmKernel resolve(GemmKernel kernel);

inline std::int64_t pad4(std::int64_t k) { return (k + 3) / 4 * 4; }

struct PackedB {
  std::int64_t K = 0, N = 0;
  int bits = 8, zero = 0;             // of the codes packed
  std::vector<std::int8_t> data;      // [Kp/4][N][4], k >= K is 0
  std::vector<std::int64_t> col_sum;  // sum_k of the true codes, per column
};
// B given row-major [K x N] (b[k * ldb + n]) or transposed, [N x K]
// (b[n * ldb + k]); stored codes, true = code - zero.
void pack_b(PackedB& out, std::int64_t K, std::int64_t N, const std::uint8_t* b, std::int64_t ldb,
            bool transposed, int bits, int zero);
// The same into given arrays: d [pad4(K) * N] bytes, col_sum [N]. With
// K % 4 == 0, packings of [K1 x N] and [K2 x N] placed one after the other
// are the packing of the [(K1 + K2) x N] operand stacking them.
void pack_b_into(std::int8_t* d, std::int64_t* col_sum, std::int64_t K, std::int64_t N,
                 const std::uint8_t* b, std::int64_t ldb, bool transposed, int bits, int zero);

// c[i * ldc + j] = sum_{k < K} (a[i * lda + k] - za) * (b[k][j] - b.zero), exact.
// a[i * lda + k] must be 0 for K <= k < pad4(K). K < 2^16 (int32 accumulators).
void code_gemm(GemmKernel kernel, std::int64_t M, const std::uint8_t* a, std::int64_t lda,
               int a_bits, int za, const PackedB& b, std::int64_t* c, std::int64_t ldc);

// The same sums left in parts, for an epilogue that adds them itself:
// c[i][j] = raw[i * N + j] + col_term[j] + row_term[i] (raw [M x N] int32).
// Integer kernels only (Scalar, Avx2, Vnni); InternalError for the others.
void code_gemm_parts(GemmKernel kernel, std::int64_t M, const std::uint8_t* a, std::int64_t lda,
                     int a_bits, int za, const PackedB& b, std::int32_t* raw,
                     std::int64_t* row_term, std::int64_t* col_term);

// The raw kernels (for the benchmark): c = sum over Kp of a * packed b (int32).
// a_bits, b_bits <= 4 selects the narrow AVX2 kernel (int16 partial sums).
void raw_gemm(GemmKernel kernel, std::int64_t M, std::int64_t N, std::int64_t Kp,
              const std::uint8_t* a, std::int64_t lda, const std::int8_t* b, std::int32_t* c,
              std::int64_t ldc, int a_bits, int b_bits);

}  // namespace lpsim::trainer::impl
