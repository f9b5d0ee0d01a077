// Energy = event counts (sim/stats.h) x energy per event (power/), plus
// static power x time. The components are fixed per design point: dynamic
// "mac", "sram:<buffer>" for every buffer in arch order (then
// "sram:<accumulators>" when the design has accumulators), "dram", "vector";
// then static "static:mac_array", "static:vector", "static:sram:<buffer>" in
// the same buffer order. They sum to the total.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/precision.h"
#include "power/energy_table.h"
#include "sim/arch.h"
#include "sim/pe.h"
#include "sim/stats.h"

namespace lpsim {

struct EnergyModel {
  std::vector<std::string> components;
  std::vector<double> sram_pj_per_bit;  // per buffer: table.sram_pj_per_bit(sram_bank_bytes)
  double dram_pj_per_bit = 0;           // arch dram.pj_per_bit, else the table's
  // Areas (explore's area column; PE area x PEs, SRAM bit cells of every buffer).
  double pe_area_mm2 = 0, sram_area_mm2 = 0;
  // Static power, mW (docs/energy.md, "Leakage"): the MAC array and the
  // vector unit at the design point's logic cells (mW/mm^2 x area), each
  // buffer at its SRAM cells (mW/KiB x capacity).
  double array_leakage_mw = 0, vector_leakage_mw = 0;
  std::vector<double> sram_leakage_mw;  // per buffer
  double clock_ghz = 0;

  std::size_t buffers() const { return sram_pj_per_bit.size(); }
  std::size_t mac() const { return 0; }
  std::size_t sram(std::size_t buffer) const { return 1 + buffer; }
  std::size_t dram() const { return 1 + buffers(); }
  std::size_t vector() const { return 2 + buffers(); }
  std::size_t static_array() const { return 3 + buffers(); }
  std::size_t static_vector() const { return 4 + buffers(); }
  std::size_t static_sram(std::size_t buffer) const { return 5 + buffers() + buffer; }
  double leakage_mw() const;  // every static component's power

  // The prices of events, one place for every caller (op_energy_pj, and the
  // mapper's tile choice): SRAM bits of one buffer, DRAM bits, and a static
  // power `mw` held for `cycles` (mW x ns = pJ).
  double sram_pj(std::size_t buffer, double bits) const { return bits * sram_pj_per_bit[buffer]; }
  double dram_pj(double bits) const { return bits * dram_pj_per_bit; }
  double static_pj(double mw, std::int64_t cycles) const { return mw * double(cycles) / clock_ghz; }
};

// Whether a component (as EnergyModel::components names it) is static energy.
inline bool is_static_component(const std::string& name) { return name.rfind("static:", 0) == 0; }

// Bytes of one bank of a buffer (capacity / banks, at least 1): an access
// touches one bank, so its energy is that of an SRAM of this size.
std::int64_t sram_bank_bytes(const BufferConfig& b);

// The energy table of a design point: the built-in Horowitz table or the
// arch's override file, scaled to arch.node_nm.
EnergyTable energy_table_for(const ArchConfig& arch);

EnergyModel make_energy_model(const ArchConfig& arch, const EnergyTable& table, const PeModel& pe);

// Energy of one vector-unit element op whose result has format `f`: one add
// at that width (int_add_pj(bits), or fp_add_pj for floats).
double vector_op_pj(const EnergyTable& table, const Format& f);

// Energy per component of one op, pJ:
//   mac      = macs x pj_per_mac (PeThroughput::energy_pj_per_mac)
//   sram:b   = (read + write bits of b) x sram_pj_per_bit[b]
//   dram     = (read + write bits) x dram_pj_per_bit
//   vector   = vector ops x pj_per_vector_op
//   static:* = that component's leakage mW x cycles / clock_ghz   (mW x ns = pJ)
std::vector<double> op_energy_pj(const OpStats& stats, const EnergyModel& model, double pj_per_mac,
                                 double pj_per_vector_op);

}  // namespace lpsim
