// The energy model: event counts x the table's energy per event, per component.
#include "sim/energy_model.h"

#include <catch2/catch.hpp>

#include "models/zoo.h"
#include "sim/accelerator.h"
#include "sim/mapper.h"
#include "sim/replay.h"

namespace lpsim {

TEST_CASE("the simulated MAC energy of an INT8 GEMM is MACs x (8-bit multiply + accumulator add)") {
  // Horowitz ISSCC'14: int_mul_8 = 0.2 pJ; the accumulator of 8x8 is
  // 8 + 8 + 8 guard = 24 bits, an add linear between the 16- and 32-bit points.
  const ArchConfig arch = default_arch();  // tpu_int8: a fixed INT8 array
  const EnergyTable table = energy_table_for(arch);
  const auto pe = make_pe(arch.pe, table);
  const Format i8 = Format::integer(8);
  const PeThroughput t = pe->at(i8, i8);
  GemmWork w;
  w.m = 4096;
  w.n = 256;
  w.k = 256;
  w.lhs = w.rhs = w.out = i8;
  const MachineParams mp = machine_params(arch);
  const OpStats st = Accelerator::instance().run(map_gemm(w, mp, t, 24), mp);
  const EnergyModel em = make_energy_model(arch, table, *pe);
  const auto e = op_energy_pj(st, em, t.energy_pj_per_mac, 0);
  const double add24 = table.entry("int_add_16") +
                       (table.entry("int_add_32") - table.entry("int_add_16")) * (24 - 16) / 16.0;
  CHECK(e[em.mac()] / st.macs == Approx(table.entry("int_mul_8") + add24).epsilon(1e-12));
  CHECK(table.entry("int_mul_8") == 0.2);
}

TEST_CASE("a vector op costs one add at its output's width per element op") {
  // 2^20 ReLU-like element ops writing int8: 2^20 x int_add_8 (0.03 pJ).
  const ArchConfig arch = default_arch();
  const EnergyTable table = energy_table_for(arch);
  const auto pe = make_pe(arch.pe, table);
  VectorWork v;
  v.elements = 1 << 20;
  v.ops_per_element = 1;
  v.reads = {{Role::A, 1 << 20, Format::integer(8)}};
  v.writes = {{Role::A, 1 << 20, Format::integer(8)}};
  const MachineParams mp = machine_params(arch);
  const OpStats st = Accelerator::instance().run(map_vector(v, mp), mp);
  const EnergyModel em = make_energy_model(arch, table, *pe);
  const auto e = op_energy_pj(st, em, 0, vector_op_pj(table, Format::integer(8)));
  CHECK(e[em.vector()] == Approx(double(1 << 20) * 0.03).epsilon(1e-12));
  // DRAM: every bit read and written once at the table's pJ per bit.
  // (tpu_int8 gives its own HBM figure, dram.pj_per_bit.)
  CHECK(e[em.dram()] == Approx(2.0 * (1 << 20) * 8 * arch.dram.pj_per_bit).epsilon(1e-12));
}

TEST_CASE("the energy breakdown of a training step sums to its total, each part by its formula") {
  //   mac = MACs x pJ/MAC, sram:b = bits_b x sram_pj_per_bit(capacity_b),
  //   dram = bits x dram pJ/bit, static:* = leakage mW x cycles / clock
  //   (docs/energy.md, "Leakage": logic mW/mm^2 x area, SRAM mW/KiB x capacity).
  const ArchConfig arch = default_arch();
  const EnergyTable table = energy_table_for(arch);
  const auto pe = make_pe(arch.pe, table);
  const Graph g = make_model("lenet5");
  const auto ps = PrecisionSet::fw_bw(Format::integer(8), Format::integer(8));
  const SimReport r = simulate_step(g, arch, table, ps, 64, false);
  const EnergyModel em = make_energy_model(arch, table, *pe);
  const auto& c = r.total.energy_pj_by_component;
  // mac, sram:* (buffers, then the accumulators), dram, vector, static:mac_array,
  // static:vector, static:sram:* (same order)
  REQUIRE(arch.accumulators.present);
  std::vector<BufferConfig> storages = arch.buffers;
  storages.push_back(arch.accumulators.storage);
  REQUIRE(c.size() == 5 + 2 * storages.size());
  const double pj_mac = pe->at(Format::integer(8), Format::integer(8)).energy_pj_per_mac;
  CHECK(c[em.mac()] == Approx(r.total.macs * pj_mac).epsilon(1e-12));
  // An access touches one bank: the energy per bit of an SRAM of capacity / banks.
  for (std::size_t b = 0; b < storages.size(); ++b)
    CHECK(c[em.sram(b)] ==
          Approx((r.total.sram_read_bits[b] + r.total.sram_write_bits[b]) *
                 table.sram_pj_per_bit(storages[b].capacity_bytes / storages[b].banks))
              .epsilon(1e-12));
  CHECK(c[em.dram()] ==
        Approx((r.total.dram_read_bits + r.total.dram_write_bits) * arch.dram.pj_per_bit)
            .epsilon(1e-12));
  // The shipped point: low-power logic, low-standby-power SRAM cells.
  REQUIRE(arch.leakage.logic == LogicCells::LowPower);
  REQUIRE(arch.leakage.sram == SramCells::LowStandby);
  const double ns = r.total.cycles / arch.clock_ghz;
  const double pe_mm2 = pe->area_um2() * double(arch.array.rows * arch.array.cols) * 1e-6;
  CHECK(c[em.static_array()] ==
        Approx(table.entry("leakage_lp_mw_per_mm2") * pe_mm2 * ns).epsilon(1e-12));
  CHECK(c[em.static_vector()] ==
        Approx(table.entry("leakage_lp_mw_per_mm2") * double(arch.vector.lanes) *
               table.entry("int_add_32_um2") * 1e-6 * ns)
            .epsilon(1e-12));
  for (std::size_t b = 0; b < storages.size(); ++b)
    CHECK(c[em.static_sram(b)] ==
          Approx(table.entry("sram_leakage_lstp_mw_per_kb") * double(storages[b].capacity_bytes) /
                 1024 * ns)
              .epsilon(1e-12));
  CHECK(em.components[em.static_array()] == "static:mac_array");
  CHECK(em.components[em.static_sram(0)] == "static:sram:" + storages[0].name);
  CHECK(c[em.vector()] > 0);
  double sum = 0;
  for (double x : c) sum += x;
  CHECK(sum == Approx(r.total.energy_pj()).epsilon(1e-15));
  // And per phase: the phases add up to the step.
  double phases = 0;
  for (const auto& p : r.by_phase) phases += p.energy_pj();
  CHECK(phases == Approx(r.total.energy_pj()).epsilon(1e-12));
}

TEST_CASE("leakage follows the cells: high-performance logic and SRAM leak far more") {
  // docs/energy.md: HP logic 138.3 vs LP 2.449 mW/mm^2; HP SRAM 1.845 vs LSTP
  // 4.69e-5 mW/KiB. A buffer's own `cells` overrides the design point's default.
  const EnergyTable table = horowitz45();
  ArchConfig lp = default_arch();
  ArchConfig hp = default_arch({"leakage.logic=hp", "leakage.sram=hp"});
  ArchConfig mixed = default_arch({"buffers.0.cells=hp"});
  const auto pe = make_pe(lp.pe, table);
  const EnergyModel a = make_energy_model(lp, table, *pe), b = make_energy_model(hp, table, *pe),
                    m = make_energy_model(mixed, table, *pe);
  CHECK(b.array_leakage_mw / a.array_leakage_mw == Approx(138.3 / 2.449));
  CHECK(b.sram_leakage_mw[0] / a.sram_leakage_mw[0] == Approx(1.845 / 4.69e-5));
  CHECK(m.sram_leakage_mw[0] == b.sram_leakage_mw[0]);
  CHECK(m.sram_leakage_mw[1] == a.sram_leakage_mw[1]);
  CHECK(m.array_leakage_mw == a.array_leakage_mw);
  CHECK(b.sram_leakage_mw[0] ==
        Approx(1.845 * double(lp.buffers[0].capacity_bytes) / 1024).epsilon(1e-12));
}

}  // namespace lpsim
