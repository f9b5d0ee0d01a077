// The built-in Horowitz 45 nm table, the laws between its points, node scaling
// and printing. Laws and sources: docs/energy.md.
#include "power/energy_table.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "power/impl/energy_keys.h"
#include "power/scaling.h"

namespace lpsim {

namespace {

constexpr double kBitsPer64bRead = 64;
constexpr std::int64_t kKiB = 1024;

// The power law y = y0 * (x / x0)^k through (x0, y0) and (x1, y1); returns the
// table values themselves at the two points so they are reproduced bit for bit.
double power_law(double x, double x0, double y0, double x1, double y1) {
  if (x == x0) return y0;
  if (x == x1) return y1;
  const double k = std::log(y1 / y0) / std::log(x1 / x0);
  return y0 * std::pow(x / x0, k);
}

// Straight line through (x0, y0) and (x1, y1), exact at both points.
double line(double x, double x0, double y0, double x1, double y1) {
  if (x == x0) return y0;
  if (x == x1) return y1;
  return y0 + (y1 - y0) * (x - x0) / (x1 - x0);
}

// Integer adder (energy or area): proportional to width below 8 bits, piecewise
// linear through the 8/16/32-bit points, the 16..32 segment extended above 32.
double adder_law(int bits, double y8, double y16, double y32) {
  const double b = bits;
  if (b < 8) return y8 * b / 8;
  if (b <= 16) return line(b, 8, y8, 16, y16);
  return line(b, 16, y16, 32, y32);
}

// SRAM 64-bit access energy vs capacity: log-log piecewise through the 8 KB,
// 32 KB and 1 MB points, square root of capacity outside them.
double sram_read64_law(double bytes, double e8k, double e32k, double e1m) {
  const double c8k = 8 * kKiB, c32k = 32 * kKiB, c1m = kKiB * kKiB;
  if (bytes <= c8k) return bytes == c8k ? e8k : e8k * std::sqrt(bytes / c8k);
  if (bytes <= c32k) return power_law(bytes, c8k, e8k, c32k, e32k);
  if (bytes <= c1m) return power_law(bytes, c32k, e32k, c1m, e1m);
  return e1m * std::sqrt(bytes / c1m);
}

int significand_bits(const Format& f) { return f.man_bits + 1; }

void require_bits(int bits, const char* what) {
  if (bits < 1) throw InternalError(fmt::format("{}: {} bits: must be >= 1", what, bits));
}

void require_float(const Format& f, const char* what) {
  if (!f.is_float() || f.man_bits < 0)
    throw InternalError(fmt::format("{}: '{}' is not a float format", what, f.name()));
}

// A mixed int x float MAC runs on the float datapath: the integer operand is
// converted to the float operand's format on entry (docs/energy.md).
std::pair<Format, Format> datapath_formats(const Format& a, const Format& b) {
  if (a.is_float() == b.is_float()) return {a, b};
  const Format& f = a.is_float() ? a : b;
  return {f, f};
}

}  // namespace

double EnergyTable::entry(const std::string& key) const {
  auto it = entries.find(key);
  if (it == entries.end())
    throw InternalError(fmt::format("energy table '{}' has no entry '{}'", source, key));
  return it->second;
}

double EnergyTable::int_add_pj(int bits) const {
  require_bits(bits, "int_add_pj");
  return adder_law(bits, entry("int_add_8"), entry("int_add_16"), entry("int_add_32"));
}

double EnergyTable::int_mul_pj(int a_bits, int b_bits) const {
  require_bits(a_bits, "int_mul_pj");
  require_bits(b_bits, "int_mul_pj");
  return power_law(double(a_bits) * b_bits, 8.0 * 8, entry("int_mul_8"), 32.0 * 32,
                   entry("int_mul_32"));
}

double EnergyTable::fp_add_pj(const Format& f) const {
  require_float(f, "fp_add_pj");
  // fp16 has an 11-bit significand, fp32 a 24-bit one (IEEE 754)
  return power_law(significand_bits(f), 11, entry("fp_add_16"), 24, entry("fp_add_32"));
}

double EnergyTable::fp_mul_pj(const Format& a, const Format& b) const {
  require_float(a, "fp_mul_pj");
  require_float(b, "fp_mul_pj");
  return power_law(double(significand_bits(a)) * significand_bits(b), 11.0 * 11, entry("fp_mul_16"),
                   24.0 * 24, entry("fp_mul_32"));
}

Format EnergyTable::accumulator_format(const Format& a, const Format& b) const {
  auto [x, y] = datapath_formats(a, b);
  if (!x.is_float()) {
    require_bits(x.bits, "accumulator_format");
    require_bits(y.bits, "accumulator_format");
    Format acc;
    acc.kind = Format::Kind::Int;
    acc.bits = int_accumulator_bits > 0 ? int_accumulator_bits : x.bits + y.bits + 8;
    return acc;
  }
  Format acc = float_accumulator;
  for (const Format& f : {x, y})
    if (f.man_bits > acc.man_bits) acc = f;
  return acc;
}

double EnergyTable::accumulator_add_pj(const Format& a, const Format& b) const {
  const Format acc = accumulator_format(a, b);
  return acc.is_float() ? fp_add_pj(acc) : int_add_pj(acc.bits);
}

double EnergyTable::mac_pj(const Format& a, const Format& b) const {
  auto [x, y] = datapath_formats(a, b);
  const double mul = x.is_float() ? fp_mul_pj(x, y) : int_mul_pj(x.bits, y.bits);
  return mul + accumulator_add_pj(a, b);
}

double EnergyTable::sram_pj_per_bit(std::int64_t capacity_bytes) const {
  if (capacity_bytes < 1)
    throw InternalError(
        fmt::format("sram_pj_per_bit: capacity {} bytes: must be >= 1", capacity_bytes));
  return sram_read64_law(double(capacity_bytes), entry("sram_read64_8kb"),
                         entry("sram_read64_32kb"), entry("sram_read64_1mb")) /
         kBitsPer64bRead;
}

double EnergyTable::dram_pj_per_bit() const { return entry("dram_read64") / kBitsPer64bRead; }

double EnergyTable::leakage_mw_per_mm2() const { return entry("leakage_mw_per_mm2"); }
double EnergyTable::logic_leakage_mw_per_mm2(bool low_power) const {
  return low_power ? entry("leakage_lp_mw_per_mm2") : leakage_mw_per_mm2();
}
double EnergyTable::sram_leakage_mw_per_kb(bool low_standby) const {
  return entry(low_standby ? "sram_leakage_lstp_mw_per_kb" : "sram_leakage_hp_mw_per_kb");
}

double EnergyTable::mac_area_um2(const Format& a, const Format& b) const {
  auto [x, y] = datapath_formats(a, b);
  const Format acc = accumulator_format(a, b);
  if (!x.is_float()) {
    const double mul = power_law(double(x.bits) * y.bits, 8.0 * 8, entry("int_mul_8_um2"),
                                 32.0 * 32, entry("int_mul_32_um2"));
    const double add = adder_law(acc.bits, entry("int_add_8_um2"), entry("int_add_16_um2"),
                                 entry("int_add_32_um2"));
    return mul + add;
  }
  const double mul = power_law(double(significand_bits(x)) * significand_bits(y), 11.0 * 11,
                               entry("fp_mul_16_um2"), 24.0 * 24, entry("fp_mul_32_um2"));
  const double add =
      power_law(significand_bits(acc), 11, entry("fp_add_16_um2"), 24, entry("fp_add_32_um2"));
  return mul + add;
}

double EnergyTable::sram_area_um2(std::int64_t capacity_bytes) const {
  if (capacity_bytes < 0)
    throw InternalError(
        fmt::format("sram_area_um2: capacity {} bytes: must be >= 0", capacity_bytes));
  return double(capacity_bytes) * 8 * entry("sram_bitcell_um2");
}

EnergyTable horowitz45() {
  EnergyTable t;
  t.source = "built-in horowitz45";
  t.node_nm = 45;     // Horowitz ISSCC'14: 45 nm
  t.voltage_v = 0.9;  // Horowitz ISSCC'14: 0.9 V
  for (const auto& k : impl::energy_key_info()) {
    t.entries[k.key] = k.builtin_value;
    t.entry_sources[k.key] = k.builtin_source;
  }
  return t;
}

const std::vector<std::string>& energy_table_keys() {
  static const std::vector<std::string> keys = [] {
    std::vector<std::string> v;
    for (const auto& k : impl::energy_key_info()) v.push_back(k.key);
    return v;
  }();
  return keys;
}

EnergyTable scale_to_node(const EnergyTable& table, double node_nm) {
  const double energy = node_energy_factor(table.node_nm, node_nm);
  const double area = node_area_factor(table.node_nm, node_nm);
  if (node_nm == table.node_nm) return table;
  const double vdd_ratio =
      node_scaling(node_nm).nominal_vdd_v / node_scaling(table.node_nm).nominal_vdd_v;
  EnergyTable out = table;
  out.node_nm = node_nm;
  out.voltage_v = table.voltage_v * vdd_ratio;
  out.source = fmt::format("{}, scaled {} -> {} nm", table.source, table.node_nm, node_nm);
  for (const auto& k : impl::energy_key_info()) {
    double factor = 1;
    if (k.scaling == impl::NodeScalingKind::Energy) factor = energy;
    if (k.scaling == impl::NodeScalingKind::Area) factor = area;
    if (factor == 1) continue;
    auto it = out.entries.find(k.key);
    if (it == out.entries.end()) continue;
    it->second *= factor;
    out.entry_sources[k.key] = fmt::format(
        "{}; x {:.4g} ({} {} -> {} nm, Stillmaker & Baas 2017)",
        table.entry_sources.count(k.key) ? table.entry_sources.at(k.key) : "?", factor,
        k.scaling == impl::NodeScalingKind::Energy ? "energy" : "area", table.node_nm, node_nm);
  }
  return out;
}

std::vector<EnergyTableRow> energy_table_rows(const EnergyTable& table) {
  std::vector<EnergyTableRow> rows;
  rows.push_back({"node_nm", table.node_nm, "nm", table.source});
  rows.push_back({"voltage_v", table.voltage_v, "V", table.source});
  for (const auto& k : impl::energy_key_info()) {
    auto it = table.entries.find(k.key);
    if (it == table.entries.end()) continue;
    auto src = table.entry_sources.find(k.key);
    rows.push_back({k.key, it->second, k.unit,
                    src == table.entry_sources.end() ? std::string("?") : src->second});
  }
  return rows;
}

std::string format_energy_table(const EnergyTable& t) {
  std::string out =
      fmt::format("energy table: {} ({} nm, {} V)\n", t.source, t.node_nm, t.voltage_v);
  const auto rows = energy_table_rows(t);
  std::size_t w = 0;
  for (const auto& r : rows) w = std::max(w, r.key.size());
  out += fmt::format("{:<{}}  {:>12}  {:<8}  {}\n", "key", w, "value", "unit", "source");
  for (const auto& r : rows)
    out += fmt::format("{:<{}}  {:>12}  {:<8}  {}\n", r.key, w, fmt::format("{:.6g}", r.value),
                       r.unit, r.source);

  out += "\nderived by the laws of docs/energy.md:\n";
  auto mac = [&](const char* label, const Format& a) {
    const Format acc = t.accumulator_format(a, a);
    out +=
        fmt::format("  MAC {:<9} x {:<9} (acc {:<5})  {:>9.4f} pJ  (mul {:.4f} + add {:.4f})\n",
                    label, label, acc.is_float() ? acc.name() : "int" + acc.name(), t.mac_pj(a, a),
                    a.is_float() ? t.fp_mul_pj(a, a) : t.int_mul_pj(a.bits, a.bits),
                    t.accumulator_add_pj(a, a));
  };
  mac("int2", Format::integer(2));
  mac("int4", Format::integer(4));
  mac("int8", Format::integer(8));
  mac("int16", Format::integer(16));
  mac("fp8-e4m3", Format::floating(4, 3));
  mac("fp8-e5m2", Format::floating(5, 2));
  mac("bf16", Format::floating(8, 7));
  mac("fp16", Format::floating(5, 10));
  mac("fp32", Format::fp32());
  for (std::int64_t kib : {1, 8, 32, 128, 1024, 4096})
    out += fmt::format("  SRAM {:>5} KB  {:>9.4f} pJ/bit\n", kib, t.sram_pj_per_bit(kib * kKiB));
  out += fmt::format("  DRAM           {:>9.4f} pJ/bit\n", t.dram_pj_per_bit());
  return out;
}

}  // namespace lpsim
