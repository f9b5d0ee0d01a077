// The mapper/tiler from first principles: fold arithmetic (SCALE-Sim's closed
// form), bytes over bandwidth, packed operands, re-fetches, double buffering.
#include "sim/mapper.h"

#include <catch2/catch.hpp>
#include <cmath>

#include "core/error.h"

namespace lpsim {
namespace {

// A design point with explicit numbers; `bandwidth_gbps` at 1 GHz is
// bandwidth_gbps * 8 bits per cycle.
ArchConfig test_arch(Dataflow df, std::int64_t rows, std::int64_t cols, double bandwidth_gbps,
                     std::int64_t buffer_bytes, bool double_buffering = true) {
  ArchConfig a;
  a.name = "test";
  a.clock_ghz = 1.0;
  a.array = {rows, cols};
  a.dataflow = df;
  a.pe.native_formats = {Format::integer(8)};
  BufferConfig act;
  act.name = "act";
  act.capacity_bytes = buffer_bytes;
  act.read_bits_per_cycle = act.write_bits_per_cycle = 1 << 20;
  act.holds = {Role::A, Role::E};
  BufferConfig wgt = act;
  wgt.name = "wgt";
  wgt.holds = {Role::W, Role::G, Role::Opt};
  a.buffers = {act, wgt};
  a.dram = {bandwidth_gbps, 0, 0};
  a.vector.lanes = 64;
  a.buffering = double_buffering ? 2 : 1;
  return a;
}

PeThroughput rate(double macs_per_cycle, int bits = 8) {
  PeThroughput p;
  p.macs_per_cycle = macs_per_cycle;
  p.energy_pj_per_mac = 0.3;
  p.run_a = p.run_b = Format::integer(bits);
  return p;
}

GemmWork gemm(std::int64_t m, std::int64_t n, std::int64_t k, int lhs_bits = 8, int rhs_bits = 8,
              int out_bits = 8) {
  GemmWork w;
  w.m = m;
  w.n = n;
  w.k = k;
  w.lhs = Format::integer(lhs_bits);
  w.rhs = Format::integer(rhs_bits);
  w.out = Format::integer(out_bits);
  return w;  // lhs A, rhs W, out A: the forward pass
}

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

}  // namespace

TEST_CASE("a compute-bound GEMM takes MACs / (PEs x MACs per PE per cycle) plus fill and drain") {
  // 16x16 weight-stationary array, DRAM and buffers so large memory never
  // limits: cycles = folds * (2R + C + M - 2) (SCALE-Sim), folds = K/R * N/C,
  // = MACs / PEs + folds * (2R + C - 2).
  const auto mp = machine_params(test_arch(Dataflow::WeightStationary, 16, 16, 1e9, 1 << 30));
  const auto w = gemm(4096, 64, 64);
  const OpStats st = analytic_stats(map_gemm(w, mp, rate(1.0), 24), mp);
  const double macs = 4096.0 * 64 * 64;
  const double folds = (64 / 16) * (64 / 16);
  const double expected = macs / (16 * 16 * 1.0) + folds * (2 * 16 + 16 - 2);
  CHECK(st.macs == macs);
  CHECK(std::abs(double(st.cycles) - expected) / expected < 0.02);
  CHECK(st.compute_bound_cycles > 0.99 * double(st.cycles));
}

TEST_CASE("a PE that runs 4 MACs per cycle adds them along k: 4x fewer folds, or a 4x faster stream") {
  // docs/simulator.md: a fused or packed PE sums its products along k before
  // the accumulator. ws maps k onto the rows, so a fold covers 4 x 16 rows of
  // k: ceil(64 / 64) x ceil(64 / 16) = 4 folds of (2R + C + M - 2) instead of
  // 16. os streams k, so each fold streams ceil(K / 4) rows.
  const auto ws = machine_params(test_arch(Dataflow::WeightStationary, 16, 16, 1e9, 1 << 30));
  const auto w = gemm(1 << 16, 64, 64);
  const double c1 = double(analytic_stats(map_gemm(w, ws, rate(1.0), 24), ws).cycles);
  const double c4 = double(analytic_stats(map_gemm(w, ws, rate(4.0), 24), ws).cycles);
  const double fill = 2 * 16 + 16 - 2;
  CHECK(c1 == 16 * ((1 << 16) + fill) + 2);
  CHECK(c4 == 4 * ((1 << 16) + fill) + 2);
  const auto os = machine_params(test_arch(Dataflow::OutputStationary, 16, 16, 1e9, 1 << 30));
  const auto k = gemm(64, 64, 1 << 16);
  const OpStats o4 = analytic_stats(map_gemm(k, os, rate(4.0), 24), os);
  CHECK(o4.mac_array_busy_cycles == 16 * ((1 << 16) / 4 + 16 + 16 - 2));
}

TEST_CASE("folds are ceil-divided per dataflow as in SCALE-Sim v2's compute modules") {
  // For an R x C array, cycles per fold (scalesim/compute/systolic_compute_*.py
  // demand rows) = 2R + C + T - 2 for ws and is (an R-row preload), R + C + T - 2
  // for os (none), with (Sr, Sc, T):
  //   ws: Sr = K, Sc = N, T = M;  os: Sr = M, Sc = N, T = K;  is: Sr = K, Sc = M, T = N
  // and folds = ceil(Sr / R) * ceil(Sc / C). Whole GEMM in one tile, memory
  // unbounded: the only extra is the 1-cycle prologue and epilogue.
  const std::int64_t R = 8, C = 12, M = 100, N = 30, K = 20;
  struct Case {
    Dataflow df;
    std::int64_t sr, sc, t;
  };
  for (const Case& c :
       {Case{Dataflow::WeightStationary, K, N, M}, Case{Dataflow::OutputStationary, M, N, K},
        Case{Dataflow::InputStationary, K, M, N}}) {
    const auto mp = machine_params(test_arch(c.df, R, C, 1e9, 1 << 30));
    const OpStats st = analytic_stats(map_gemm(gemm(M, N, K), mp, rate(1.0), 24), mp);
    const std::int64_t folds = ceil_div(c.sr, R) * ceil_div(c.sc, C);
    const std::int64_t preload = c.df == Dataflow::OutputStationary ? 0 : R;
    CHECK(st.mac_array_busy_cycles == folds * (preload + R + C + c.t - 2));
    CHECK(st.cycles == st.mac_array_busy_cycles + 2);
  }
}

TEST_CASE("a GEMM with a tiny K is memory-bound at bits / DRAM bandwidth") {
  // 1 GB/s at 1 GHz = 8 bits per cycle. The output (M x N at 8 bits) dwarfs
  // the inputs; cycles ~ (lhs + rhs + out bits) / 8.
  const auto mp = machine_params(test_arch(Dataflow::WeightStationary, 16, 16, 1.0, 256 << 10));
  const auto w = gemm(1 << 16, 256, 1);
  const OpStats st = analytic_stats(map_gemm(w, mp, rate(1.0), 24), mp);
  const double bits = (double(1 << 16) * 1 + 1 * 256 + double(1 << 16) * 256) * 8;
  CHECK(st.dram_read_bits + st.dram_write_bits == bits);
  const double expected = bits / 8;
  CHECK(std::abs(double(st.cycles) - expected) / expected < 0.02);
  CHECK(st.memory_bound_cycles > 0.95 * double(st.cycles));
}

TEST_CASE("a huge element-wise op is memory-bound at bytes / DRAM bandwidth") {
  // Read 2^24 int8 activations and write 2^24: 2 * 2^24 bytes at 4 GB/s,
  // 1 GHz = 4 bytes per cycle; the vector unit (64 lanes) needs 2^24 / 64.
  const auto mp = machine_params(test_arch(Dataflow::WeightStationary, 16, 16, 4.0, 1 << 20));
  VectorWork w;
  w.elements = 1 << 24;
  w.ops_per_element = 1;
  w.reads = {{Role::A, 1 << 24, Format::integer(8)}};
  w.writes = {{Role::A, 1 << 24, Format::integer(8)}};
  const OpStats st = analytic_stats(map_vector(w, mp), mp);
  const double bytes = 2.0 * (1 << 24);
  CHECK(std::abs(double(st.cycles) - bytes / 4) / (bytes / 4) < 0.02);
  CHECK(st.vector_ops == double(1 << 24));
  CHECK(st.vector_busy_cycles == (1 << 24) / 64);
  // Every bit goes through the activation buffer both ways.
  CHECK(st.sram_read_bits[0] == bytes * 8);
  CHECK(st.sram_write_bits[0] == bytes * 8);
}

TEST_CASE("operands move packed at their format's width") {
  // One tile holds the whole GEMM: DRAM reads M*K*4 + K*N*3 bits, writes M*N*5.
  const auto mp = machine_params(test_arch(Dataflow::WeightStationary, 16, 16, 1e9, 1 << 30));
  const auto w = gemm(300, 40, 50, 4, 3, 5);
  const OpStats st = analytic_stats(map_gemm(w, mp, rate(1.0, 4), 15), mp);
  CHECK(st.dram_read_bits == 300.0 * 50 * 4 + 50.0 * 40 * 3);
  CHECK(st.dram_write_bits == 300.0 * 40 * 5);
  // The weight buffer streams each weight into the array once (stationary).
  CHECK(st.sram_read_bits[1] == 50.0 * 40 * 3);
}

TEST_CASE("operand tiles that do not stay on chip are fetched from DRAM again") {
  // Loop order n { m { k } } with one k-block: a weight tile (k, n) is loaded
  // once per n-block, an input tile (m, k) once per (n, m) pair, so inputs
  // move ceil(N / nt) times: DRAM reads = M*K*8 * (N / nt) + K*N*8.
  const auto mp = machine_params(test_arch(Dataflow::WeightStationary, 16, 16, 1e9, 1 << 30));
  const auto w = gemm(1024, 128, 64);
  const GemmTiling t{256, 32, 64, LoopOrder::NMK, true};
  const OpStats st = analytic_stats(schedule_gemm(w, t, mp, rate(1.0), 24), mp);
  CHECK(st.dram_read_bits == 1024.0 * 64 * 8 * (128 / 32) + 64.0 * 128 * 8);
  CHECK(st.dram_write_bits == 1024.0 * 128 * 8);
  CHECK(st.tiles == (1024 / 256) * (128 / 32));
}

TEST_CASE("with k outermost (NKM) each weight block loads once and partial sums cross the link") {
  // Loop order n { k { m } } with 4 blocks on every dimension: a weight tile
  // (k, n) is loaded once, an input tile (m, k) once per n-block, and each
  // output tile's partial sums leave for DRAM after every k-block but the last
  // and come back before every k-block but the first, at accumulator width:
  //   reads  = K*N*8 + M*K*8 * (N/nt) + (K/kt - 1) * M*N*acc
  //   writes = M*N*8 + (K/kt - 1) * M*N*acc.
  // The same tiles with k innermost (NMK) reload the weights for every tile
  // and keep the partial sums on chip.
  const auto mp = machine_params(test_arch(Dataflow::WeightStationary, 16, 16, 1e9, 1 << 30));
  const auto w = gemm(1024, 128, 256);
  const int acc = 24;
  const double mn = 1024.0 * 128, in = 1024.0 * 256 * 8, wt = 256.0 * 128 * 8;
  const OpStats nkm = analytic_stats(
      schedule_gemm(w, {256, 32, 64, LoopOrder::NKM, true}, mp, rate(1.0), acc), mp);
  CHECK(nkm.dram_read_bits == wt + in * (128 / 32) + 3 * mn * acc);
  CHECK(nkm.dram_write_bits == mn * 8 + 3 * mn * acc);
  const OpStats nmk = analytic_stats(
      schedule_gemm(w, {256, 32, 64, LoopOrder::NMK, true}, mp, rate(1.0), acc), mp);
  CHECK(nmk.dram_read_bits == wt * (1024 / 256) + in * (128 / 32));
  CHECK(nmk.dram_write_bits == mn * 8);
  CHECK(nkm.macs == nmk.macs);
  CHECK(nkm.tiles == nmk.tiles);

  // With `dram.outputs: psum` every visit of an output tile moves it both
  // ways (Bit Fusion's get_stats_fast charges reads['out'] and writes['out']
  // per visit): K/kt times with k outermost, once with k innermost.
  auto psum = mp;
  psum.outputs = OutputTraffic::Psum;
  const OpStats pk = analytic_stats(
      schedule_gemm(w, {256, 32, 64, LoopOrder::NKM, true}, psum, rate(1.0), acc), psum);
  CHECK(pk.dram_write_bits == 4 * mn * acc);
  CHECK(pk.dram_read_bits == wt + in * (128 / 32) + 4 * mn * acc);
  const OpStats pi = analytic_stats(
      schedule_gemm(w, {256, 32, 64, LoopOrder::NMK, true}, psum, rate(1.0), acc), psum);
  CHECK(pi.dram_write_bits == mn * acc);
}

TEST_CASE("with k outermost an output-stationary fold cannot hold its sums across k-blocks") {
  // os, one 16 x 16 fold per tile: with k innermost the sums stay in the PEs
  // and are written to SRAM once; with k outermost the next tile is another
  // m-block, so each k-block writes its sums and reads back the earlier ones.
  const auto mp = machine_params(test_arch(Dataflow::OutputStationary, 16, 16, 1e9, 1 << 30));
  const auto w = gemm(64, 16, 256);
  const int acc = 24;
  const double mn = 64.0 * 16;
  const OpStats nkm = analytic_stats(
      schedule_gemm(w, {16, 16, 64, LoopOrder::NKM, true}, mp, rate(1.0), acc), mp);
  const OpStats nmk = analytic_stats(
      schedule_gemm(w, {16, 16, 64, LoopOrder::NMK, true}, mp, rate(1.0), acc), mp);
  // Accumulator writes into the activation buffer (index 0): 4 k-blocks each
  // write M*N sums, plus 3 spills arriving from DRAM; k innermost: M*N once.
  // The input fill (M*K*8, once per n-block: N = nt) is common to both.
  const double fill = 64.0 * 256 * 8;
  CHECK(nkm.sram_write_bits[0] == 4 * mn * acc + 3 * mn * acc + fill);
  CHECK(nmk.sram_write_bits[0] == mn * acc + fill);
  CHECK(nkm.macs == nmk.macs);
}

TEST_CASE("with k outermost a weight-stationary tile along m continues the fold it keeps") {
  // ws on 16 x 16, m = 64, n = 16, k = 32 in tiles of 16 x 16 x 16 under
  // n-k-m: two k-blocks, each one fold kept for four m-tiles. The first
  // m-tile of a k-block preloads (2 x 16 + 16 + 16 - 2 = 62 cycles, SCALE-Sim
  // v2's fold); the next three stream on (16 cycles each) and read no weights.
  const auto mp = machine_params(test_arch(Dataflow::WeightStationary, 16, 16, 1e9, 1 << 30));
  const OpStats st = analytic_stats(
      schedule_gemm(gemm(64, 16, 32), {16, 16, 16, LoopOrder::NKM, true}, mp, rate(1.0), 24), mp);
  CHECK(st.mac_array_busy_cycles == 2 * (62 + 3 * 16));
  CHECK(st.sram_read_bits[1] == 2 * 16 * 16 * 8);  // each weight block read into the array once
}

TEST_CASE("a backward-data tile under k outer spills the input-gradient region, not its im2col block") {
  // bwd_data of a 3x3 conv, stride 1, no padding, 8x8x4 input, batch 2, 32
  // filters: m = 2*6*6 pixels, n = 4*9 window entries, k = 32. One tile of
  // all of m and n per k-block, two k-blocks: the partial sums that leave
  // after the first are the 2*8*8*4 = 512-element input gradient they sum
  // into (col2im is linear), as the final store is, not the 72 x 36 block.
  const auto mp = machine_params(test_arch(Dataflow::WeightStationary, 16, 16, 1e9, 1 << 30));
  GemmWork w = gemm(72, 36, 32);
  w.im2col = Im2col::Out;
  w.conv = ConvWindow{8, 8, 6, 6, 3, 3, 1, 4};
  const int acc = 24;
  const double region = 2.0 * 8 * 8 * 4;
  const OpStats nkm = analytic_stats(
      schedule_gemm(w, {72, 36, 16, LoopOrder::NKM, true}, mp, rate(1.0), acc), mp);
  const OpStats nmk = analytic_stats(
      schedule_gemm(w, {72, 36, 16, LoopOrder::NMK, true}, mp, rate(1.0), acc), mp);
  CHECK(nmk.dram_write_bits == region * 8);
  CHECK(nkm.dram_write_bits == region * 8 + region * acc);
  CHECK(nkm.dram_read_bits == nmk.dram_read_bits + region * acc);
}

TEST_CASE("the tiler keeps the tiling of the lowest energy-delay product") {
  auto t = [](std::int64_t mt) { return GemmTiling{mt, 16, 16, LoopOrder::NMK, true}; };
  // {cycles, energy pJ, DRAM bits, tiles}. EDP 1000 x 100 = 100,000 against
  // 1100 x 90 = 99,000: 10% slower for 10% less energy wins by 1%; 1100 x 92
  // = 101,200 loses.
  CHECK(pick_tiling({{t(1), {1000, 100, 5e6, 10}}, {t(2), {1100, 90, 3e6, 10}}}).mt == 2);
  CHECK(pick_tiling({{t(1), {1000, 100, 5e6, 10}}, {t(2), {1100, 92, 3e6, 10}}}).mt == 1);
  // Equal products (2000 x 50 = 1000 x 100): fewer DRAM bits, then fewer
  // cycles, then fewer tiles; a full tie keeps the first tried.
  CHECK(pick_tiling({{t(1), {1000, 100, 5e6, 10}}, {t(2), {2000, 50, 3e6, 10}}}).mt == 2);
  CHECK(pick_tiling({{t(1), {2000, 50, 3e6, 10}}, {t(2), {1000, 100, 3e6, 10}}}).mt == 2);
  CHECK(pick_tiling({{t(1), {1000, 100, 3e6, 10}}, {t(2), {1000, 100, 3e6, 5}}}).mt == 2);
  CHECK(pick_tiling({{t(1), {1000, 100, 3e6, 10}}, {t(2), {1000, 100, 3e6, 10}}}).mt == 1);
}

TEST_CASE("a tiling's energy is its events at the design point's prices") {
  // One tile class, analytic: the energy the report prices the same events
  // at (op_energy_pj: MACs x pJ/MAC + SRAM bits x the buffer's pJ/bit + DRAM
  // bits x pJ/bit + leakage mW x cycles / GHz), the prices the table's.
  const auto arch = test_arch(Dataflow::WeightStationary, 16, 16, 1e9, 1 << 30);
  const auto mp = machine_params(arch);
  const auto w = gemm(256, 64, 128);
  const GemmTiling tiling{256, 64, 128, LoopOrder::NMK, true};
  const OpSchedule s = schedule_gemm(w, tiling, mp, rate(1.0), 24);
  const OpStats st = analytic_stats(s, mp);
  const EnergyTable table = energy_table_for(arch);
  const EnergyModel model = make_energy_model(arch, table, *make_pe(arch.pe, table));
  CHECK(model.dram_pj_per_bit == table.dram_pj_per_bit());
  CHECK(model.sram_pj_per_bit[0] == table.sram_pj_per_bit(1 << 30));
  CHECK(model.leakage_mw() > 0);
  double pj = 0;
  for (double e : op_energy_pj(st, model, 0.3, 0.0)) pj += e;
  const TilingScore score = score_tiling(w, tiling, mp, rate(1.0), 24);
  CHECK(score.cycles == st.cycles);
  CHECK(score.energy_pj == Approx(pj).epsilon(1e-12));
  CHECK(score.dram_bits == st.dram_read_bits + st.dram_write_bits);
  // A hand-built design point without its energy model cannot choose.
  MachineParams bare = mp;
  bare.energy = EnergyModel{};
  CHECK_THROWS_AS(score_tiling(w, tiling, bare, rate(1.0), 24), InternalError);
}

TEST_CASE("one output slot: the tile fits twice the partial sums and waits for its stores") {
  // 64 KiB activation buffer: input tile x 2 slots + output tile x 1 slot.
  auto arch = test_arch(Dataflow::WeightStationary, 16, 16, 10, 64 << 10);
  arch.output_buffering = 1;
  const auto mp = machine_params(arch);
  CHECK(mp.output_slots() == 1);
  CHECK(mp.buffering == 2);
  const auto w = gemm(8192, 512, 1152);
  const int acc = 24;
  const GemmTiling t = choose_gemm_tiling(w, mp, rate(1.0), acc);
  CHECK(t.fits);
  CHECK(2 * double(t.mt) * double(t.kt) * 8 + double(t.mt) * double(t.nt) * acc <=
        64.0 * 1024 * 8);
  // A tiling that fits with one output slot but not with two.
  const GemmTiling big{512, 32, 16, LoopOrder::NMK, true};  // 2 x 64 Kib + 384 Kib = 512 Kib
  CHECK(schedule_gemm(w, big, mp, rate(1.0), acc).overflow_buffer == -1);
  CHECK(schedule_gemm(w, big, machine_params(test_arch(Dataflow::WeightStationary, 16, 16, 10,
                                                       64 << 10)),
                      rate(1.0), acc)
            .overflow_buffer == 0);
  // k outer: the next tile's partial sums load ahead while this one holds
  // the output slot, so the same tile needs a second output tile:
  // 2 x 64 Kib + 2 x 384 Kib > 512 Kib.
  CHECK(schedule_gemm(w, {512, 32, 16, LoopOrder::NKM, true}, mp, rate(1.0), acc)
            .overflow_buffer == 0);
  CHECK(schedule_gemm(w, {256, 32, 16, LoopOrder::NKM, true}, mp, rate(1.0), acc)
            .overflow_buffer == -1);
  // Timing: with one output slot every tile but the last holds the engine
  // for its compute plus its stores; loads still overlap.
  auto two = test_arch(Dataflow::WeightStationary, 16, 16, 8, 1 << 30);
  auto one = two;
  one.output_buffering = 1;
  const auto mp2 = machine_params(two), mp1 = machine_params(one);
  const auto w2 = gemm(4096, 256, 256);
  const GemmTiling t2{512, 64, 256, LoopOrder::NMK, true};  // 32 tiles, each storing 512 x 64
  const OpStats a = analytic_stats(schedule_gemm(w2, t2, mp2, rate(1.0), 24), mp2);
  const OpStats b = analytic_stats(schedule_gemm(w2, t2, mp1, rate(1.0), 24), mp1);
  CHECK(a.dram_write_bits == b.dram_write_bits);
  const OpSchedule s1 = schedule_gemm(w2, t2, mp1, rate(1.0), 24);
  std::int64_t compute = 0, store = 0, tiles = 0;
  for (const TileRun& r : s1.runs) {
    compute += r.count * r.compute_cycles;
    store += r.count * mp1.dram_transfer_cycles(r.dram_write_bits);
    tiles += r.count;
  }
  CHECK(tiles == 32);
  CHECK(b.cycles > a.cycles);
  // Loads here are smaller than compute + store: the engine sets the pace,
  // the first tile's loads lead and the last tile's stores trail.
  const std::int64_t first_load = mp1.dram_transfer_cycles(s1.runs.front().dram_read_bits);
  CHECK(b.cycles == first_load + compute + store);
  CHECK(b.compute_bound_cycles < a.compute_bound_cycles);
}

TEST_CASE("the mapper's tiles fit the buffers, halved by double buffering") {
  // 64 KB buffers: (lhs + out at accumulator width) * 2 must fit the
  // activation buffer, the weight tile * 2 the weight buffer.
  const auto arch = test_arch(Dataflow::WeightStationary, 16, 16, 10, 64 << 10);
  const auto mp = machine_params(arch);
  const auto w = gemm(8192, 512, 1152);
  const int acc = 24;
  const GemmTiling t = choose_gemm_tiling(w, mp, rate(1.0), acc);
  CHECK(t.fits);
  const double act_bits = double(t.mt) * double(t.kt) * 8 + double(t.mt) * double(t.nt) * acc;
  const double wgt_bits = double(t.kt) * double(t.nt) * 8;
  CHECK(2 * act_bits <= 64.0 * 1024 * 8);
  CHECK(2 * wgt_bits <= 64.0 * 1024 * 8);
  // And the op's MACs are all there, whatever the tiling.
  CHECK(analytic_stats(schedule_gemm(w, t, mp, rate(1.0), acc), mp).macs == 8192.0 * 512 * 1152);
}

TEST_CASE("double buffering overlaps a tile's memory traffic with compute, without it they add") {
  // Same tiles both ways. Without: sum over tiles of (dram + compute).
  // With: prologue + sum of max(compute, dram) + epilogue, never more.
  const auto w = gemm(4096, 256, 256);
  const GemmTiling t{512, 64, 256, LoopOrder::NMK, true};
  const auto db = machine_params(test_arch(Dataflow::WeightStationary, 16, 16, 8, 1 << 30, true));
  const auto seq = machine_params(test_arch(Dataflow::WeightStationary, 16, 16, 8, 1 << 30, false));
  const OpStats a = analytic_stats(schedule_gemm(w, t, db, rate(1.0), 24), db);
  const OpStats b = analytic_stats(schedule_gemm(w, t, seq, rate(1.0), 24), seq);
  CHECK(a.mac_array_busy_cycles == b.mac_array_busy_cycles);
  CHECK(a.dram_busy_cycles == b.dram_busy_cycles);
  CHECK(b.cycles == b.mac_array_busy_cycles + b.dram_busy_cycles);
  CHECK(a.cycles < b.cycles);
  CHECK(a.cycles >= std::max(a.mac_array_busy_cycles, a.dram_busy_cycles));
}

TEST_CASE("partial sums of a split reduction move at accumulator width") {
  // ws, K = 64 on 16 rows: 4 k-folds write M*N partial sums each and read
  // back all but the first: writes = 4*M*N*acc, reads = 3*M*N*acc + M*N*acc
  // (the final drain to DRAM).
  const auto mp = machine_params(test_arch(Dataflow::WeightStationary, 16, 16, 1e9, 1 << 30));
  const auto w = gemm(128, 16, 64);
  const int acc = 24;
  const OpStats st = analytic_stats(map_gemm(w, mp, rate(1.0), acc), mp);
  const double mn = 128.0 * 16;
  CHECK(st.sram_write_bits[0] == 4 * mn * acc + 128.0 * 64 * 8);            // + the input fill
  CHECK(st.sram_read_bits[0] == 3 * mn * acc + mn * acc + 128.0 * 64 * 8);  // + input stream
}

}  // namespace lpsim

namespace lpsim {
namespace {

// test_arch plus accumulators of `port_bits_each_way` bits per cycle and 1 GiB.
ArchConfig with_accumulators(ArchConfig a, double port_bits_each_way) {
  a.accumulators.present = true;
  a.accumulators.storage.name = "acc";
  a.accumulators.storage.capacity_bytes = std::int64_t{1} << 30;
  a.accumulators.storage.read_bits_per_cycle = port_bits_each_way;
  a.accumulators.storage.write_bits_per_cycle = port_bits_each_way;
  return a;
}

}  // namespace

TEST_CASE("with accumulators, partial sums of a ws fold go to them, not to the unified buffer") {
  // ws, K = 64 on 16 rows: 4 k-folds each write M*N sums and read back all
  // but the first; the final sums are read once to drain them to DRAM:
  //   accumulator writes = 4*M*N*acc, reads = 3*M*N*acc + M*N*acc.
  // The activation buffer sees only the input: its fill and its stream.
  const auto mp = machine_params(
      with_accumulators(test_arch(Dataflow::WeightStationary, 16, 16, 1e9, 1 << 30), 1 << 20));
  REQUIRE(mp.buffers.size() == 3);
  REQUIRE(mp.accumulator_buffer == 2);
  const auto w = gemm(128, 16, 64);
  const int acc = 24;
  const OpStats st = analytic_stats(map_gemm(w, mp, rate(1.0), acc), mp);
  const double mn = 128.0 * 16;
  CHECK(st.sram_write_bits[2] == 4 * mn * acc);
  CHECK(st.sram_read_bits[2] == 3 * mn * acc + mn * acc);
  CHECK(st.sram_write_bits[0] == 128.0 * 64 * 8);  // the input fill only
  CHECK(st.sram_read_bits[0] == 128.0 * 64 * 8);   // the input stream only
  // The output still leaves at its format: M*N*8 bits to DRAM.
  CHECK(st.dram_write_bits == mn * 8);
}

TEST_CASE(
    "a ws GEMM with K > rows is port-bound on the unified buffer and compute-bound with "
    "accumulators of cols x acc bits per cycle") {
  // 16x16 ws array, activation buffer ports of 16 x 8 = 128 bits/cycle (one
  // int8 operand per row). M = 4096, N = 16 (one column fold), K = 64: fk = 4
  // k-folds. Memory is otherwise unbounded (1 GiB buffers, ~infinite DRAM),
  // so the GEMM is one tile: 1 prologue cycle + the tile + 1 epilogue cycle.
  const std::int64_t R = 16, C = 16, M = 4096, N = 16, K = 64, fk = K / R;
  const int acc = 24;
  ArchConfig base = test_arch(Dataflow::WeightStationary, R, C, 1e9, 1 << 30);
  base.buffers[0].read_bits_per_cycle = base.buffers[0].write_bits_per_cycle = double(R * 8);
  const auto w = gemm(M, N, K);

  // Without accumulators the psums (C x 24 bits per cycle) share the
  // activation buffer's 128-bit write port with the input fill:
  //   cycles = (M*K*8 + fk*M*N*acc) / 128 + 2.
  const MachineParams port_mp = machine_params(base);
  const OpStats port_bound = analytic_stats(map_gemm(w, port_mp, rate(1.0), acc), port_mp);
  const std::int64_t write_cycles = (M * K * 8 + fk * M * N * acc) / (R * 8);
  CHECK(port_bound.cycles == write_cycles + 2);
  CHECK(port_bound.memory_bound_cycles > port_bound.compute_bound_cycles);

  // With accumulators of C x acc bits per cycle each way the array sets the
  // pace: SCALE-Sim's fk x (2R + C + M - 2) + 2.
  const MachineParams acc_mp = machine_params(with_accumulators(base, double(C * acc)));
  const OpStats compute_bound = analytic_stats(map_gemm(w, acc_mp, rate(1.0), acc), acc_mp);
  CHECK(compute_bound.cycles == fk * (2 * R + C + M - 2) + 2);
  CHECK(compute_bound.mac_array_busy_cycles == fk * (2 * R + C + M - 2));
  CHECK(compute_bound.compute_bound_cycles == compute_bound.mac_array_busy_cycles);
}

TEST_CASE("the output tile must fit the accumulators, halved by double buffering") {
  // Accumulators of 64 KiB: 2 x mt x nt x acc bits <= 64 KiB x 8.
  ArchConfig a =
      with_accumulators(test_arch(Dataflow::WeightStationary, 16, 16, 10, 1 << 30), 1 << 20);
  a.accumulators.storage.capacity_bytes = 64 << 10;
  const auto mp = machine_params(a);
  const int acc = 24;
  const GemmTiling t = choose_gemm_tiling(gemm(8192, 512, 1152), mp, rate(1.0), acc);
  CHECK(t.fits);
  CHECK(2.0 * double(t.mt) * double(t.nt) * acc <= 64.0 * 1024 * 8);
}

TEST_CASE("with pipelined folds a tile pays the array's skew and drain once, and no preload") {
  // array.pipelined_folds (Bit Fusion's per-unit weight buffers): f folds of
  // T streamed rows take f x T + R + C - 2 instead of f x (2R + C + T - 2).
  const std::int64_t R = 8, C = 12, M = 100, N = 30, K = 20;
  ArchConfig a = test_arch(Dataflow::WeightStationary, R, C, 1e9, 1 << 30);
  a.array.pipelined_folds = true;
  const auto mp = machine_params(a);
  const OpStats st = analytic_stats(map_gemm(gemm(M, N, K), mp, rate(1.0), 24), mp);
  const std::int64_t folds = ceil_div(K, R) * ceil_div(N, C);
  CHECK(st.mac_array_busy_cycles == folds * M + R + C - 2);
  a.array.pipelined_folds = false;
  const auto plain = machine_params(a);
  CHECK(analytic_stats(map_gemm(gemm(M, N, K), plain, rate(1.0), 24), plain).mac_array_busy_cycles ==
        folds * (2 * R + C + M - 2));
}

TEST_CASE("channel mapping pads each kernel position's channels to whole folds") {
  // array.conv_mapping: channels (Bit Fusion): a fold's R rows take channels
  // at one kernel position, so a conv of C channels and KH x KW positions
  // runs KH x KW x ceil(C / R) folds along k per column fold, where the
  // window mapping runs ceil(C x KH x KW / R). Here C = 6, 3 x 3, R = 8:
  // 9 x 1 = 9 folds against ceil(54 / 8) = 7. MACs and data do not change.
  const std::int64_t R = 8, Cols = 16, C = 6, N = 16, M = 64;
  ArchConfig a = test_arch(Dataflow::WeightStationary, R, Cols, 1e9, 1 << 30);
  a.array.pipelined_folds = true;
  GemmWork w = gemm(M, N, C * 9);
  w.im2col = Im2col::Lhs;
  w.conv = ConvWindow{10, 10, 8, 8, 3, 3, 1, C};  // 1 image of 10x10 -> 8x8 = 64 pixels
  const auto window = machine_params(a);
  a.array.conv_mapping = ConvMapping::Channels;
  const auto channels = machine_params(a);
  const OpStats sw = analytic_stats(map_gemm(w, window, rate(1.0), 24), window);
  const OpStats sc = analytic_stats(map_gemm(w, channels, rate(1.0), 24), channels);
  CHECK(sw.mac_array_busy_cycles == ceil_div(C * 9, R) * M + R + Cols - 2);
  CHECK(sc.mac_array_busy_cycles == 9 * ceil_div(C, R) * M + R + Cols - 2);
  CHECK(sc.macs == Approx(double(M * N * C * 9)));
  CHECK(sc.dram_read_bits == Approx(sw.dram_read_bits));
  // The network's input arrives im2col-expanded from the host: DRAM moves
  // the M x K matrix (8 bits) instead of the raw 10 x 10 x C map, and the
  // window is contiguous again.
  w.conv.from_input = true;
  const OpStats host = analytic_stats(map_gemm(w, channels, rate(1.0), 24), channels);
  CHECK(host.mac_array_busy_cycles == sw.mac_array_busy_cycles);
  CHECK(host.dram_read_bits == Approx(sw.dram_read_bits - 10.0 * 10 * C * 8 + double(M) * C * 9 * 8));
}

}  // namespace lpsim
