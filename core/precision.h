// Number formats and the per-tensor-role precision of one training step.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lpsim {

// A number format. Integer/fixed-point formats carry only a width; float
// formats carry exponent and mantissa widths (sign bit implied).
// The BitOPs width of a format is its total storage width `bits`
// (fp32 = 32, bf16 = 16, fp8-e4m3 = 8, int5 = 5), see docs/precision.md.
struct Format {
  enum class Kind : std::uint8_t { Int, Float };
  Kind kind = Kind::Int;
  int bits = 32;      // total width, 1..64
  int exp_bits = 0;   // Float only
  int man_bits = 0;   // Float only (stored mantissa bits, without the hidden one)

  static Format integer(int bits);
  static Format floating(int exp_bits, int man_bits);
  static Format fp32() { return floating(8, 23); }

  bool is_float() const { return kind == Kind::Float; }
  // Canonical spelling: "8" for int8, "fp32", "fp16", "bf16", "fp8-e4m3", "fp8-e5m2",
  // other floats "e<E>m<M>". Parses back with parse_format.
  std::string name() const;
  friend bool operator==(const Format&, const Format&) = default;
  friend auto operator<=>(const Format&, const Format&) = default;
};

inline constexpr int kMinBits = 1;
inline constexpr int kMaxBits = 64;

// Parses "8", "int8", "fp32", "fp16", "bf16", "fp8-e4m3", "fp8-e5m2", "e5m10".
// Throws InputError naming `where` and the allowed range (integer widths 1..64).
Format parse_format(std::string_view text, std::string_view where);

// Tensor roles of training (DESIGN.md): weights, activations, errors (gradients
// w.r.t. activations), weight gradients. Opt is optimizer state (momentum).
enum class Role : std::uint8_t { W = 0, A = 1, E = 2, G = 3, Opt = 4 };
inline constexpr int kNumRoles = 5;
std::string_view role_name(Role);

// The precision of every tensor role at one point of training.
struct PrecisionSet {
  std::array<Format, kNumRoles> by_role{Format::fp32(), Format::fp32(), Format::fp32(),
                                        Format::fp32(), Format::fp32()};
  // The master weights that the update (Phase::Update) reads and writes,
  // when a producer records them (trace key "Master", docs/trace-format.md);
  // unset: the update's weight traffic is at W's format, as traces without
  // the key have always been costed.
  std::optional<Format> master;
  const Format& operator[](Role r) const { return by_role[static_cast<int>(r)]; }
  Format& operator[](Role r) { return by_role[static_cast<int>(r)]; }
  // CPT-style FW/BW: W and A at `fw`, E and G at `bw`, optimizer state fp32.
  static PrecisionSet fw_bw(Format fw, Format bw);
  // "W8 A8 E8 G8 Opt fp32"-style short label; "8/8" when it is plain FW/BW;
  // " Master bf16" appended when `master` is set.
  std::string label() const;
  friend bool operator==(const PrecisionSet&, const PrecisionSet&) = default;
  friend auto operator<=>(const PrecisionSet&, const PrecisionSet&) = default;
};

}  // namespace lpsim
