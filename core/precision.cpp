// Number formats: names, parsing, labels.
#include "core/precision.h"

#include <charconv>

#include <fmt/format.h>

#include "core/error.h"

namespace lpsim {

Format Format::integer(int bits) {
  Format f;
  f.kind = Kind::Int;
  f.bits = bits;
  return f;
}

Format Format::floating(int exp_bits, int man_bits) {
  Format f;
  f.kind = Kind::Float;
  f.exp_bits = exp_bits;
  f.man_bits = man_bits;
  f.bits = 1 + exp_bits + man_bits;
  return f;
}

std::string Format::name() const {
  if (kind == Kind::Int) return std::to_string(bits);
  if (exp_bits == 8 && man_bits == 23) return "fp32";
  if (exp_bits == 5 && man_bits == 10) return "fp16";
  if (exp_bits == 8 && man_bits == 7) return "bf16";
  if (exp_bits == 4 && man_bits == 3) return "fp8-e4m3";
  if (exp_bits == 5 && man_bits == 2) return "fp8-e5m2";
  return fmt::format("e{}m{}", exp_bits, man_bits);
}

namespace {

bool parse_int(std::string_view s, int& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

Format parse_format(std::string_view text, std::string_view where) {
  std::string_view t = text;
  if (t == "fp32") return Format::fp32();
  if (t == "fp16") return Format::floating(5, 10);
  if (t == "bf16") return Format::floating(8, 7);
  if (t == "fp8-e4m3") return Format::floating(4, 3);
  if (t == "fp8-e5m2") return Format::floating(5, 2);
  if (t.size() > 1 && t[0] == 'e') {
    auto m = t.find('m');
    int e = 0, mant = 0;
    if (m != std::string_view::npos && parse_int(t.substr(1, m - 1), e) &&
        parse_int(t.substr(m + 1), mant)) {
      if (e < 2 || e > 11 || mant < 0 || mant > 52)
        throw InputError(fmt::format("{}: float format '{}': exponent bits must be 2..11 and "
                                     "mantissa bits 0..52",
                                     where, text));
      return Format::floating(e, mant);
    }
  }
  if (t.starts_with("int")) t.remove_prefix(3);
  int bits = 0;
  if (!parse_int(t, bits))
    throw InputError(fmt::format("{}: '{}' is not a number format: expected integer bits "
                                 "{}..{} or one of fp32, fp16, bf16, fp8-e4m3, fp8-e5m2",
                                 where, text, kMinBits, kMaxBits));
  if (bits < kMinBits || bits > kMaxBits)
    throw InputError(fmt::format("{}: {} bits is out of range: must be {}..{}", where, bits,
                                 kMinBits, kMaxBits));
  return Format::integer(bits);
}

std::string_view role_name(Role r) {
  switch (r) {
    case Role::W: return "W";
    case Role::A: return "A";
    case Role::E: return "E";
    case Role::G: return "G";
    case Role::Opt: return "Opt";
  }
  return "?";
}

PrecisionSet PrecisionSet::fw_bw(Format fw, Format bw) {
  PrecisionSet p;
  p[Role::W] = fw;
  p[Role::A] = fw;
  p[Role::E] = bw;
  p[Role::G] = bw;
  p[Role::Opt] = Format::fp32();
  return p;
}

std::string PrecisionSet::label() const {
  const auto& s = *this;
  const std::string master = s.master ? " Master " + s.master->name() : "";
  if (s[Role::W] == s[Role::A] && s[Role::E] == s[Role::G] && s[Role::Opt] == Format::fp32())
    return s[Role::W].name() + "/" + s[Role::E].name() + master;
  return fmt::format("W{} A{} E{} G{} Opt{}{}", s[Role::W].name(), s[Role::A].name(),
                     s[Role::E].name(), s[Role::G].name(), s[Role::Opt].name(), master);
}

}  // namespace lpsim
