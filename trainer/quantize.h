// Quantizers of the trainer: in-place "fake quantization" of float arrays
// (quantize, then dequantize back to float), one function per method.
// Non-finite policy (all methods): NaN stays NaN; +-Inf saturate to the
// largest representable value of that sign; non-finite values are ignored
// when the tensor's range or scale is measured. docs/trainer.md has the
// formulas and their sources.
// Every quantizer except quantize_dynamic_fixed returns its overflow count:
// the elements that were NaN or +-Inf, plus (minifloat) those whose rounding
// lands past the format's largest finite value, i.e. where IEEE arithmetic
// would produce Inf. Dynamic loss scaling skips a step when it is non-zero.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/precision.h"
#include "trainer/rng.h"

namespace lpsim::trainer {

enum class Rounding : std::uint8_t { Nearest, Stochastic };
std::string to_string(Rounding);

// How an integer Format (Format::Kind::Int) is realised:
//  Range:        CPT / Banner et al. 2018 range-based linear, asymmetric:
//                2^b - 1 levels between the tensor's (or channel's) min and max.
//  DynamicFixed: MuPPET's dynamic fixed point, one power-of-two scale per tensor.
enum class IntMethod : std::uint8_t { Range, DynamicFixed };
std::string to_string(IntMethod);
IntMethod parse_int_method(const std::string& text);  // "range" | "dfx"; InputError otherwise

// Widths from which a quantizer is the identity on float32 data: an int grid of
// 2^24 or more steps is finer than float32's own 24-bit significand.
inline constexpr int kIdentityIntBits = 24;

// Range-based linear (CPT): with lo = min(x), hi = max(x), L = 2^bits - 1,
// s = (hi - lo) / L:  q = clamp(round((x - lo) / s), 0, L),  x' = q * s + lo.
// Nearest rounds half to even; stochastic is floor(v + u), u ~ U[0,1) from
// `key`, so it rounds up with probability equal to the remainder. A constant
// tensor (hi == lo) is returned unchanged.
std::size_t quantize_range(float* x, std::size_t n, int bits, Rounding rounding, const RngKey& key);

// Same, one [min, max] range per row of a [rows x cols] array (weights: one
// row per output channel). Random stream index = the flat element index.
std::size_t quantize_range_rows(float* x, std::size_t rows, std::size_t cols, int bits,
                                Rounding rounding, const RngKey& key);

// MuPPET dynamic fixed point: maxV = 2^(b-1) - 0.5, minV = -2^(b-1) - 0.5,
// sf = floor(log2(min(|maxV / max(x)|, |minV / min(x)|))) (a ratio with a
// zero denominator counts as +Inf), x' = clamp(round(x 2^sf), -2^(b-1),
// 2^(b-1) - 1) / 2^sf. An all-zero tensor stays zero. Returns sf (0 when
// the tensor holds no finite non-zero value).
int quantize_dynamic_fixed(float* x, std::size_t n, int bits, Rounding rounding, const RngKey& key);

// Minifloat with `exp_bits` exponent and `man_bits` mantissa bits, IEEE-style
// bias 2^(e-1) - 1 and gradual underflow (subnormals kept). Largest finite
// value: IEEE-style (top exponent reserved for Inf/NaN), except e4m3 which
// follows the OCP FP8 spec (top exponent holds normals, max 448). Values past
// it saturate (no Inf is produced). man_bits >= 23 with exp_bits >= 8 is
// the identity.
std::size_t quantize_minifloat(float* x, std::size_t n, int exp_bits, int man_bits,
                               Rounding rounding, const RngKey& key);
float minifloat_max(int exp_bits, int man_bits);

// Dispatch on a Format: Float -> minifloat (fp32 = identity), Int -> `method`
// (per-row ranges when rows > 1 and method is Range). Identity for int widths
// >= kIdentityIntBits.
std::size_t quantize(const Format& format, IntMethod method, float* x, std::size_t rows,
                     std::size_t cols, Rounding rounding, const RngKey& key);
bool is_identity(const Format& format);

// The same, split in blocks of kQuantBlock elements run by `parallel_for`
// (fn(0) .. fn(n - 1), any order, any threads). Bit-identical to the serial
// form: ranges are min / max (order-free) and random streams are indexed by
// element. Per-row ranges (weights) run in groups of rows. 8192 elements
// (a few microseconds) keep two threads' shares within a block of each other.
using ParallelFor = std::function<void(std::int64_t, const std::function<void(std::int64_t)>&)>;
inline constexpr std::size_t kQuantBlock = 8192;

// The integer codes behind an integer format of at most kMaxCodeBits bits
// (for the integer GEMMs, docs/trainer.md "Integer GEMMs"): element i of row
// r is exactly scale[r] * (code[i] - zero) + offset[r] (its float32 rounding
// is what quantize() writes to x). Stored codes lie in [0, 2^bits); zero is
// 0 for range quantization (offset = the range's lo) and 2^(bits-1) for
// dynamic fixed point (offset 0, scale 2^-sf). scale / offset hold one entry
// per row, or one for a per-tensor quantizer. A constant row has scale 0.
// valid is false (no codes) for float formats, wider integers, identity
// widths and tensors holding NaN or +-Inf.
inline constexpr int kMaxCodeBits = 8;
struct QuantCodes {
  bool valid = false;
  int bits = 0, zero = 0;
  std::vector<std::uint8_t> code;
  std::vector<float> scale, offset;
};
bool has_codes(const Format& format);  // integer, bits <= kMaxCodeBits

std::size_t quantize(const Format& format, IntMethod method, float* x, std::size_t rows,
                     std::size_t cols, Rounding rounding, const RngKey& key,
                     const ParallelFor& parallel_for, QuantCodes* codes = nullptr);
// The same out of place: dst = the quantized src (src is left as it is).
std::size_t quantize_to(const Format& format, IntMethod method, const float* src, float* dst,
                        std::size_t rows, std::size_t cols, Rounding rounding, const RngKey& key,
                        const ParallelFor& parallel_for, QuantCodes* codes = nullptr);

}  // namespace lpsim::trainer
