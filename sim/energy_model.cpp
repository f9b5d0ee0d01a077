// Event counts x energy per event (formulas in sim/energy_model.h and docs/simulator.md).
#include "sim/energy_model.h"

#include <algorithm>

namespace lpsim {

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
  m.components.push_back("leakage");
  m.dram_pj_per_bit = arch.dram.pj_per_bit > 0 ? arch.dram.pj_per_bit : table.dram_pj_per_bit();
  m.pe_area_mm2 = pe.area_um2() * double(arch.array.rows * arch.array.cols) * 1e-6;
  m.leakage_mw = table.leakage_mw_per_mm2() * (m.pe_area_mm2 + m.sram_area_mm2);
  m.clock_ghz = arch.clock_ghz;
  return m;
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
  for (std::size_t b = 0; b < m.sram_pj_per_bit.size(); ++b)
    e[m.sram(b)] = (s.sram_read_bits[b] + s.sram_write_bits[b]) * m.sram_pj_per_bit[b];
  e[m.dram()] = (s.dram_read_bits + s.dram_write_bits) * m.dram_pj_per_bit;
  e[m.vector()] = s.vector_ops * pj_per_vector_op;
  e[m.leakage()] = m.leakage_mw * double(s.cycles) / m.clock_ghz;
  return e;
}

}  // namespace lpsim
