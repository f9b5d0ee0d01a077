// What things cost in energy: a Horowitz-style table (45 nm default) with the
// scaling laws between its points, technology scaling and user overrides.
// Every law and source is in docs/energy.md.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/precision.h"

namespace lpsim {

struct EnergyTable {
  std::string source;  // "built-in horowitz45" or the YAML path(s) it came from
  double node_nm = 45;
  double voltage_v = 0.9;
  // Raw entries in pJ (mW/mm^2 for leakage, um^2 for *_um2), keyed as in the YAML file,
  // e.g. "int_add_8", "int_mul_32", "fp_mul_16", "sram_read64_8kb", "dram_read64"
  // (the full key list: energy_table_keys(); units: docs/energy.md).
  std::map<std::string, double> entries;
  // Where each entry's value came from (citation, YAML path, node scaling).
  std::map<std::string, std::string> entry_sources;
  // Accumulator of an integer MAC, bits; 0 = a_bits + b_bits + 8 guard bits.
  int int_accumulator_bits = 0;
  // Accumulator of a float MAC (an operand with a wider significand widens it).
  Format float_accumulator = Format::fp32();

  // The entry `key`; InternalError if the table lacks it.
  double entry(const std::string& key) const;

  // Laws between points (each reproduces the table points exactly).
  double int_add_pj(int bits) const;
  double int_mul_pj(int a_bits, int b_bits) const;
  double fp_add_pj(const Format& f) const;
  double fp_mul_pj(const Format& a, const Format& b) const;
  // One multiply-accumulate with operands a, b: the multiply plus the add into
  // an accumulator of `acc` (int: a_bits + b_bits + 8 guard bits unless given;
  // float: fp32 unless float_accumulator says otherwise). The sum always equals mul + add as
  // reported separately.
  double mac_pj(const Format& a, const Format& b) const;
  double accumulator_add_pj(const Format& a, const Format& b) const;
  // SRAM: energy per bit read/written for a buffer of `capacity_bytes`
  // (from the 64-bit read points, square-root law between them).
  double sram_pj_per_bit(std::int64_t capacity_bytes) const;
  double dram_pj_per_bit() const;
  // Leakage power of logic, mW per mm^2: high-performance or low-power devices.
  double leakage_mw_per_mm2() const;  // high-performance (the table's key of that name)
  double logic_leakage_mw_per_mm2(bool low_power) const;
  // Leakage power of SRAM, mW per KiB of capacity: high-performance or
  // low-standby-power cells.
  double sram_leakage_mw_per_kb(bool low_standby) const;
  // Area of one multiply-accumulate unit at these widths, um^2 (for explore).
  double mac_area_um2(const Format& a, const Format& b) const;
  // Area of an SRAM of `capacity_bytes`: bit cells only (periphery not counted), um^2.
  double sram_area_um2(std::int64_t capacity_bytes) const;
  // Widths of the accumulator add of mac_pj (int: bits; float: the format).
  Format accumulator_format(const Format& a, const Format& b) const;
};

// The built-in table: Horowitz ISSCC 2014, 45 nm, 0.9 V (REFERENCES.md).
EnergyTable horowitz45();
// Reads a YAML table; entries it names override `base`. InputError names the
// file and the key for an unknown key, a non-number or a non-positive value.
EnergyTable load_energy_table(const std::string& path, const EnergyTable& base = horowitz45());
// Scales every on-chip dynamic-energy entry and every area from table.node_nm
// to node_nm; DRAM energy and leakage density stay (law and source in
// docs/energy.md). InputError outside the supported node range.
EnergyTable scale_to_node(const EnergyTable& table, double node_nm);

// Every key a table has and a YAML table may set, in print order.
const std::vector<std::string>& energy_table_keys();

// One line of the effective table, for `lpsim energy-table [--json]`.
struct EnergyTableRow {
  std::string key;  // as in the YAML file
  double value = 0;
  std::string unit;    // "pJ", "pJ/64b", "mW/mm^2", "um^2", "nm", "V"
  std::string source;  // citation, YAML path or scaling applied
};
// node_nm and voltage_v first, then every entry in energy_table_keys() order.
std::vector<EnergyTableRow> energy_table_rows(const EnergyTable& table);
// A human-readable table (key, value, unit, source) followed by a few values
// the laws derive from it (MAC energies, SRAM and DRAM pJ/bit).
std::string format_energy_table(const EnergyTable& table);

}  // namespace lpsim
