// What simulating one op on one design point produced: cycles, busy cycles
// per module, bound-by-what, and the event counts the energy model prices.
#pragma once

#include <cstdint>
#include <vector>

#include "core/precision.h"

namespace lpsim {

// Counts for one op (one layer, one phase, one training step's batch).
// Bits and MACs are doubles: exact integers while below 2^53 (9e15).
struct OpStats {
  std::int64_t cycles = 0;
  // Every cycle is either compute-bound (the MAC array or the vector unit
  // set the pace of its pipeline step) or memory-bound (DRAM or an SRAM port
  // did, and the compute engine stalled): compute + memory = cycles.
  std::int64_t compute_bound_cycles = 0;
  std::int64_t memory_bound_cycles = 0;

  // Stall cycles of the op's engine, by what it waited for (docs/simulator.md):
  // DRAM (a tile's loads not yet arrived, or no output slot free until a
  // store drains), a buffer's SRAM port or the accumulators' port slower than
  // the compute, or an earlier op on the other engine (the vector unit for a
  // GEMM op, the MAC array for a vector op) that this op depends on.
  std::int64_t stall_dram_cycles = 0;
  std::int64_t stall_sram_cycles = 0;
  std::int64_t stall_accumulator_cycles = 0;
  std::int64_t stall_vector_cycles = 0;
  std::int64_t stall_mac_array_cycles = 0;

  // Busy cycles per module. With the SystemC timing ops overlap, so one op's
  // busy cycles may exceed the cycles attributed to it; over a whole step
  // each module's busy cycles are at most the step's cycles.
  std::int64_t mac_array_busy_cycles = 0;  // computing (port stalls not included)
  std::int64_t vector_busy_cycles = 0;
  std::int64_t dram_busy_cycles = 0;  // the channel moving this op's bits
  std::vector<std::int64_t> buffer_busy_cycles;  // per arch buffer, in arch order

  // GEMM work: MACs at the widths the PEs ran (PeThroughput::run_a/run_b),
  // and the array's peak MACs per cycle at those widths (PEs x per-PE rate),
  // so utilization = macs / (peak_macs_per_cycle x cycles).
  double macs = 0;
  Format run_a, run_b;
  double peak_macs_per_cycle = 0;

  // Non-GEMM work on the vector unit: element operations.
  double vector_ops = 0;

  // Data moved, in bits, operands packed at their format's width.
  std::vector<double> sram_read_bits;   // per arch buffer
  std::vector<double> sram_write_bits;  // per arch buffer
  double dram_read_bits = 0;
  double dram_write_bits = 0;

  std::int64_t tiles = 0;  // tiles the mapper cut the op into (all repeats)

  friend bool operator==(const OpStats&, const OpStats&) = default;
};

}  // namespace lpsim
