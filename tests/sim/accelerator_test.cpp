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
  a.buffering = double_buffering ? 2 : 1;
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
  const MachineParams mp = machine_params(arch);
  s.stats = Accelerator::instance().run(map_gemm(w, mp, t, acc), mp);
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


// A hand-made op: `tiles` identical tiles of `compute` cycles that load
// `load` and store `store` bits; with a DRAM of one bit per cycle and no
// latency, bits are cycles.
OpSchedule tiles_op(std::int64_t tiles, std::int64_t compute, double load, double store,
                    Engine engine = Engine::MacArray, std::int64_t port = 0) {
  OpSchedule s;
  s.engine = engine;
  s.buffers = 1;
  s.tiles = tiles;
  TileRun r;
  r.count = tiles;
  r.first = r.last = true;
  r.compute_cycles = compute;
  r.port_cycles = {port};
  r.sram_read_bits = r.sram_write_bits = {0.0};
  r.dram_read_bits = load;
  r.dram_write_bits = store;
  r.macs = 1;
  s.runs = {r};
  return s;
}

MachineParams one_bit_dram(std::int64_t buffering) {
  MachineParams mp;
  mp.rows = mp.cols = 1;
  mp.buffering = buffering;
  mp.dram_bits_per_cycle = 1;
  mp.dram_latency_cycles = 0;
  mp.vector_lanes = 1;
  mp.buffers = {{"b", 1e12, 1e12, 1e12}};
  return mp;
}

std::int64_t run_ops(const std::vector<StepOp>& ops, const MachineParams& mp) {
  std::int64_t cycles = 0;
  for (const OpStats& st : Accelerator::instance().run(ops, mp)) cycles += st.cycles;
  return cycles;
}

}  // namespace

TEST_CASE("with one tile slot a tile loads, computes and stores in turn") {
  // Slot back-pressure: the next load waits for the input slot (freed when
  // the compute ends), the next compute for the output slot (freed when the
  // store has left): N x (L + C + S).
  const auto s = tiles_op(10, 50, 30, 20);
  CHECK(Accelerator::instance().run(s, one_bit_dram(1)).cycles == 10 * (30 + 50 + 20));
}

TEST_CASE("with two slots a compute-bound op hides every load and store but the first and last") {
  // C = 50 >= L + S = 30 + 15: loads of the next tile and stores of the
  // previous one fit in one compute, so only the prologue and epilogue show.
  const auto s = tiles_op(10, 50, 30, 15);
  const OpStats st = Accelerator::instance().run(s, one_bit_dram(2));
  CHECK(st.cycles == 30 + 10 * 50 + 15);
  CHECK(st.mac_array_busy_cycles == 10 * 50);
  CHECK(st.dram_busy_cycles == 10 * (30 + 15));
  CHECK(st.stall_dram_cycles == 30);  // the first tile's load
}

TEST_CASE("with one output slot a tile holds the engine for its port time plus its stores") {
  // max(C, P) = 40 on the SRAM port, S = 15 posted (no latency), L = 10:
  // the next tile computes once this one's stores have left the one output
  // slot, while its loads run ahead: L + N x (max(C, P) + S). The analytic
  // timing lays it out the same: max(max(C, P) + S, L + S) per tile.
  const auto s = tiles_op(10, 20, 10, 15, Engine::MacArray, 40);
  MachineParams mp = one_bit_dram(2);
  mp.output_buffering = 1;
  mp.dram_latency_cycles = 7;  // loads wait for it, posted stores do not
  const std::int64_t expected = (7 + 10) + 10 * (40 + 15);
  CHECK(Accelerator::instance().run(s, mp).cycles == expected);
  CHECK(analytic_stats(s, mp).cycles == expected);
}

TEST_CASE("a DRAM-bound op is paced by the shared channel: loads and stores queue on it") {
  // L + S = 70 > C = 20: the one channel serves loads and stores in turn, so
  // the op lasts at least N x (L + S) and at most that plus one compute.
  for (std::int64_t slots : {2, 3, 4}) {
    const auto s = tiles_op(12, 20, 40, 30);
    const OpStats st = Accelerator::instance().run(s, one_bit_dram(slots));
    CHECK(st.cycles >= 12 * 70);
    CHECK(st.cycles <= 12 * 70 + 20);
    CHECK(st.stall_dram_cycles > 0);
    CHECK(st.dram_busy_cycles == 12 * 70);
  }
}

TEST_CASE("a tile slower on its SRAM port than on the array stalls on the port") {
  const auto s = tiles_op(4, 10, 0, 0, Engine::MacArray, 25);
  const OpStats st = Accelerator::instance().run(s, one_bit_dram(2));
  CHECK(st.cycles == 4 * 25);
  CHECK(st.stall_sram_cycles == 4 * 15);
  CHECK(st.mac_array_busy_cycles == 4 * 10);
}

TEST_CASE("an op that depends on the previous one starts after it, an independent one overlaps") {
  const MachineParams mp = one_bit_dram(2);
  const auto a = tiles_op(6, 100, 40, 40);                   // compute-bound
  const auto b = tiles_op(6, 10, 60, 0, Engine::Vector);     // DRAM-bound, on the vector unit
  const std::int64_t ta = Accelerator::instance().run(a, mp).cycles;
  const std::int64_t tb = Accelerator::instance().run(b, mp).cycles;
  // Dependent: b's first load waits for a's last store, so the pipelines
  // drain in between and the times add up exactly.
  CHECK(run_ops({{&a, false}, {&b, true}}, mp) == ta + tb);
  // Independent: b's loads start while a computes, sharing the DRAM channel.
  const std::int64_t overlapped = run_ops({{&a, false}, {&b, false}}, mp);
  CHECK(overlapped < ta + tb);
  CHECK(overlapped >= std::max(ta, tb));
  // The vector op waited on the MAC array's op when dependent.
  const auto st = Accelerator::instance().run({{&a, false}, {&b, true}}, mp);
  CHECK(st[1].stall_mac_array_cycles > 0);
  CHECK(st[0].cycles + st[1].cycles == ta + tb);
}

TEST_CASE("long runs simulated as head and tail take exactly the cycles of every tile simulated") {
  // docs/simulator.md, "Long runs": the steady state repeats one tile per
  // period, so the left-out tiles add period x count. Checked against the
  // kernel running every tile (head 0), compute-bound, DRAM-bound and
  // port-bound, with 1 to 3 slots, and with two ops overlapping.
  const std::vector<OpSchedule> ops = {tiles_op(500, 50, 30, 15), tiles_op(300, 20, 40, 30),
                                       tiles_op(200, 10, 5, 5, Engine::MacArray, 25),
                                       tiles_op(400, 7, 3, 11, Engine::Vector)};
  auto& acc = Accelerator::instance();
  for (std::int64_t slots : {1, 2, 3}) {
    const MachineParams mp = one_bit_dram(slots);
    for (std::size_t i = 0; i < ops.size(); ++i) {
      std::vector<StepOp> job{{&ops[i], false}, {&ops[(i + 1) % ops.size()], false}};
      acc.set_head(0);
      const auto full = acc.run(job, mp);
      acc.set_head(-1);
      const auto fast = acc.run(job, mp);
      for (std::size_t k = 0; k < job.size(); ++k) {
        CHECK(fast[k].cycles == full[k].cycles);
        CHECK(fast[k].mac_array_busy_cycles == full[k].mac_array_busy_cycles);
        CHECK(fast[k].vector_busy_cycles == full[k].vector_busy_cycles);
        CHECK(fast[k].dram_busy_cycles == full[k].dram_busy_cycles);
        CHECK(fast[k].stall_sram_cycles == full[k].stall_sram_cycles);
      }
    }
  }
}

TEST_CASE("the SystemC and analytic timings count the same events, cycles within a bound") {
  // The analytic closed form (analytic_stats) charges each tile's loads their
  // DRAM latency (stores are posted) and lays loads and stores beside compute one tile at a time; the
  // kernel pipelines the latency and lets loads run ahead by the slots. They
  // agree on every count and, on these ops, on cycles within 10%; the kernel
  // is never below its busiest module. Output slots: as many as input slots
  // (0), or one.
  for (Dataflow df :
       {Dataflow::WeightStationary, Dataflow::OutputStationary, Dataflow::InputStationary})
    for (std::int64_t slots : {1, 2, 3})
      for (std::int64_t out_slots : {0, 1})
        for (double bw : {1.0, 34.0, 1e5}) {
          ArchConfig arch = arch_with(df, 2, bw, true);
          arch.buffering = slots;
          arch.output_buffering = out_slots;
          const MachineParams mp = machine_params(arch);
          PeThroughput pe;
          pe.macs_per_cycle = 1;
          pe.run_a = pe.run_b = i8;
          VectorWork v;
          v.elements = 3'000'000;
          v.ops_per_element = 3;
          v.reads = {{Role::A, 3'000'000, i8}, {Role::W, 1000, i8}};
          v.writes = {{Role::A, 3'000'000, Format::fp32()}};
          std::vector<OpSchedule> ops;
          for (const GemmWork& w : {gemm(50000, 300, 1000, i8, i8), gemm(7, 5, 3, i8, i8),
                                    gemm(2000, 64, 50000, i8, i8, Role::A, Role::E, Role::G)})
            ops.push_back(map_gemm(w, mp, pe, 24));
          ops.push_back(map_vector(v, mp));
          for (const OpSchedule& s : ops) {
            const OpStats k = Accelerator::instance().run(s, mp);
            const OpStats a = analytic_stats(s, mp);
            CHECK(k.macs == a.macs);
            CHECK(k.vector_ops == a.vector_ops);
            CHECK(k.dram_read_bits == a.dram_read_bits);
            CHECK(k.dram_write_bits == a.dram_write_bits);
            CHECK(k.sram_read_bits == a.sram_read_bits);
            CHECK(k.sram_write_bits == a.sram_write_bits);
            CHECK(k.mac_array_busy_cycles == a.mac_array_busy_cycles);
            CHECK(k.vector_busy_cycles == a.vector_busy_cycles);
            CHECK(k.dram_busy_cycles == a.dram_busy_cycles);
            CHECK(k.cycles >=
                  std::max({k.mac_array_busy_cycles, k.vector_busy_cycles, k.dram_busy_cycles}));
            CHECK(double(k.cycles) == Approx(double(a.cycles)).epsilon(0.10));
          }
        }
}

TEST_CASE("one module tree runs many jobs and design points in one process") {
  // Buffers are run-time state: 1, 2 and 3 buffers in turn, twice.
  const GemmWork w = gemm(20000, 256, 576, i8, i8, Role::E, Role::W, Role::E);
  std::vector<OpStats> first;
  const long jobs_before = Accelerator::instance().jobs();
  for (int round = 0; round < 2; ++round)
    for (int buffers : {1, 2, 3}) {
      const ArchConfig arch = arch_with(Dataflow::OutputStationary, buffers, 20, true);
      PeThroughput pe;
      pe.macs_per_cycle = 2;
      pe.run_a = pe.run_b = i8;
      const MachineParams mp = machine_params(arch);
      const OpSchedule s = map_gemm(w, mp, pe, 24);
      const OpStats st = Accelerator::instance().run(s, mp);
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
  // cycle, summed along k: on bit_fusion's 64 rows a fold covers 64, 256 or
  // 1024 of k at 8, 4 or 2 bits, so K = 1024 takes 16, 4 or 1 folds of
  // M + 2R + C - 2 cycles (ideal memory: one tile).
  const ArchConfig arch = load_arch(resolve_arch_path("bit_fusion"), {"ideal_memory=true"});
  REQUIRE(arch.array.rows == 64);
  REQUIRE(arch.array.cols == 128);
  const std::int64_t M = 1 << 16, fold = M + 2 * 64 + 128 - 2;
  const GemmWork w8 = gemm(M, 128, 1024, i8, i8);
  GemmWork w4 = w8, w2 = w8;
  w4.lhs = w4.rhs = w4.out = i4;
  w2.lhs = w2.rhs = w2.out = i2;
  const auto s8 = run_gemm(arch, w8).stats, s4 = run_gemm(arch, w4).stats,
             s2 = run_gemm(arch, w2).stats;
  CHECK(s8.cycles == 16 * fold);
  CHECK(s4.cycles == 4 * fold);
  CHECK(s2.cycles == 1 * fold);
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
  CHECK(s4.energy_pj[s4.model.static_array()] == s8.energy_pj[s8.model.static_array()]);
}

}  // namespace lpsim

namespace lpsim {

TEST_CASE(
    "with ideal memory, conv layers take as many cycles as SCALE-Sim v2 has demand rows") {
  // SCALE-Sim v2 (scalesim/compute/systolic_compute_{os,ws,is}.py): per fold,
  // ws and is stream T + 2R + C - 2 demand rows (an R-row preload, R - 1 rows
  // of skew, C - 1 of drain), os T + R + C - 2 (no preload); folds
  // ceil(Sr / R) x ceil(Sc / C) with
  //   os: Sr = ofmap pixels, Sc = filters, T = window; ws: Sr = window, Sc = filters,
  //   T = pixels; is: Sr = window, Sc = pixels, T = filters.
  // Its reported total is the last row's index, one less. Ideal memory
  // (ideal_memory: true): one tile holds the layer and transfers take no time.
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
      ArchConfig arch = default_arch();
      arch.array = {R, R};
      arch.dataflow = df;
      arch.ideal_memory = true;
      for (const Layer& l : layers) {
        std::int64_t sr = 0, sc = 0, t = 0;
        if (df == Dataflow::OutputStationary) sr = l.pixels, sc = l.filters, t = l.window;
        if (df == Dataflow::WeightStationary) sr = l.window, sc = l.filters, t = l.pixels;
        if (df == Dataflow::InputStationary) sr = l.window, sc = l.pixels, t = l.filters;
        const std::int64_t preload = df == Dataflow::OutputStationary ? 0 : R;
        const std::int64_t rows = ((sr + R - 1) / R) * ((sc + R - 1) / R) * (t + preload + R + R - 2);
        const auto s = run_gemm(arch, gemm(l.pixels, l.filters, l.window, i8, i8));
        CHECK(s.stats.cycles == rows);
      }
    }
}

}  // namespace lpsim
