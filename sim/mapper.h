// The mapper/tiler: how one op runs on one design point, as plain functions
// (no SystemC kernel). It cuts an op into tiles that fit the buffers, prices
// each tile in cycles and bits, and lays the tiles out as a schedule of
// pipeline steps that the SystemC modules (sim/accelerator.h) replay.
// Every formula is in docs/simulator.md.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/precision.h"
#include "models/training_step.h"
#include "sim/arch.h"
#include "sim/pe.h"
#include "sim/stats.h"

namespace lpsim {

// A design point's numbers as the mapper uses them, derived once.
struct MachineParams {
  std::int64_t rows = 0, cols = 0;
  Dataflow dataflow = Dataflow::WeightStationary;
  bool double_buffering = true;
  double dram_bits_per_cycle = 0;        // bandwidth_gbps * 8 / clock_ghz
  std::int64_t dram_latency_cycles = 0;  // ceil(latency_ns * clock_ghz)
  std::int64_t vector_lanes = 0;
  struct Buffer {
    std::string name;
    double capacity_bits = 0;
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
};
MachineParams machine_params(const ArchConfig& arch);

// A GEMM op reduced to what its cost depends on (the cost-cache key).
struct GemmWork {
  std::int64_t m = 0, n = 0, k = 0, repeat = 1;
  Role lhs_role = Role::A, rhs_role = Role::W, out_role = Role::A;
  Format lhs, rhs, out;
  friend bool operator==(const GemmWork&, const GemmWork&) = default;
};

// A tensor a non-GEMM op moves, at its role's format.
struct VectorAccess {
  Role role = Role::A;
  std::int64_t elements = 0;
  Format format;
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
VectorWork vector_work(const Op& op, const PrecisionSet& precision);

// Cycles of one fold of the systolic array streaming `stream` operand rows
// through it (SCALE-Sim's closed form, Samajdar et al. 2018):
//   2 * rows + cols + ceil(stream / macs_per_cycle) - 2
// where macs_per_cycle is one PE's rate at the op's widths (a bit-serial PE
// at 1/8 takes 8 cycles per streamed row, a fused 4x4 PE at 4 takes 1/4).
std::int64_t fold_cycles(const MachineParams& machine, std::int64_t stream, double macs_per_cycle);

// Loop order of the SRAM tiles, outermost first; k is always innermost so an
// output tile accumulates on chip until its last k-block.
enum class LoopOrder : std::uint8_t { NMK, MNK };

// SRAM tile of a GEMM: mt x nt outputs, kt of the reduction.
struct GemmTiling {
  std::int64_t mt = 0, nt = 0, kt = 0;
  LoopOrder order = LoopOrder::NMK;
  bool fits = true;  // false: even the smallest tile overflows a buffer (it is used anyway)
  friend bool operator==(const GemmTiling&, const GemmTiling&) = default;
};

enum class Engine : std::uint8_t { MacArray, Vector };

// One transaction of the schedule: `count` identical pipeline steps. A step
// computes one tile (compute_cycles on the engine, buffer_cycles on each SRAM
// port) while DRAM moves dram_cycles of traffic; `overlapped` (double
// buffering) runs DRAM alongside compute, otherwise DRAM goes first.
// The event counts are per step.
struct TileStep {
  std::int64_t count = 0;
  std::int64_t compute_cycles = 0;
  std::int64_t dram_cycles = 0;
  std::vector<std::int64_t> buffer_cycles;  // per arch buffer
  bool overlapped = true;
  double macs = 0;
  double vector_ops = 0;
  double dram_read_bits = 0, dram_write_bits = 0;
  std::vector<double> sram_read_bits, sram_write_bits;  // per arch buffer
};

// Cycles of one step: overlapped max(compute, dram, max buffer),
// else dram + max(compute, max buffer).
std::int64_t step_cycles(const TileStep& step);

struct OpSchedule {
  Engine engine = Engine::MacArray;
  std::vector<TileStep> steps;
  std::int64_t buffers = 0;  // size of the per-buffer vectors
  std::int64_t tiles = 0;
  GemmTiling tiling;               // MacArray
  std::int64_t vector_chunk = 0;   // Vector: output elements per tile
  PeThroughput pe;                 // MacArray
  double peak_macs_per_cycle = 0;  // MacArray: rows * cols * pe.macs_per_cycle
};

// Partial sums move at `acc_bits`, the accumulator width of the PE's run
// formats (EnergyTable::accumulator_format(run_a, run_b).bits).
//
// The schedule of a GEMM for a given tiling (exposed for tests and docs).
OpSchedule schedule_gemm(const GemmWork& work, const GemmTiling& tiling,
                         const MachineParams& machine, const PeThroughput& pe, int acc_bits);
// The tiling the mapper picks: fewest cycles, then fewest DRAM bits, then
// fewest tiles, over tiles that are power-of-two multiples of the array
// dimensions (or the whole dimension) and fit the buffers.
GemmTiling choose_gemm_tiling(const GemmWork& work, const MachineParams& machine,
                              const PeThroughput& pe, int acc_bits);
OpSchedule map_gemm(const GemmWork& work, const MachineParams& machine, const PeThroughput& pe,
                    int acc_bits);

// Output elements per vector tile when no buffer bounds the tile.
inline constexpr std::int64_t kUnbufferedVectorChunk = 65536;
OpSchedule map_vector(const VectorWork& work, const MachineParams& machine);

// The plain-function prediction of what the SystemC model measures.
OpStats predict_stats(const OpSchedule& schedule);

}  // namespace lpsim
