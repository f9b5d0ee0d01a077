// The SystemC accelerator: it measures what the mapper predicts, runs many
// jobs and design points in one process, and shows each PE type's scaling.
#include "sim/accelerator.h"

#include <catch2/catch.hpp>

#include "power/energy_table.h"
#include "sim/energy_model.h"
#include "sim/mapper.h"
#include "sim/pe.h"
#include "sim/replay.h"

namespace lpsim {
namespace {

ArchConfig arch_with(Dataflow df, int buffers, double bandwidth_gbps, bool double_buffering) {
  ArchConfig a = default_arch();
  a.dataflow = df;
  a.dram.bandwidth_gbps = bandwidth_gbps;
  a.double_buffering = double_buffering;
  a.buffers.resize(std::size_t(buffers), a.buffers.front());
  for (int i = 0; i < buffers; ++i) a.buffers[std::size_t(i)].name = "b" + std::to_string(i);
  if (buffers >= 2) {
    a.buffers[0].holds = {Role::A, Role::E};
    a.buffers[1].holds = {Role::W, Role::G, Role::Opt};
  }
  if (buffers >= 3) {
    a.buffers[0].holds = {Role::A};
    a.buffers[2].holds = {Role::E};
    a.buffers[2].capacity_bytes = 64 << 10;
  }
  return a;
}

GemmWork gemm(std::int64_t m, std::int64_t n, std::int64_t k, Format lhs, Format rhs,
              Role lhs_role = Role::A, Role rhs_role = Role::W, Role out_role = Role::A) {
  GemmWork w;
  w.m = m;
  w.n = n;
  w.k = k;
  w.lhs_role = lhs_role;
  w.rhs_role = rhs_role;
  w.out_role = out_role;
  w.lhs = lhs;
  w.rhs = rhs;
  w.out = lhs;
  return w;
}

struct Simulated {
  OpStats stats;
  std::vector<double> energy_pj;
  EnergyModel model;
};

// One GEMM through the PE model, the mapper and the SystemC accelerator.
Simulated run_gemm(const ArchConfig& arch, const GemmWork& w) {
  const EnergyTable table = energy_table_for(arch);
  const auto pe = make_pe(arch.pe, table);
  const PeThroughput t = pe->at(w.lhs, w.rhs);
  const int acc = table.accumulator_format(t.run_a, t.run_b).bits;
  Simulated s;
  s.stats = Accelerator::instance().run(map_gemm(w, machine_params(arch), t, acc));
  s.model = make_energy_model(arch, table, *pe);
  s.energy_pj = op_energy_pj(s.stats, s.model, t.energy_pj_per_mac, 0);
  return s;
}

// Memory never limits: DRAM and every SRAM port effectively unbounded, so
// only the PE's rate and the fill/drain set the cycles.
ArchConfig compute_bound(ArchConfig a) {
  a.dram.bandwidth_gbps = 1e6;
  for (auto& b : a.buffers) b.read_bits_per_cycle = b.write_bits_per_cycle = 1e9;
  a.accumulators.storage.read_bits_per_cycle = a.accumulators.storage.write_bits_per_cycle = 1e9;
  return a;
}

const Format i8 = Format::integer(8), i4 = Format::integer(4), i2 = Format::integer(2);

}  // namespace

TEST_CASE("the SystemC accelerator measures exactly the cycles and counts the mapper predicts") {
  // predict_stats sums count x step cycles (max of engine, SRAM ports and DRAM
  // when double buffered, DRAM + the rest otherwise); the modules wait those
  // cycles and count the same events.
  for (Dataflow df :
       {Dataflow::WeightStationary, Dataflow::OutputStationary, Dataflow::InputStationary})
    for (bool db : {true, false})
      for (double bw : {1.0, 34.0, 1e5}) {
        const ArchConfig arch = arch_with(df, 2, bw, db);
        const MachineParams mp = machine_params(arch);
        PeThroughput pe;
        pe.macs_per_cycle = 1;
        pe.run_a = pe.run_b = i8;
        for (const GemmWork& w : {gemm(50000, 300, 1000, i8, i8), gemm(7, 5, 3, i8, i8),
                                  gemm(2000, 64, 50000, i8, i8, Role::A, Role::E, Role::G)}) {
          const OpSchedule s = map_gemm(w, mp, pe, 24);
          CHECK(Accelerator::instance().run(s) == predict_stats(s));
        }
        VectorWork v;
        v.elements = 3'000'000;
        v.ops_per_element = 3;
        v.reads = {{Role::A, 3'000'000, i8}, {Role::W, 1000, i8}};
        v.writes = {{Role::A, 3'000'000, Format::fp32()}};
        const OpSchedule s = map_vector(v, mp);
        CHECK(Accelerator::instance().run(s) == predict_stats(s));
      }
}

TEST_CASE("one module tree runs many jobs and design points in one process") {
  // Buffers are run-time state of the bank: 1, 2 and 3 buffers in turn, twice.
  const GemmWork w = gemm(20000, 256, 576, i8, i8, Role::E, Role::W, Role::E);
  std::vector<OpStats> first;
  const long jobs_before = Accelerator::instance().jobs();
  for (int round = 0; round < 2; ++round)
    for (int buffers : {1, 2, 3}) {
      const ArchConfig arch = arch_with(Dataflow::OutputStationary, buffers, 20, true);
      PeThroughput pe;
      pe.macs_per_cycle = 2;
      pe.run_a = pe.run_b = i8;
      const OpSchedule s = map_gemm(w, machine_params(arch), pe, 24);
      const OpStats st = Accelerator::instance().run(s);
      CHECK(st == predict_stats(s));
      // The arch's buffers, then the default design point's accumulators.
      REQUIRE(arch.accumulators.present);
      CHECK(st.sram_read_bits.size() == std::size_t(buffers) + 1);
      if (round == 0)
        first.push_back(st);
      else
        CHECK(st == first[std::size_t(buffers - 1)]);
    }
  CHECK(Accelerator::instance().jobs() == jobs_before + 6);
}

TEST_CASE("a bit-serial 4-bit GEMM runs about twice as fast as an 8-bit one") {
  // Stripes (Judd et al. 2016): time ~ serial operand bits. Memory unbounded,
  // so cycles = folds x (fill + M x bits / 16 ...): the ratio tends to 8/4.
  const ArchConfig arch = compute_bound(load_arch(resolve_arch_path("stripes_bit_serial")));
  const double c8 = double(run_gemm(arch, gemm(1 << 18, 256, 256, i8, i8)).stats.cycles);
  const double c4 = double(run_gemm(arch, gemm(1 << 18, 256, 256, i4, i4)).stats.cycles);
  CHECK(c8 / c4 == Approx(2.0).epsilon(0.02));
}

TEST_CASE("bit-fusion 4x4 gives 4x and 2x2 16x the MACs per cycle of 8x8 on a compute-bound GEMM") {
  // Sharma et al. 2018: floor(8 / a) x floor(8 / w) fused MACs per unit per
  // cycle. One fold streams M rows: M / rate + 2R + C - 2 cycles.
  const ArchConfig arch = compute_bound(load_arch(resolve_arch_path("bit_fusion")));
  const GemmWork w8 = gemm(1 << 22, 128, 64, i8, i8);
  GemmWork w4 = w8, w2 = w8;
  w4.lhs = w4.rhs = w4.out = i4;
  w2.lhs = w2.rhs = w2.out = i2;
  const auto s8 = run_gemm(arch, w8).stats, s4 = run_gemm(arch, w4).stats,
             s2 = run_gemm(arch, w2).stats;
  const double t8 = s8.macs / double(s8.cycles), t4 = s4.macs / double(s4.cycles),
               t2 = s2.macs / double(s2.cycles);
  CHECK(t4 / t8 == Approx(4.0).epsilon(0.02));
  CHECK(t2 / t8 == Approx(16.0).epsilon(0.02));
}

TEST_CASE("a fixed-width INT8 array gains nothing at 4 bits on a compute-bound GEMM") {
  // 4-bit operands are padded to the INT8 path: same MACs per cycle, same
  // energy per MAC, so the same cycles and the same MAC energy.
  const ArchConfig arch = compute_bound(default_arch());
  const auto s8 = run_gemm(arch, gemm(1 << 16, 512, 512, i8, i8));
  const auto s4 = run_gemm(arch, gemm(1 << 16, 512, 512, i4, i4));
  CHECK(s4.stats.cycles == s8.stats.cycles);
  CHECK(s4.stats.mac_array_busy_cycles == s8.stats.mac_array_busy_cycles);
  CHECK(s4.energy_pj[s4.model.mac()] == s8.energy_pj[s8.model.mac()]);
  CHECK(s4.energy_pj[s4.model.leakage()] == s8.energy_pj[s8.model.leakage()]);
}

}  // namespace lpsim

namespace lpsim {

TEST_CASE(
    "with ideal memory, conv layers take SCALE-Sim's closed-form cycles plus one load and one "
    "store") {
  // Samajdar et al. 2018: cycles = ceil(Sr / R) * ceil(Sc / C) * (2R + C + T - 2)
  //   os: Sr = ofmap pixels, Sc = filters, T = window; ws: Sr = window, Sc = filters,
  //   T = pixels; is: Sr = window, Sc = pixels, T = filters.
  // Ideal memory: one tile holds the layer, so our extra is the first tile's
  // load and the last tile's store, one cycle each.
  struct Layer {
    std::int64_t pixels, filters, window;
  };
  const Layer layers[] = {{55 * 55, 96, 11 * 11 * 3},  // AlexNet conv1
                          {27 * 27, 256, 5 * 5 * 96},  // AlexNet conv2
                          {56 * 56, 64, 3 * 3 * 64},   // ResNet-18 conv2_x
                          {7 * 7, 512, 3 * 3 * 512}};  // ResNet-18 conv5_x
  for (std::int64_t R : {32, 128})
    for (Dataflow df :
         {Dataflow::OutputStationary, Dataflow::WeightStationary, Dataflow::InputStationary}) {
      ArchConfig arch = compute_bound(default_arch());
      arch.array = {R, R};
      arch.dataflow = df;
      arch.dram.latency_ns = 0;
      for (auto& b : arch.buffers) b.capacity_bytes = std::int64_t(1) << 30;
      for (const Layer& l : layers) {
        std::int64_t sr = 0, sc = 0, t = 0;
        if (df == Dataflow::OutputStationary) sr = l.pixels, sc = l.filters, t = l.window;
        if (df == Dataflow::WeightStationary) sr = l.window, sc = l.filters, t = l.pixels;
        if (df == Dataflow::InputStationary) sr = l.window, sc = l.pixels, t = l.filters;
        const std::int64_t scale_sim =
            ((sr + R - 1) / R) * ((sc + R - 1) / R) * (2 * R + R + t - 2);
        const auto s = run_gemm(arch, gemm(l.pixels, l.filters, l.window, i8, i8));
        CHECK(s.stats.cycles == scale_sim + 2);
      }
    }
}

}  // namespace lpsim
