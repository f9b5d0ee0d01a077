// The mapper/tiler: tile choice, per-tile cycles and bits, and the pipeline
// step schedule (formulas in docs/simulator.md).
#include "sim/mapper.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"

namespace lpsim {

namespace {

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

// ceil(x) for a non-negative cycle count computed in floating point; the
// relative slack keeps an exact product (e.g. 3 * (1/3)) from rounding up.
// Counts beyond 2^53 are no longer exact in a double: the callers check.
constexpr double kMaxCycles = 9007199254740992.0;  // 2^53
std::int64_t ceil_cycles(double x) {
  if (!(x > 0)) return 0;
  return static_cast<std::int64_t>(std::ceil(std::min(x, kMaxCycles) * (1 - 1e-12)));
}

// The analytic timing's DRAM time of one transfer: one latency per transfer
// that moves anything, plus the bits at the channel's bandwidth.
std::int64_t analytic_dram_cycles(const MachineParams& mp, double bits) {
  if (bits <= 0) return 0;
  return mp.dram_latency_cycles + mp.dram_transfer_cycles(bits);
}
// Stores are posted (as the SystemC store engine posts them): a tile's
// stores hold the channel, and its output slot, for their transfer only.
std::int64_t analytic_store_cycles(const MachineParams& mp, double bits) {
  if (bits <= 0) return 0;
  return mp.dram_transfer_cycles(bits);
}

// One dimension cut into blocks of `t`: the first block, the middle ones and
// the last (possibly short) one, each with its multiplicity.
struct Block {
  std::int64_t count = 0, size = 0;
  bool first = false, last = false;
};
struct Blocks {
  Block b[3];
  int n = 0;
  std::int64_t total = 0;  // number of blocks
};
Blocks cut(std::int64_t d, std::int64_t t) {
  Blocks out;
  out.total = ceil_div(d, t);
  const std::int64_t last = d - (out.total - 1) * t;
  if (out.total == 1) {
    out.b[out.n++] = {1, d, true, true};
  } else {
    out.b[out.n++] = {1, t, true, false};
    if (out.total > 2) out.b[out.n++] = {out.total - 2, t, false, false};
    out.b[out.n++] = {1, last, false, true};
  }
  return out;
}

// A class of identical tiles: its multiplicity, cycles and bits. Slots are
// the operands that touch a buffer (at most one per role read or written).
constexpr int kMaxSlots = 2 * kNumRoles + 2;
struct TileClass {
  std::int64_t count = 0;
  bool is_first = false, is_last = false;
  std::int64_t compute = 0;
  std::int64_t load = 0, store = 0;  // DRAM cycles of the tile's loads and stores
  std::int64_t buffer_max = 0;       // slowest SRAM port of the tile
  double macs = 0, vector_ops = 0;
  double dram_read = 0, dram_write = 0;
  int slots = 0;
  std::array<int, kMaxSlots> slot_buffer{};
  std::array<double, kMaxSlots> slot_read{}, slot_write{};

  void touch(int buffer, double read_bits, double write_bits) {
    slot_buffer[slots] = buffer;
    slot_read[slots] = read_bits;
    slot_write[slots] = write_bits;
    ++slots;
  }
  // Per-port SRAM cycles: max(ceil(read / read bw), ceil(write / write bw)),
  // summing the slots that share a buffer.
  std::int64_t buffer_cycles(const MachineParams& mp, int buffer) const {
    double r = 0, w = 0;
    for (int i = 0; i < slots; ++i)
      if (slot_buffer[i] == buffer) {
        r += slot_read[i];
        w += slot_write[i];
      }
    const auto& b = mp.buffers[static_cast<std::size_t>(buffer)];
    return std::max(ceil_cycles(r / b.read_bits_per_cycle),
                    ceil_cycles(w / b.write_bits_per_cycle));
  }
  void finish(const MachineParams& mp) {
    buffer_max = 0;
    for (int i = 0; i < slots; ++i)
      buffer_max = std::max(buffer_max, buffer_cycles(mp, slot_buffer[i]));
    load = analytic_dram_cycles(mp, dram_read);
    store = analytic_store_cycles(mp, dram_write);
  }
};

// What the analytic timing needs of a class of identical tiles.
struct TileTiming {
  std::int64_t count = 0;
  bool first = false, last = false;
  std::int64_t compute = 0, load = 0, store = 0, port = 0;
};
TileTiming timing_of(const TileClass& c) {
  return {c.count, c.is_first, c.is_last, c.compute, c.load, c.store, c.buffer_max};
}
TileTiming timing_of(const TileRun& r, const MachineParams& mp) {
  return {r.count,
          r.first,
          r.last,
          r.compute_cycles,
          analytic_dram_cycles(mp, r.dram_read_bits),
          analytic_store_cycles(mp, r.dram_write_bits),
          r.slowest_port_cycles()};
}

// The analytic timing of tile classes in schedule order (analytic_stats).
// With two or more slots the first tile's loads run alone (prologue), every
// tile then computes while DRAM moves its traffic (loads of the next tile
// and stores of the previous one, charged to the tile itself), and the last
// tile's stores run alone (epilogue); with one slot each tile loads,
// computes and stores in turn. With one output slot (and two or more input
// slots) a tile computes only once the tile before's stores have left: its
// engine time is its compute plus its own stores, while loads still run
// ahead: max(max(compute, port) + stores, DRAM), as the kernel's engine
// frees the tile's slot only when its stores have left. `emit(count, cycles,
// compute_bound)`; compute_bound is true when the engine set the pace of
// those cycles (not waiting for memory, its stores included).
template <class Emit>
void lay_out(const std::vector<TileTiming>& classes, std::int64_t buffering,
             std::int64_t output_buffering, Emit&& emit) {
  auto overlapped = [&](std::int64_t count, std::int64_t compute, std::int64_t dram,
                        std::int64_t port, std::int64_t store_wait = 0) {
    if (count <= 0) return;
    emit(count, std::max(std::max(compute, port) + store_wait, dram),
         store_wait == 0 && compute >= std::max(dram, port));
  };
  for (const auto& c : classes) {
    if (c.count <= 0) continue;
    if (buffering < 2) {
      emit(c.count, c.load + c.store + std::max(c.compute, c.port), false);
      continue;
    }
    const std::int64_t wait = output_buffering < 2 ? c.store : 0;
    std::int64_t remaining = c.count;
    if (c.first) {
      overlapped(1, 0, c.load, 0);
      if (c.last && remaining == 1) {
        overlapped(1, c.compute, 0, c.port);
        overlapped(1, 0, c.store, 0);
        continue;
      }
      overlapped(1, c.compute, c.store, c.port, wait);
      --remaining;
    }
    if (c.last) {
      overlapped(remaining - 1, c.compute, c.load + c.store, c.port, wait);
      overlapped(1, c.compute, c.load, c.port);
      overlapped(1, 0, c.store, 0);
    } else {
      overlapped(remaining, c.compute, c.load + c.store, c.port, wait);
    }
  }
}

std::vector<TileRun> to_runs(const std::vector<TileClass>& classes, const MachineParams& mp) {
  std::vector<TileRun> runs;
  const std::size_t nb = mp.buffers.size();
  for (const auto& c : classes) {
    if (c.count <= 0) continue;
    TileRun r;
    r.count = c.count;
    r.first = c.is_first;
    r.last = c.is_last;
    r.compute_cycles = c.compute;
    r.macs = c.macs;
    r.vector_ops = c.vector_ops;
    r.dram_read_bits = c.dram_read;
    r.dram_write_bits = c.dram_write;
    r.port_cycles.assign(nb, 0);
    r.sram_read_bits.assign(nb, 0);
    r.sram_write_bits.assign(nb, 0);
    for (int i = 0; i < c.slots; ++i) {
      const auto b = static_cast<std::size_t>(c.slot_buffer[i]);
      r.sram_read_bits[b] += c.slot_read[i];
      r.sram_write_bits[b] += c.slot_write[i];
      r.port_cycles[b] = c.buffer_cycles(mp, c.slot_buffer[i]);
    }
    runs.push_back(std::move(r));
  }
  return runs;
}

// ---- GEMM ----

struct GemmContext {
  const GemmWork& w;
  const MachineParams& mp;
  const PeThroughput& pe;
  int acc_bits;
  // Real k over the k the array maps (MappedGemm): scales every operand
  // element count along k back from the padded k.
  double k_density;
  // out_buf: where partial sums live (MachineParams::psum_buffer): the
  // accumulators when the design has them, else the output role's buffer.
  int lhs_buf, rhs_buf, out_buf;
};

// Elements of a tile's lhs that move between DRAM and its buffer: the im2col
// block mt x kt, or, for a convolution, the raw input region it is formed
// from on chip (fwd: mt pixels x kt window; bwd_weight: kt pixels x mt window).
double lhs_fill_elements(const GemmWork& w, double mt, double kt) {
  switch (w.im2col) {
    case Im2col::Lhs:
      return w.conv.input_elements(mt, kt);
    case Im2col::LhsTransposed:
      return w.conv.input_elements(kt, mt);
    default:
      return mt * kt;
  }
}
// Elements of a tile's final output that go to DRAM: mt x nt, or, for
// backward-data (a transposed convolution, summed on chip), the input-gradient
// region of mt pixels x nt window entries.
double out_store_elements(const GemmWork& w, double mt, double nt) {
  return w.im2col == Im2col::Out ? w.conv.input_elements(mt, nt) : mt * nt;
}

// A PE faster than one MAC per cycle (fused bricks, packed narrow MACs) adds
// its products along k before the accumulator, as Bit Fusion's fusion units
// do: where k maps onto the rows (ws, is) a fold covers rows x rate of k and
// streams one row per cycle; where k streams (os) the stream runs rate times
// faster. A slower PE (bit-serial) slows the stream (docs/simulator.md).
bool fuses_k(const MachineParams& mp, double rate) {
  return rate > 1 && mp.dataflow != Dataflow::OutputStationary;
}
// Rows of k one fold covers.
std::int64_t k_rows(const MachineParams& mp, double rate) {
  return fuses_k(mp, rate) ? static_cast<std::int64_t>(std::ceil(double(mp.rows) * rate - 1e-9))
                           : mp.rows;
}
// Streamed rows per cycle.
double stream_rate(const MachineParams& mp, double rate) { return fuses_k(mp, rate) ? 1.0 : rate; }

// A GEMM as the array maps it (ArrayConfig::conv_mapping; docs/simulator.md,
// "Convolution mapping"). With channel mapping on ws or is, a convolution's k
// (channels x kernel positions) is padded so that each position's channels
// fill whole folds of k_rows, and k_density (real k / padded k) scales every
// operand's elements along k back to the data; the network's input arrives
// from the host as an im2col matrix (its k contiguous, moved as a matrix).
struct MappedGemm {
  GemmWork work;
  double k_density = 1;
};
MappedGemm mapped_gemm(const GemmWork& w, const MachineParams& mp, const PeThroughput& pe) {
  MappedGemm g{w, 1.0};
  if (mp.conv_mapping != ConvMapping::Channels || w.im2col != Im2col::Lhs) return g;
  if (w.conv.from_input) {
    g.work.im2col = Im2col::None;
    return g;
  }
  const std::int64_t positions = w.conv.kernel_h * w.conv.kernel_w, c = w.conv.channels;
  if (mp.dataflow == Dataflow::OutputStationary || positions * c != w.k) return g;
  const std::int64_t kr = k_rows(mp, pe.macs_per_cycle);
  g.work.k = positions * ceil_div(c, kr) * kr;
  g.k_density = double(w.k) / double(g.work.k);
  return g;
}

GemmContext context_of(const MappedGemm& mg, const MachineParams& mp, const PeThroughput& pe,
                       int acc_bits) {
  const GemmWork& w = mg.work;
  return {w,
          mp,
          pe,
          acc_bits,
          mg.k_density,
          mp.buffer_of(w.lhs_role),
          mp.buffer_of(w.rhs_role),
          mp.psum_buffer(w.out_role)};
}

// One SRAM tile of mt x nt x kt on the array (docs/simulator.md, "GEMM"):
// folds and streamed rows by dataflow, then where each operand's bits go.
TileClass gemm_tile(const GemmContext& g, const Block& bm, const Block& bn, const Block& bk,
                    const GemmTiling& tiling, std::int64_t nb_m, std::int64_t nb_n,
                    std::int64_t nb_k) {
  const auto R = g.mp.rows, C = g.mp.cols;
  const auto KR = k_rows(g.mp, g.pe.macs_per_cycle);  // k per fold where k maps onto the rows
  const double rate = stream_rate(g.mp, g.pe.macs_per_cycle);
  const double mt = double(bm.size), nt = double(bn.size), kt = double(bk.size);
  const double kd = kt * g.k_density;  // k entries that hold data (kt when unpadded)
  const bool n_outer = tiling.order != LoopOrder::MNK;
  // NKM with more than one k-block: the tile's partial sums come from DRAM
  // (after the first k-block) and go back to it (before the last).
  const bool k_outer = tiling.order == LoopOrder::NKM && nb_k > 1;
  std::int64_t folds = 0, stream = 0;
  // A tile of a single fold whose stationary block is the previous tile's
  // (the loop nest moved only along the streamed dimension, or along k for
  // output-stationary) continues that fold's stream: no new preload,
  // fill or drain, no new stationary load.
  bool continues = false;
  // Elements crossing the SRAM/array boundary in this tile.
  double lhs_arr = 0, rhs_arr = 0, out_w = 0, out_r = 0;
  const double reread = bk.first ? 0 : 1;  // partial sums of earlier k-blocks
  switch (g.mp.dataflow) {
    case Dataflow::WeightStationary: {  // rows <- k, cols <- n, stream m
      const auto fk = ceil_div(bk.size, KR), fn = ceil_div(bn.size, C);
      folds = fk * fn;
      stream = bm.size;
      // Along m the next tile keeps the (k, n) block: with n outer (NMK,
      // and NKM, whose m loop sits inside each k-block) or a single n-block.
      continues = folds == 1 && !bm.first &&
                  (k_outer || (nb_k == 1 && (n_outer || nb_n == 1)));
      lhs_arr = mt * kd * double(fn);
      rhs_arr = continues ? 0 : kd * nt;
      out_w = mt * nt * double(fk);
      out_r = mt * nt * (double(fk - 1) + reread);
      break;
    }
    case Dataflow::OutputStationary: {  // rows <- m, cols <- n, stream k
      const auto fm = ceil_div(bm.size, R), fn = ceil_div(bn.size, C);
      folds = fm * fn;
      stream = bk.size;
      // A single fold keeps its sums in the PEs across k-blocks and writes
      // them once, at the last; several folds (or k-outer, whose next tile
      // is another block of m) park partial sums in SRAM.
      const bool held = folds == 1 && !k_outer;
      continues = held && !bk.first;
      lhs_arr = mt * kd * double(fn);
      rhs_arr = kd * nt * double(fm);
      out_w = held ? (bk.last ? mt * nt : 0) : mt * nt;
      out_r = held ? 0 : mt * nt * reread;
      break;
    }
    case Dataflow::InputStationary: {  // rows <- k, cols <- m, stream n
      const auto fk = ceil_div(bk.size, KR), fm = ceil_div(bm.size, C);
      folds = fk * fm;
      stream = bn.size;
      continues = folds == 1 && nb_k == 1 && !bn.first && (!n_outer || nb_m == 1);
      lhs_arr = continues ? 0 : kd * mt;
      rhs_arr = kd * nt * double(fm);
      out_w = mt * nt * double(fk);
      out_r = mt * nt * (double(fk - 1) + reread);
      break;
    }
  }
  TileClass c;
  const std::int64_t streamed = ceil_cycles(double(stream) / rate);
  if (continues)
    c.compute = streamed;
  else if (g.mp.pipelined_folds)  // stationary operands load under the stream: skew and drain once
    c.compute = folds * streamed + R + C - 2;
  else
    c.compute = folds * fold_cycles(g.mp, stream, rate);
  c.macs = mt * nt * kd;

  bool loads_lhs = true, loads_rhs = true;
  switch (tiling.order) {
    case LoopOrder::NMK:  // for n { for m { for k } }
      loads_lhs = !(nb_k == 1 && nb_m == 1) || bn.first;
      loads_rhs = nb_k != 1 || bm.first;
      break;
    case LoopOrder::MNK:  // for m { for n { for k } }
      loads_lhs = nb_k != 1 || bn.first;
      loads_rhs = !(nb_k == 1 && nb_n == 1) || bm.first;
      break;
    case LoopOrder::NKM:  // for n { for k { for m } }
      loads_lhs = !(nb_k == 1 && nb_m == 1) || bn.first;
      loads_rhs = bm.first;
      break;
  }
  const bool writes_out = bk.last;
  const double lb = g.w.lhs.bits, rb = g.w.rhs.bits, ob = g.w.out.bits, ab = g.acc_bits;

  if (g.lhs_buf >= 0) {
    const double fill = loads_lhs && !g.w.lhs_resident ? lhs_fill_elements(g.w, mt, kd) * lb : 0;
    c.dram_read += fill;
    c.touch(g.lhs_buf, lhs_arr * lb, fill);
  } else {
    c.dram_read += lhs_arr * lb;
  }
  if (g.rhs_buf >= 0) {
    const double fill = loads_rhs ? kd * nt * rb : 0;
    c.dram_read += fill;
    c.touch(g.rhs_buf, rhs_arr * rb, fill);
  } else {
    c.dram_read += rhs_arr * rb;
  }
  const double final_out = writes_out ? mt * nt : 0;
  // The output tile as it crosses the link (for backward-data the
  // input-gradient region its windows sum into).
  const double out_region = out_store_elements(g.w, mt, nt);
  const double stored_out = writes_out ? out_region : 0;
  if (g.mp.outputs == OutputTraffic::Psum) {
    // The whole output tile crosses the link as partial sums, both ways, its
    // column dimension padded to whole groups of the array's columns.
    const double cols_dim = g.mp.dataflow == Dataflow::InputStationary ? mt : nt;
    const double pad = double(ceil_div(std::int64_t(cols_dim), C) * C) / cols_dim;
    const double load = bk.first || k_outer ? out_region * pad * ab : 0;
    const double store = writes_out || k_outer ? out_region * pad * ab : 0;
    c.dram_read += load;
    c.dram_write += store;
    if (g.out_buf >= 0) {
      c.touch(g.out_buf, out_r * ab + store, out_w * ab + load);
    } else {
      c.dram_read += out_r * ab;
      c.dram_write += (out_w - final_out) * ab;
    }
  } else if (g.out_buf >= 0) {
    // k-outer: the partial sums of earlier k-blocks arrive from DRAM, and
    // those of a k-block before the last leave for it, at accumulator width.
    // The spilled tile is what the final store moves, as `psum` moves it.
    const double spill_in = k_outer && !bk.first ? out_region * ab : 0;
    const double spill_out = k_outer && !bk.last ? out_region * ab : 0;
    c.dram_read += spill_in;
    c.dram_write += stored_out * ob + spill_out;
    c.touch(g.out_buf, out_r * ab + final_out * ab + spill_out, out_w * ab + spill_in);
  } else {
    // No staging buffer: partial sums go to DRAM at accumulator width, the
    // final ones at the output format.
    c.dram_read += out_r * ab;
    c.dram_write += (out_w - final_out) * ab + final_out * ob;
  }
  c.finish(g.mp);
  return c;
}

// Bits tiles of mt x nt x kt need in each buffer: the operands' tiles times
// `buffering` slots, the output tile times MachineParams::output_tiles (a
// tile whose partial sums arrive from DRAM loads them ahead;
// docs/simulator.md, "Output slots").
void tile_need(const GemmContext& g, std::int64_t mt, std::int64_t nt, std::int64_t kt,
               LoopOrder order, std::vector<double>& need) {
  need.assign(g.mp.buffers.size(), 0.0);
  const double kd = double(kt) * g.k_density, in = double(g.mp.buffering);
  if (g.lhs_buf >= 0)
    need[std::size_t(g.lhs_buf)] += lhs_fill_elements(g.w, double(mt), kd) * g.w.lhs.bits * in;
  if (g.rhs_buf >= 0) need[std::size_t(g.rhs_buf)] += kd * double(nt) * g.w.rhs.bits * in;
  if (g.out_buf >= 0) {
    const bool loads_psums = g.mp.outputs == OutputTraffic::Psum ||
                             (order == LoopOrder::NKM && kt < g.w.k);
    need[std::size_t(g.out_buf)] +=
        double(mt) * double(nt) * g.acc_bits * double(g.mp.output_tiles(loads_psums));
  }
}

// Records in `s` the first buffer whose `need` (bits of all its slots)
// overflows its capacity.
void check_fit(const std::vector<double>& need, const MachineParams& mp, OpSchedule& s) {
  for (std::size_t b = 0; b < need.size(); ++b)
    if (need[b] > mp.buffers[b].capacity_bits) {
      s.overflow_buffer = static_cast<int>(b);
      s.overflow_bits = need[b];
      return;
    }
}

std::vector<TileClass> gemm_classes(const GemmContext& g, const GemmTiling& t) {
  const Blocks m = cut(g.w.m, t.mt), n = cut(g.w.n, t.nt), k = cut(g.w.k, t.kt);
  std::vector<TileClass> classes;
  classes.reserve(27);
  for (int in = 0; in < n.n; ++in)
    for (int im = 0; im < m.n; ++im)
      for (int ik = 0; ik < k.n; ++ik) {
        const Block &bn = n.b[in], &bm = m.b[im], &bk = k.b[ik];
        TileClass c = gemm_tile(g, bm, bn, bk, t, m.total, n.total, k.total);
        c.count = bn.count * bm.count * bk.count * g.w.repeat;
        c.is_first = bn.first && bm.first && bk.first;
        c.is_last = bn.last && bm.last && bk.last;
        classes.push_back(c);
      }
  // The first tile leads the schedule and the last tile ends it.
  std::stable_partition(classes.begin(), classes.end(),
                        [](const TileClass& c) { return c.is_first; });
  std::stable_partition(classes.begin(), classes.end(),
                        [](const TileClass& c) { return !c.is_last || c.is_first; });
  return classes;
}

// Cycles of a schedule under the analytic timing.
std::int64_t analytic_cycles(const std::vector<TileTiming>& classes, const MachineParams& mp) {
  std::int64_t cycles = 0;
  lay_out(classes, mp.buffering, mp.output_slots(),
          [&](std::int64_t count, std::int64_t cyc, bool) { cycles += count * cyc; });
  return cycles;
}

TilingScore score(const std::vector<TileClass>& classes, const MachineParams& mp,
                  double pj_per_mac) {
  const EnergyModel& e = mp.energy;
  if (!mp.energy_matches())
    throw InternalError("score: the design point's energy model does not match its buffers");
  const double leakage_mw = e.leakage_mw();
  TilingScore s;
  std::vector<TileTiming> timings;
  timings.reserve(classes.size());
  for (const auto& c : classes) {
    const double n = double(c.count), dram = c.dram_read + c.dram_write;
    double sram_pj = 0;
    for (int i = 0; i < c.slots; ++i)
      sram_pj += e.sram_pj(static_cast<std::size_t>(c.slot_buffer[i]), c.slot_read[i] + c.slot_write[i]);
    s.dram_bits += n * dram;
    s.energy_pj += n * (c.macs * pj_per_mac + sram_pj + e.dram_pj(dram));
    s.tiles += c.count;
    timings.push_back(timing_of(c));
  }
  s.cycles = analytic_cycles(timings, mp);
  s.energy_pj += e.static_pj(leakage_mw, s.cycles);
  return s;
}

// Tile sizes tried along a dimension: g, 2g, 4g, ... below d, and d itself.
std::vector<std::int64_t> candidates(std::int64_t d, std::int64_t g) {
  std::vector<std::int64_t> c;
  for (std::int64_t t = g; t < d; t *= 2) c.push_back(t);
  c.push_back(d);
  return c;
}

// k-block sizes tried with k outermost (NKM): those of candidates(), and k
// cut into 2 to 16 even blocks (each rounded up to whole g), so that a k
// that is not a power-of-two multiple of g (e.g. 9 kernel positions) can
// still split into two blocks, and its partial sums cross the link twice,
// not three times.
std::vector<std::int64_t> k_outer_candidates(std::int64_t d, std::int64_t g) {
  std::vector<std::int64_t> c = candidates(d, g);
  for (std::int64_t j = 2; j <= 16; ++j)
    if (const std::int64_t t = ceil_div(ceil_div(d, j), g) * g; t < d) c.push_back(t);
  std::sort(c.begin(), c.end());
  c.erase(std::unique(c.begin(), c.end()), c.end());
  return c;
}

}  // namespace

MachineParams machine_params(const ArchConfig& arch) {
  const EnergyTable table = energy_table_for(arch);
  return machine_params(arch, make_energy_model(arch, table, *make_pe(arch.pe, table)));
}

MachineParams machine_params(const ArchConfig& arch, const EnergyModel& energy) {
  if (arch.clock_ghz <= 0 || arch.array.rows < 1 || arch.array.cols < 1 ||
      arch.dram.bandwidth_gbps <= 0 || arch.vector.lanes < 1 || arch.dram.latency_ns < 0 ||
      arch.buffering < 1)
    throw InternalError(fmt::format("design point '{}' reached the mapper unvalidated", arch.name));
  MachineParams mp;
  mp.rows = arch.array.rows;
  mp.cols = arch.array.cols;
  mp.dataflow = arch.dataflow;
  mp.buffering = arch.buffering;
  mp.output_buffering = arch.output_buffering;
  mp.pipelined_folds = arch.array.pipelined_folds;
  mp.conv_mapping = arch.array.conv_mapping;
  mp.outputs = arch.dram.outputs;
  const double inf = std::numeric_limits<double>::infinity();
  mp.dram_bits_per_cycle = arch.ideal_memory ? inf : arch.dram.bandwidth_gbps * 8 / arch.clock_ghz;
  mp.dram_latency_cycles =
      arch.ideal_memory ? 0 : ceil_cycles(arch.dram.latency_ns * arch.clock_ghz);
  mp.vector_lanes = arch.vector.lanes;
  std::vector<BufferConfig> storages = arch.buffers;
  if (arch.accumulators.present) storages.push_back(arch.accumulators.storage);
  for (std::size_t i = 0; i < storages.size(); ++i) {
    const auto& b = storages[i];
    MachineParams::Buffer mb;
    mb.name = b.name;
    mb.capacity_bits = double(b.capacity_bytes) * 8;
    const double port = double(b.banks * b.port_bits);
    mb.read_bits_per_cycle = b.read_bits_per_cycle > 0 ? b.read_bits_per_cycle : port;
    mb.write_bits_per_cycle = b.write_bits_per_cycle > 0 ? b.write_bits_per_cycle : port;
    if (mb.capacity_bits <= 0 || mb.read_bits_per_cycle <= 0 || mb.write_bits_per_cycle <= 0)
      throw InternalError(fmt::format("buffer '{}' reached the mapper unvalidated", b.name));
    if (arch.ideal_memory) mb.capacity_bits = mb.read_bits_per_cycle = mb.write_bits_per_cycle = inf;
    mp.buffers.push_back(mb);
    if (i >= arch.buffers.size()) {
      mp.accumulator_buffer = static_cast<int>(i);
      continue;
    }
    for (Role r : b.holds) {
      auto& slot = mp.buffer_of_role[static_cast<int>(r)];
      if (slot < 0) slot = static_cast<int>(i);
    }
  }
  mp.energy = energy;
  if (!mp.energy_matches())
    throw InternalError(fmt::format("design point '{}': energy model of another design", arch.name));
  return mp;
}

GemmWork gemm_work(const Op& op, const PrecisionSet& p) {
  GemmWork w;
  w.m = op.m;
  w.n = op.n;
  w.k = op.k;
  w.repeat = op.repeat;
  w.lhs_role = op.lhs_role;
  w.rhs_role = op.rhs_role;
  w.out_role = op.out_role;
  w.lhs = p[op.lhs_role];
  w.rhs = p[op.rhs_role];
  w.out = p[op.out_role];
  w.im2col = op.im2col;
  w.conv = op.conv;
  return w;
}

VectorWork vector_work(const Op& op, const PrecisionSet& p) {
  VectorWork w;
  w.elements = op.elements;
  w.ops_per_element = op.ops_per_element;
  // The update reads and writes the master weights: at their own format when
  // the trace records it (PrecisionSet::master), else at W's.
  auto format_of = [&](Role r) {
    return op.phase == Phase::Update && r == Role::W && p.master ? *p.master : p[r];
  };
  for (const auto& a : op.reads) w.reads.push_back({a.role, a.elements, format_of(a.role)});
  for (const auto& a : op.writes) w.writes.push_back({a.role, a.elements, format_of(a.role)});
  return w;
}

std::int64_t MachineParams::dram_transfer_cycles(double bits) const {
  if (bits <= 0) return 0;
  const double cycles = bits / dram_bits_per_cycle;
  if (!(cycles < kMaxCycles))
    throw InputError(fmt::format(
        "DRAM: moving {:.6g} bits at {:.6g} bits per cycle takes more than 2^53 cycles, beyond "
        "lpsim's exact time arithmetic: raise dram.bandwidth_gbps",
        bits, dram_bits_per_cycle));
  return ceil_cycles(cycles);
}

std::int64_t fold_cycles(const MachineParams& mp, std::int64_t stream, double macs_per_cycle) {
  if (macs_per_cycle <= 0)
    throw InternalError(fmt::format("PE rate {} MACs/cycle: must be > 0", macs_per_cycle));
  const std::int64_t preload = mp.dataflow == Dataflow::OutputStationary ? 0 : mp.rows;
  return preload + mp.rows + mp.cols + ceil_cycles(double(stream) / macs_per_cycle) - 2;
}

std::int64_t TileRun::slowest_port_cycles() const {
  std::int64_t m = 0;
  for (auto c : port_cycles) m = std::max(m, c);
  return m;
}

int TileRun::slowest_port() const {
  int best = -1;
  for (std::size_t b = 0; b < port_cycles.size(); ++b)
    if (port_cycles[b] > 0 && (best < 0 || port_cycles[b] > port_cycles[std::size_t(best)]))
      best = static_cast<int>(b);
  return best;
}

OpSchedule schedule_gemm(const GemmWork& w, const GemmTiling& tiling, const MachineParams& mp,
                         const PeThroughput& pe, int acc_bits) {
  OpSchedule s;
  if (w.m > 0 && w.n > 0 && w.k > 0 && w.repeat > 0) {
    const MappedGemm mg = mapped_gemm(w, mp, pe);
    const GemmContext g = context_of(mg, mp, pe, acc_bits);
    auto classes = gemm_classes(g, tiling);
    for (const auto& c : classes) s.tiles += c.count;
    s.runs = to_runs(classes, mp);
    std::vector<double> need;
    tile_need(g, tiling.mt, tiling.nt, tiling.kt, tiling.order, need);
    check_fit(need, mp, s);
  }
  s.buffers = static_cast<std::int64_t>(mp.buffers.size());
  s.engine = Engine::MacArray;
  s.tiling = tiling;
  s.pe = pe;
  s.peak_macs_per_cycle = double(mp.rows * mp.cols) * pe.macs_per_cycle;
  return s;
}

TilingScore score_tiling(const GemmWork& w, const GemmTiling& tiling, const MachineParams& mp,
                         const PeThroughput& pe, int acc_bits) {
  const MappedGemm mg = mapped_gemm(w, mp, pe);  // g refers to it
  const GemmContext g = context_of(mg, mp, pe, acc_bits);
  return score(gemm_classes(g, tiling), mp, pe.energy_pj_per_mac);
}

bool TilingScore::better_than(const TilingScore& o) const {
  const double a = edp(), b = o.edp();
  if (std::abs(a - b) > kTilingTie * std::max(a, b)) return a < b;
  if (dram_bits != o.dram_bits) return dram_bits < o.dram_bits;
  if (cycles != o.cycles) return cycles < o.cycles;
  return tiles < o.tiles;
}

GemmTiling pick_tiling(const std::vector<std::pair<GemmTiling, TilingScore>>& tried) {
  if (tried.empty()) throw InternalError("pick_tiling: no tiling to pick from");
  const std::pair<GemmTiling, TilingScore>* best = &tried.front();
  for (const auto& c : tried)
    if (c.second.better_than(best->second)) best = &c;
  return best->first;
}

GemmTiling choose_gemm_tiling(const GemmWork& w, const MachineParams& mp, const PeThroughput& pe,
                              int acc_bits) {
  if (w.m <= 0 || w.n <= 0 || w.k <= 0)
    return {std::max<std::int64_t>(w.m, 1), std::max<std::int64_t>(w.n, 1),
            std::max<std::int64_t>(w.k, 1), LoopOrder::NMK, true};
  // Array-mapped dimensions step in whole folds; the streamed one in rows.
  std::int64_t gm = 1, gn = 1, gk = 1;
  switch (mp.dataflow) {
    case Dataflow::WeightStationary:
      gk = k_rows(mp, pe.macs_per_cycle);
      gn = mp.cols;
      break;
    case Dataflow::OutputStationary:
      gm = mp.rows;
      gn = mp.cols;
      break;
    case Dataflow::InputStationary:
      gk = k_rows(mp, pe.macs_per_cycle);
      gm = mp.cols;
      break;
  }
  const MappedGemm mg = mapped_gemm(w, mp, pe);
  const GemmContext g = context_of(mg, mp, pe, acc_bits);
  const auto cm = candidates(w.m, gm), cn = candidates(w.n, gn);
  const auto ck_inner = candidates(mg.work.k, gk), ck_outer = k_outer_candidates(mg.work.k, gk);
  std::vector<double> need(mp.buffers.size());
  auto fits = [&](std::int64_t mt, std::int64_t nt, std::int64_t kt, LoopOrder order) {
    tile_need(g, mt, nt, kt, order, need);
    for (std::size_t b = 0; b < need.size(); ++b)
      if (need[b] > mp.buffers[b].capacity_bits) return false;
    return true;
  };

  std::vector<std::pair<GemmTiling, TilingScore>> tried;
  auto consider = [&](std::int64_t mt, std::int64_t nt, std::int64_t kt, LoopOrder order) {
    // NKM differs from NMK only with several k-blocks, and with one m-block
    // it is NMK plus a partial-sum round trip between consecutive tiles.
    if (order == LoopOrder::NKM && (kt >= mg.work.k || mt >= w.m)) return;
    const GemmTiling t{mt, nt, kt, order, true};
    tried.emplace_back(t, score(gemm_classes(g, t), mp, pe.energy_pj_per_mac));
  };
  // Largest fitting size along one dimension given the other two.
  auto largest = [](const std::vector<std::int64_t>& c, auto&& ok) -> std::int64_t {
    for (auto it = c.rbegin(); it != c.rend(); ++it)
      if (ok(*it)) return *it;
    return 0;
  };
  // k outer needs several m-blocks: its m sizes stop below the whole of m.
  const std::vector<std::int64_t> cm_outer(cm.begin(), cm.end() - (cm.size() > 1 ? 1 : 0));
  for (LoopOrder order : {LoopOrder::NMK, LoopOrder::MNK, LoopOrder::NKM}) {
    const bool k_outer = order == LoopOrder::NKM;
    const auto& cm_order = k_outer ? cm_outer : cm;
    const auto& ck = k_outer ? ck_outer : ck_inner;
    for (auto nt : cn)
      for (auto kt : ck)
        if (auto mt = largest(cm_order, [&](std::int64_t x) { return fits(x, nt, kt, order); }))
          consider(mt, nt, kt, order);
    for (auto mt : cm_order)
      for (auto kt : ck)
        if (auto nt = largest(cn, [&](std::int64_t x) { return fits(mt, x, kt, order); }))
          consider(mt, nt, kt, order);
    for (auto mt : cm_order)
      for (auto nt : cn)
        if (auto kt = largest(ck, [&](std::int64_t x) { return fits(mt, nt, x, order); }))
          consider(mt, nt, kt, order);
  }
  if (tried.empty()) return {cm.front(), cn.front(), ck_inner.front(), LoopOrder::NMK, false};
  return pick_tiling(tried);
}

OpSchedule map_gemm(const GemmWork& w, const MachineParams& mp, const PeThroughput& pe,
                    int acc_bits) {
  return schedule_gemm(w, choose_gemm_tiling(w, mp, pe, acc_bits), mp, pe, acc_bits);
}

OpSchedule map_vector(const VectorWork& w, const MachineParams& mp) {
  OpSchedule s;
  s.engine = Engine::Vector;
  s.buffers = static_cast<std::int64_t>(mp.buffers.size());
  if (w.elements <= 0) return s;
  const double e = double(w.elements);
  // Bits per output element each buffer stages over its slots: reads times
  // `buffering`, writes times `output_buffering`.
  std::vector<double> need(mp.buffers.size(), 0.0);
  bool bounded = false;
  for (const auto* list : {&w.reads, &w.writes})
    for (const auto& a : *list)
      if (int b = mp.buffer_of(a.role); b >= 0 && !a.fused) {
        const double slots = double(list == &w.reads ? mp.buffering : mp.output_slots());
        need[std::size_t(b)] += double(a.elements) / e * a.format.bits * slots;
        bounded = true;
      }
  std::int64_t chunk = bounded ? w.elements : std::min(w.elements, kUnbufferedVectorChunk);
  for (std::size_t b = 0; b < need.size(); ++b)
    if (need[b] > 0) {
      const double fit = std::floor(mp.buffers[b].capacity_bits / need[b]);
      if (fit < double(chunk)) chunk = static_cast<std::int64_t>(fit);
    }
  if (chunk < 1) {  // not even one output element's operands fit: record the buffer
    chunk = 1;
    check_fit(need, mp, s);
  }
  s.vector_chunk = chunk;

  const Blocks blocks = cut(w.elements, chunk);
  std::vector<TileClass> classes;
  for (int i = 0; i < blocks.n; ++i) {
    const Block& bl = blocks.b[i];
    TileClass c;
    c.count = bl.count;
    c.is_first = bl.first;
    c.is_last = bl.last;
    const double share = double(bl.size) / e;
    c.vector_ops = double(bl.size) * double(w.ops_per_element);
    c.compute = ceil_div(bl.size * w.ops_per_element, mp.vector_lanes);
    // Reads: DRAM -> buffer -> vector unit; writes: vector unit -> buffer -> DRAM.
    for (const auto& a : w.reads) {
      if (a.fused) continue;
      const double bits = double(a.elements) * share * a.format.bits;
      const int b = mp.buffer_of(a.role);
      if (a.resident && b >= 0) {  // already in the buffer: read it there
        c.touch(b, bits, 0);
        continue;
      }
      c.dram_read += bits;
      if (b >= 0) c.touch(b, bits, bits);
    }
    for (const auto& a : w.writes) {
      const double bits = double(a.elements) * share * a.format.bits;
      c.dram_write += bits;
      if (int b = mp.buffer_of(a.role); b >= 0) c.touch(b, bits, bits);
    }
    c.finish(mp);
    classes.push_back(c);
  }
  for (const auto& c : classes) s.tiles += c.count;
  s.runs = to_runs(classes, mp);
  return s;
}

double lhs_tensor_elements(const GemmWork& w) {
  return lhs_fill_elements(w, double(w.m), double(w.k)) * double(w.repeat);
}

double out_tensor_elements(const GemmWork& w) {
  return out_store_elements(w, double(w.m), double(w.n)) * double(w.repeat);
}

OpStats analytic_stats(const OpSchedule& s, const MachineParams& mp) {
  OpStats st;
  const auto nb = static_cast<std::size_t>(s.buffers);
  st.buffer_busy_cycles.assign(nb, 0);
  st.sram_read_bits.assign(nb, 0);
  st.sram_write_bits.assign(nb, 0);
  st.tiles = s.tiles;
  if (s.engine == Engine::MacArray) {
    st.run_a = s.pe.run_a;
    st.run_b = s.pe.run_b;
    st.peak_macs_per_cycle = s.peak_macs_per_cycle;
  }
  std::vector<TileTiming> timings;
  for (const auto& r : s.runs) {
    timings.push_back(timing_of(r, mp));
    const double n = double(r.count);
    for (std::size_t b = 0; b < nb; ++b) {
      st.buffer_busy_cycles[b] += r.count * r.port_cycles[b];
      st.sram_read_bits[b] += n * r.sram_read_bits[b];
      st.sram_write_bits[b] += n * r.sram_write_bits[b];
    }
    const std::int64_t compute = r.count * r.compute_cycles;
    (s.engine == Engine::MacArray ? st.mac_array_busy_cycles : st.vector_busy_cycles) += compute;
    st.dram_busy_cycles += r.count * (mp.dram_transfer_cycles(r.dram_read_bits) +
                                      mp.dram_transfer_cycles(r.dram_write_bits));
    const std::int64_t port = r.slowest_port_cycles();
    if (port > r.compute_cycles) {
      const std::int64_t excess = r.count * (port - r.compute_cycles);
      (r.slowest_port() == mp.accumulator_buffer ? st.stall_accumulator_cycles
                                                 : st.stall_sram_cycles) += excess;
    }
    st.macs += n * r.macs;
    st.vector_ops += n * r.vector_ops;
    st.dram_read_bits += n * r.dram_read_bits;
    st.dram_write_bits += n * r.dram_write_bits;
  }
  lay_out(timings, mp.buffering, mp.output_slots(), [&](std::int64_t count, std::int64_t cyc, bool compute_bound) {
    st.cycles += count * cyc;
    (compute_bound ? st.compute_bound_cycles : st.memory_bound_cycles) += count * cyc;
  });
  // What the engine waited for beyond its own occupancy is DRAM's.
  const std::int64_t engine_busy = st.mac_array_busy_cycles + st.vector_busy_cycles;
  st.stall_dram_cycles = std::max<std::int64_t>(
      0, st.cycles - engine_busy - st.stall_sram_cycles - st.stall_accumulator_cycles);
  return st;
}

}  // namespace lpsim
