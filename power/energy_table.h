// What things cost in energy: a Horowitz-style table (45 nm default) with the
// scaling laws between its points, technology scaling and user overrides.
// Every law and source is in docs/energy.md.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "core/precision.h"

namespace lpsim {

struct EnergyTable {
  std::string source;   // "built-in horowitz45" or the YAML path(s) it came from
  double node_nm = 45;
  double voltage_v = 0.9;
  // Raw entries in pJ (and mW/mm^2 for leakage), keyed as in the YAML file,
  // e.g. "int_add_8", "int_mul_32", "fp_mul_16", "sram_read64_8kb", "dram_pj_per_bit".
  std::map<std::string, double> entries;

  // Laws between points (each reproduces the table points exactly).
  double int_add_pj(int bits) const;
  double int_mul_pj(int a_bits, int b_bits) const;
  double fp_add_pj(const Format& f) const;
  double fp_mul_pj(const Format& a, const Format& b) const;
  // One multiply-accumulate with operands a, b: the multiply plus the add into
  // an accumulator of `acc` (int: a_bits + b_bits + 8 guard bits unless given;
  // float: fp32). The sum always equals mul + add as reported separately.
  double mac_pj(const Format& a, const Format& b) const;
  double accumulator_add_pj(const Format& a, const Format& b) const;
  // SRAM: energy per bit read/written for a buffer of `capacity_bytes`
  // (from the 64-bit read points, square-root law between them).
  double sram_pj_per_bit(std::int64_t capacity_bytes) const;
  double dram_pj_per_bit() const;
  // Leakage power per mm^2 of logic+SRAM area, mW.
  double leakage_mw_per_mm2() const;
  // Area of one multiply-accumulate unit at these widths, um^2 (for explore).
  double mac_area_um2(const Format& a, const Format& b) const;
};

// The built-in table: Horowitz ISSCC 2014, 45 nm, 0.9 V (REFERENCES.md).
EnergyTable horowitz45();
// Reads a YAML table; entries it names override `base`. InputError names the
// file and the key for an unknown key, a non-number or a non-positive value.
EnergyTable load_energy_table(const std::string& path, const EnergyTable& base = horowitz45());
// Scales every dynamic-energy entry from table.node_nm to node_nm (law and
// source in docs/energy.md). InputError outside the supported node range.
EnergyTable scale_to_node(const EnergyTable& table, double node_nm);

}  // namespace lpsim
