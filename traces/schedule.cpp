// Schedule registry: splits a spec string and hands it to the kind's factory;
// CPT's cyclic formula; parsing helpers shared by the kinds.
#include "traces/schedule.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <numbers>

#include "core/error.h"
#include "traces/impl/spec_parse.h"

namespace lpsim {

namespace schedule_impl {

void spec_error(std::string_view spec, std::string_view what, std::string_view form) {
  throw InputError(fmt::format("schedule '{}': {}; expected {}", spec, what, form));
}

int parse_bits(std::string_view text, std::string_view spec, std::string_view form) {
  int bits = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), bits);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size())
    spec_error(spec, fmt::format("'{}' is not an integer bit width", text), form);
  if (bits < kMinBits || bits > kMaxBits)
    spec_error(spec, fmt::format("{} bits is out of range {}..{}", bits, kMinBits, kMaxBits), form);
  return bits;
}

Format parse_spec_format(std::string_view text, std::string_view spec) {
  return parse_format(text, fmt::format("schedule '{}'", spec));
}

PrecisionSet parse_fw_bw(std::string_view text, std::string_view spec, std::string_view form) {
  if (text.empty()) spec_error(spec, "missing the precision", form);
  auto slash = text.find('/');
  if (slash == std::string_view::npos) {
    Format f = parse_spec_format(text, spec);
    return PrecisionSet::fw_bw(f, f);
  }
  auto fw = text.substr(0, slash), bw = text.substr(slash + 1);
  if (fw.empty() || bw.empty() || bw.find('/') != std::string_view::npos)
    spec_error(spec, fmt::format("'{}' is not FW/BW", text), form);
  return PrecisionSet::fw_bw(parse_spec_format(fw, spec), parse_spec_format(bw, spec));
}

BitRange parse_bit_range(std::string_view text, std::string_view spec, std::string_view form) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos)
    spec_error(spec, fmt::format("'{}' has no /BW part", text), form);
  auto range = text.substr(0, slash), bw = text.substr(slash + 1);
  auto dash = range.find('-');
  if (dash == std::string_view::npos)
    spec_error(spec, fmt::format("'{}' is not a MIN-MAX range of bits", range), form);
  BitRange r;
  r.min_bits = parse_bits(range.substr(0, dash), spec, form);
  r.max_bits = parse_bits(range.substr(dash + 1), spec, form);
  if (r.min_bits > r.max_bits)
    spec_error(spec,
               fmt::format("minimum {} bits is above maximum {} bits", r.min_bits, r.max_bits),
               form);
  if (bw.empty() || bw.find('/') != std::string_view::npos)
    spec_error(spec, fmt::format("'{}' is not a BW format", bw), form);
  r.bw = parse_spec_format(bw, spec);
  return r;
}

int parse_positive_int(std::string_view key, std::string_view text, std::string_view spec,
                       std::string_view form) {
  long long v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size())
    spec_error(spec, fmt::format("{} = '{}' is not an integer", key, text), form);
  if (v < 1 || v > 1'000'000'000)
    spec_error(spec, fmt::format("{} = {} is outside 1..1000000000", key, v), form);
  return static_cast<int>(v);
}

std::string fw_bw_name(const Format& fw, const Format& bw) {
  if (fw == bw && fw.is_float()) return fw.name();
  return fw.name() + "/" + bw.name();
}

double parse_fraction(std::string_view key, std::string_view text, std::string_view spec,
                      std::string_view form) {
  double v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size() || !std::isfinite(v))
    spec_error(spec, fmt::format("{} = '{}' is not a number", key, text), form);
  if (!(v > 0.0 && v <= 1.0))
    spec_error(spec, fmt::format("{} = {} is outside (0, 1]", key, text), form);
  return v;
}

std::string format_double(double v) { return fmt::format("{}", v); }

namespace {

SpecParts split_spec(std::string_view spec) {
  constexpr std::string_view kKinds =
      "one of static:, progressive:, cyclic:, two-phase:, file:, muppet:";
  SpecParts parts;
  parts.spec = std::string(spec);
  auto colon = spec.find(':');
  if (colon == std::string_view::npos) spec_error(spec, "no kind given", kKinds);
  parts.kind = std::string(spec.substr(0, colon));
  std::string_view rest = spec.substr(colon + 1);
  // A path or a list of levels may contain commas: no options for these kinds.
  if (parts.kind == "file" || parts.kind == "muppet") {
    parts.body = std::string(rest);
    return parts;
  }
  auto comma = rest.find(',');
  parts.body = std::string(rest.substr(0, comma));
  while (comma != std::string_view::npos) {
    rest = rest.substr(comma + 1);
    comma = rest.find(',');
    std::string_view opt = rest.substr(0, comma);
    auto eq = opt.find('=');
    if (eq == std::string_view::npos || eq == 0)
      spec_error(spec, fmt::format("option '{}' is not KEY=VALUE", opt),
                 "KIND:ARGS[,KEY=VALUE...]");
    parts.options.emplace_back(std::string(opt.substr(0, eq)), std::string(opt.substr(eq + 1)));
  }
  return parts;
}

}  // namespace
}  // namespace schedule_impl

std::unique_ptr<Schedule> parse_schedule(std::string_view spec) {
  using namespace schedule_impl;
  SpecParts parts = split_spec(spec);
  if (parts.kind == "static") return make_static(parts);
  if (parts.kind == "progressive") return make_progressive(parts);
  if (parts.kind == "cyclic") return make_cyclic(parts);
  if (parts.kind == "two-phase") return make_two_phase(parts);
  if (parts.kind == "file") return make_file(parts);
  if (parts.kind == "muppet") return make_muppet(parts);
  spec_error(spec, fmt::format("unknown kind '{}'", parts.kind),
             "one of static:, progressive:, cyclic:, two-phase:, file:, muppet:");
}

int cpt_cyclic_bits(int b_min, int b_max, std::int64_t t, std::int64_t total_iterations,
                    int cycles) {
  // The public CPT code: cyclic_period = int(iters / num_cycles), np.rint.
  std::int64_t period = cycles > 0 ? total_iterations / cycles : total_iterations;
  if (period < 1) period = 1;
  double z = static_cast<double>(t % period) / static_cast<double>(period);
  double v = b_min + 0.5 * (b_max - b_min) * (1.0 - std::cos(std::numbers::pi * z));
  // Round half to even, independent of the floating-point rounding mode.
  double fl = std::floor(v);
  double diff = v - fl;
  double r = diff > 0.5 ? fl + 1 : diff < 0.5 ? fl : (std::fmod(fl, 2.0) == 0.0 ? fl : fl + 1);
  return static_cast<int>(r);
}

}  // namespace lpsim
