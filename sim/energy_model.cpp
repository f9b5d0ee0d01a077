// Event counts x energy per event (formulas in sim/energy_model.h and docs/simulator.md).
#include "sim/energy_model.h"

#include <algorithm>

namespace lpsim {

EnergyTable energy_table_for(const ArchConfig& arch) {
  EnergyTable base =
      arch.energy_table.empty() ? horowitz45() : load_energy_table(arch.energy_table);
  if (base.node_nm == arch.node_nm) return base;
  return scale_to_node(base, arch.node_nm);
}

EnergyModel make_energy_model(const ArchConfig& arch, const EnergyTable& table, const PeModel& pe) {
  EnergyModel m;
  m.components.push_back("mac");
  std::vector<BufferConfig> storages = arch.buffers;
  if (arch.accumulators.present) storages.push_back(arch.accumulators.storage);
  for (const auto& b : storages) {
    m.components.push_back("sram:" + b.name);
    // An access reads or writes one bank: the energy of an SRAM of the bank's
    // size (docs/simulator.md, "Energy model").
    m.sram_pj_per_bit.push_back(table.sram_pj_per_bit(sram_bank_bytes(b)));
    m.sram_area_mm2 += table.sram_area_um2(b.capacity_bytes) * 1e-6;
  }
  m.components.push_back("dram");
  m.components.push_back("vector");
  m.components.push_back("static:mac_array");
  m.components.push_back("static:vector");
  for (const auto& b : storages) m.components.push_back("static:sram:" + b.name);
  m.dram_pj_per_bit = arch.dram.pj_per_bit > 0 ? arch.dram.pj_per_bit : table.dram_pj_per_bit();
  m.pe_area_mm2 = pe.area_um2() * double(arch.array.rows * arch.array.cols) * 1e-6;
  // Static power (docs/energy.md, "Leakage"): logic at mW/mm^2 of its area,
  // the vector unit counted as one 32-bit adder a lane (ours); SRAM at mW per
  // KiB of capacity, per the buffer's cells.
  const double logic_mw_per_mm2 =
      table.logic_leakage_mw_per_mm2(arch.leakage.logic == LogicCells::LowPower);
  m.array_leakage_mw = logic_mw_per_mm2 * m.pe_area_mm2;
  m.vector_leakage_mw =
      logic_mw_per_mm2 * double(arch.vector.lanes) * table.entry("int_add_32_um2") * 1e-6;
  for (const auto& b : storages) {
    const SramCells cells = b.cells.value_or(arch.leakage.sram);
    m.sram_leakage_mw.push_back(table.sram_leakage_mw_per_kb(cells == SramCells::LowStandby) *
                                double(b.capacity_bytes) / 1024.0);
  }
  m.clock_ghz = arch.clock_ghz;
  return m;
}

double EnergyModel::leakage_mw() const {
  double mw = array_leakage_mw + vector_leakage_mw;
  for (double b : sram_leakage_mw) mw += b;
  return mw;
}

std::int64_t sram_bank_bytes(const BufferConfig& b) {
  return std::max<std::int64_t>(1, b.capacity_bytes / std::max<std::int64_t>(1, b.banks));
}

double vector_op_pj(const EnergyTable& table, const Format& f) {
  return f.is_float() ? table.fp_add_pj(f) : table.int_add_pj(f.bits);
}

std::vector<double> op_energy_pj(const OpStats& s, const EnergyModel& m, double pj_per_mac,
                                 double pj_per_vector_op) {
  std::vector<double> e(m.components.size(), 0.0);
  e[m.mac()] = s.macs * pj_per_mac;
  for (std::size_t b = 0; b < m.buffers(); ++b)
    e[m.sram(b)] = m.sram_pj(b, s.sram_read_bits[b] + s.sram_write_bits[b]);
  e[m.dram()] = m.dram_pj(s.dram_read_bits + s.dram_write_bits);
  e[m.vector()] = s.vector_ops * pj_per_vector_op;
  e[m.static_array()] = m.static_pj(m.array_leakage_mw, s.cycles);
  e[m.static_vector()] = m.static_pj(m.vector_leakage_mw, s.cycles);
  for (std::size_t b = 0; b < m.sram_leakage_mw.size(); ++b)
    e[m.static_sram(b)] = m.static_pj(m.sram_leakage_mw[b], s.cycles);
  return e;
}

}  // namespace lpsim
