// The mapper/tiler: how one op runs on one design point, as plain functions
// (no SystemC kernel). It cuts an op into tiles that fit the buffers, prices
// each tile in cycles and bits, and lays the tiles out as a schedule of
// pipeline steps that the SystemC modules (sim/accelerator.h) replay.
// Every formula is in docs/simulator.md.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/precision.h"
#include "models/training_step.h"
#include "sim/arch.h"
#include "sim/energy_model.h"
#include "sim/pe.h"
#include "sim/stats.h"

namespace lpsim {

// A design point's numbers as the mapper uses them, derived once.
struct MachineParams {
  std::int64_t rows = 0, cols = 0;
  Dataflow dataflow = Dataflow::WeightStationary;
  std::int64_t buffering = 2;  // tile slots per buffer (ArchConfig::buffering)
  // Slots of output tiles (ArchConfig::output_buffering); 0: as `buffering`.
  std::int64_t output_buffering = 0;
  std::int64_t output_slots() const { return output_buffering > 0 ? output_buffering : buffering; }
  // Output tiles a GEMM tile needs room for: output_slots(), and at least 2
  // when the tile loads its partial sums ahead (`loads_psums`: psum outputs,
  // or k outer with several k-blocks) while the tile before holds its slot
  // (loads run ahead with buffering >= 2). With two or more slots the one
  // whose stores have left takes them, as Bit Fusion's optimizer counts it.
  std::int64_t output_tiles(bool loads_psums) const {
    return loads_psums && buffering >= 2 ? std::max<std::int64_t>(output_slots(), 2)
                                         : output_slots();
  }
  bool pipelined_folds = false;  // ArrayConfig::pipelined_folds
  ConvMapping conv_mapping = ConvMapping::Window;  // ArrayConfig::conv_mapping
  OutputTraffic outputs = OutputTraffic::Final;    // DramConfig::outputs
  // DRAM: bits per cycle (bandwidth_gbps * 8 / clock_ghz; +infinity with
  // ideal_memory) and latency (ceil(latency_ns * clock_ghz); 0 with ideal_memory).
  double dram_bits_per_cycle = 0;
  std::int64_t dram_latency_cycles = 0;
  std::int64_t vector_lanes = 0;
  struct Buffer {
    std::string name;
    double capacity_bits = 0;  // +infinity with ideal_memory
    double read_bits_per_cycle = 0;
    double write_bits_per_cycle = 0;
  };
  // The arch's buffers in arch order, then the accumulators (if any) last.
  std::vector<Buffer> buffers;
  // Index of the accumulators in `buffers`, -1 without them. With them, every
  // partial sum of a GEMM (and its final read) goes there instead of the
  // output role's buffer, and the output tile must fit there.
  int accumulator_buffer = -1;
  // The buffer that stages each role: the first in arch order that holds it;
  // -1 when none does (that operand then streams between DRAM and the
  // compute engine with no on-chip reuse).
  std::array<int, kNumRoles> buffer_of_role{-1, -1, -1, -1, -1};
  int buffer_of(Role r) const { return buffer_of_role[static_cast<int>(r)]; }
  // Where a GEMM's partial sums live: the accumulators, else the output role's buffer.
  int psum_buffer(Role out) const {
    return accumulator_buffer >= 0 ? accumulator_buffer : buffer_of(out);
  }
  // What the mapper prices a tiling at (docs/simulator.md, "Tile choice"):
  // the design point's own energy model (sim/energy_model.h), its buffers
  // those of `buffers`. Empty in a hand-built MachineParams, which then
  // cannot choose a tiling (InternalError) but can time a schedule.
  EnergyModel energy;
  bool energy_matches() const {
    return energy.buffers() == buffers.size() && energy.clock_ghz > 0;
  }
  // DRAM cycles of moving `bits` as one transfer: ceil(bits / bits per cycle)
  // (0 for nothing). InputError when the count does not fit the time
  // arithmetic (a bandwidth too low for the op).
  std::int64_t dram_transfer_cycles(double bits) const;
};
// The mapper's view of a design point, its prices from `energy` (which
// make_energy_model built for the same design point).
MachineParams machine_params(const ArchConfig& arch, const EnergyModel& energy);
// The same with the energy model of the arch's own table and PE.
MachineParams machine_params(const ArchConfig& arch);

// A GEMM op reduced to what its cost depends on (the cost-cache key).
struct GemmWork {
  std::int64_t m = 0, n = 0, k = 0, repeat = 1;
  Role lhs_role = Role::A, rhs_role = Role::W, out_role = Role::A;
  Format lhs, rhs, out;
  // Convolutions: the im2col-shaped operand is formed on chip from the raw
  // tensor (docs/simulator.md, "Convolutions").
  Im2col im2col = Im2col::None;
  ConvWindow conv;
  // The lhs is the tensor the op before wrote and its buffer still holds
  // (docs/simulator.md, "Residency"): no DRAM fill.
  bool lhs_resident = false;
  friend bool operator==(const GemmWork&, const GemmWork&) = default;
};

// A tensor a non-GEMM op moves, at its role's format.
struct VectorAccess {
  Role role = Role::A;
  std::int64_t elements = 0;
  Format format;
  // A read fused into the producing op's output path (ArchConfig::fusion):
  // it streams from that op's output to the vector unit, touching neither
  // DRAM nor a buffer (docs/simulator.md, "Fusion").
  bool fused = false;
  // A read of a tensor the op before wrote and the buffer still holds
  // (docs/simulator.md, "Residency"): read from the buffer, not DRAM.
  bool resident = false;
  friend bool operator==(const VectorAccess&, const VectorAccess&) = default;
};

// A non-GEMM op reduced to what its cost depends on.
struct VectorWork {
  std::int64_t elements = 0;
  std::int64_t ops_per_element = 0;
  std::vector<VectorAccess> reads, writes;
  friend bool operator==(const VectorWork&, const VectorWork&) = default;
};

GemmWork gemm_work(const Op& op, const PrecisionSet& precision);
// Elements of the tensor a GEMM's lhs is (for a convolution, the raw input
// its im2col block is formed from), over all its repeats.
double lhs_tensor_elements(const GemmWork& work);
// Elements of the tensor a GEMM writes to DRAM (for backward-data, the input
// gradient its transposed convolution sums), over all its repeats.
double out_tensor_elements(const GemmWork& work);
VectorWork vector_work(const Op& op, const PrecisionSet& precision);

// Cycles of one fold of the systolic array streaming `stream` operand rows
// through it, as SCALE-Sim v2 counts its demand rows
// (scalesim/compute/systolic_compute_{ws,is,os}.py):
//   ws, is: 2 * rows + cols + ceil(stream / macs_per_cycle) - 2
//           (a rows-deep preload of the stationary operand, rows - 1 of skew,
//            cols - 1 of drain)
//   os:     rows + cols + ceil(stream / macs_per_cycle) - 2
//           (no preload: both operands stream; skew and drain only)
// where macs_per_cycle is one PE's rate at the op's widths (a bit-serial PE
// at 1/8 takes 8 cycles per streamed row, a fused 4x4 PE at 4 takes 1/4).
// With pipelined folds (ArrayConfig::pipelined_folds) a tile of f folds
// takes f x ceil(stream / macs_per_cycle) + rows + cols - 2 instead.
std::int64_t fold_cycles(const MachineParams& machine, std::int64_t stream, double macs_per_cycle);

// Loop order of the SRAM tiles, outermost first. With k innermost (NMK, MNK)
// an output tile accumulates on chip until its last k-block; NKM keeps each
// weight-side block (k x n) for a whole pass over m, so its partial sums
// leave the chip between k-blocks and come back for the next one
// (docs/simulator.md, "SRAM tiles"). The tiler offers NKM only with several
// k-blocks and several m-blocks.
enum class LoopOrder : std::uint8_t { NMK, MNK, NKM };

// SRAM tile of a GEMM: mt x nt outputs, kt of the reduction.
struct GemmTiling {
  std::int64_t mt = 0, nt = 0, kt = 0;
  LoopOrder order = LoopOrder::NMK;
  bool fits = true;  // false: even the smallest tile overflows a buffer (it is used anyway)
  friend bool operator==(const GemmTiling&, const GemmTiling&) = default;
};

enum class Engine : std::uint8_t { MacArray, Vector };

// A run of `count` identical tiles of an op, in schedule order. One tile:
// its loads (`dram_read_bits`, one DRAM transfer) must arrive before it can
// start; on its engine it takes `compute_cycles`, while each buffer port it
// uses is busy `port_cycles[b]` (array-side traffic plus DMA fills and
// drains), so it occupies the engine max(compute, slowest port); its stores
// (`dram_write_bits`) leave after it ends. `first` / `last`: the run holds the
// op's first / last tile. Event counts are per tile.
struct TileRun {
  std::int64_t count = 0;
  bool first = false, last = false;
  std::int64_t compute_cycles = 0;
  std::vector<std::int64_t> port_cycles;  // per buffer (MachineParams::buffers)
  double macs = 0, vector_ops = 0;
  double dram_read_bits = 0, dram_write_bits = 0;
  std::vector<double> sram_read_bits, sram_write_bits;  // per buffer
  std::int64_t slowest_port_cycles() const;
  int slowest_port() const;  // the buffer of slowest_port_cycles(), -1 when none is used
};

struct OpSchedule {
  Engine engine = Engine::MacArray;
  std::vector<TileRun> runs;
  std::int64_t buffers = 0;  // size of the per-buffer vectors
  std::int64_t tiles = 0;
  GemmTiling tiling;               // MacArray
  std::int64_t vector_chunk = 0;   // Vector: output elements per tile
  PeThroughput pe;                 // MacArray
  double peak_macs_per_cycle = 0;  // MacArray: rows * cols * pe.macs_per_cycle
  // The first buffer (with the bits it would need) that cannot hold its
  // tiles' slots (`buffering` of the operands', output_slots() of the
  // outputs', at least 2 when a tile loads its partial sums ahead; see
  // tile_need in mapper.cpp): -1 when every tile fits.
  int overflow_buffer = -1;
  double overflow_bits = 0;
};

// Partial sums move at `acc_bits`, the accumulator width of the PE's run
// formats (EnergyTable::accumulator_format(run_a, run_b).bits).
//
// The schedule of a GEMM for a given tiling (exposed for tests and docs).
OpSchedule schedule_gemm(const GemmWork& work, const GemmTiling& tiling,
                         const MachineParams& machine, const PeThroughput& pe, int acc_bits);
// How the mapper ranks a tiling it tried: analytic cycles (the closed form
// of analytic_stats), energy at the design point's prices (MACs, SRAM and
// DRAM bits, leakage over those cycles), DRAM bits moved, tiles.
struct TilingScore {
  std::int64_t cycles = 0;
  double energy_pj = 0;
  double dram_bits = 0;
  std::int64_t tiles = 0;
  // Energy-delay product, pJ x cycles.
  double edp() const { return energy_pj * double(cycles); }
  // Lower energy-delay product; within kTilingTie of each other, fewer DRAM
  // bits, then fewer cycles, then fewer tiles.
  bool better_than(const TilingScore& o) const;
};
// Energy-delay products this close (relative) count as equal.
inline constexpr double kTilingTie = 1e-9;
// The score of one tiling of a GEMM (what choose_gemm_tiling ranks).
TilingScore score_tiling(const GemmWork& work, const GemmTiling& tiling,
                         const MachineParams& machine, const PeThroughput& pe, int acc_bits);
// Of the tilings tried (not empty), the best (TilingScore::better_than); on
// a full tie the first tried.
GemmTiling pick_tiling(const std::vector<std::pair<GemmTiling, TilingScore>>& tried);
// The tiling the mapper picks (pick_tiling) over tiles that are power-of-two
// multiples of the array dimensions (or the whole dimension; with k
// outermost also k cut into 2..16 even blocks) in loop orders NMK, MNK and
// NKM, that fit the buffers.
GemmTiling choose_gemm_tiling(const GemmWork& work, const MachineParams& machine,
                              const PeThroughput& pe, int acc_bits);
OpSchedule map_gemm(const GemmWork& work, const MachineParams& machine, const PeThroughput& pe,
                    int acc_bits);

// Output elements per vector tile when no buffer bounds the tile.
inline constexpr std::int64_t kUnbufferedVectorChunk = 65536;
OpSchedule map_vector(const VectorWork& work, const MachineParams& machine);

// The analytic timing (`--timing analytic`): the closed form the mapper also
// scores tilings with, no kernel. With buffering >= 2,
//   cycles = L_first + sum over tiles of max(compute, L + S, port) + S_last
// where L is a tile's loads as one DRAM transfer (latency + ceil(bits /
// bits per cycle)) and S its stores, posted (ceil(bits / bits per cycle));
// with one output slot (output_buffering 1) each tile but the last takes
// max(max(compute, port) + S, L + S) (the next tile waits for its stores);
// with buffering 1,
//   cycles = sum over tiles of (L + S + max(compute, port)).
// Event counts equal the SystemC model's; cycles differ (docs/simulator.md
// bounds the difference).
OpStats analytic_stats(const OpSchedule& schedule, const MachineParams& machine);

}  // namespace lpsim
