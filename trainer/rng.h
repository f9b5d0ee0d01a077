// Counter-based random numbers: every random value is a pure function of
// (seed, stream, counter), so results never depend on thread count or on the
// order in which elements are visited (docs/trainer.md, "Determinism").
#pragma once

#include <cstdint>

namespace lpsim::trainer {

// SplitMix64's finaliser (Steele, Lea, Flood, OOPSLA 2014): a bijective
// 64-bit mixer with full avalanche.
constexpr std::uint64_t mix64(std::uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// What a stream of random numbers is keyed by: the run's seed, the iteration,
// and the tensor (layer x role). Element i of the stream is
// mix64(base() + i * golden), hashed again.
struct RngKey {
  std::uint64_t seed = 0;
  std::uint64_t iteration = 0;
  std::uint64_t tensor = 0;

  constexpr std::uint64_t base() const {
    return mix64(mix64(mix64(seed) ^ iteration) ^ (tensor * 0xd1b54a32d192ed03ULL));
  }
};

// Uniform float in [0, 1) with 24 random bits for element `i` of stream `base`.
inline float uniform01(std::uint64_t base, std::uint64_t i) {
  const std::uint64_t r = mix64(base + i * 0x9e3779b97f4a7c15ULL);
  return static_cast<float>(r >> 40) * (1.0f / 16777216.0f);
}

// Uniform integer in [0, n), 0 < n < 2^32, by Lemire's multiply-shift on 32
// random bits (bias below n / 2^32, under 1.4e-5 for 60,000 samples).
inline std::uint32_t uniform_below(std::uint64_t base, std::uint64_t i, std::uint32_t n) {
  const std::uint64_t r = mix64(base + i * 0x9e3779b97f4a7c15ULL) >> 32;
  return static_cast<std::uint32_t>((r * n) >> 32);
}

}  // namespace lpsim::trainer
