// Which SIMD paths of the trainer this CPU runs (checked once, at run time).
#pragma once

namespace lpsim::trainer::impl {

// AVX-512 F, BW, DQ and VL (every AVX-512 CPU since Skylake-SP). Each AVX-512
// path gives the bits of its scalar (or SSE2) form, which is the definition.
bool have_avx512();
// The same and VBMI (byte permutes across a whole register; Ice Lake on).
bool have_avx512vbmi();

}  // namespace lpsim::trainer::impl
