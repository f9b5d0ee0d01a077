// Replay: the cost of a training trace (or of one training step) on a design
// point. Every unique (op shape, precisions, design point) is simulated once
// on the SystemC accelerator, cached, and multiplied by how often it occurs.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/precision.h"
#include "models/graph.h"
#include "models/training_step.h"
#include "power/energy_table.h"
#include "sim/arch.h"
#include "traces/trace.h"

namespace lpsim {

// Additive totals of some set of ops (a layer, a phase, an epoch, the run).
// Doubles: exact integers below 2^53.
struct Totals {
  double cycles = 0;
  double compute_bound_cycles = 0;  // + memory_bound_cycles = cycles
  double memory_bound_cycles = 0;
  double macs = 0;
  double bitops = 0;       // macs x lhs bits x rhs bits (the trace's formats)
  double vector_ops = 0;
  double gemm_cycles = 0;  // cycles of the GEMM ops (MAC array)
  double mac_capacity = 0; // sum over GEMM ops of peak MACs/cycle x cycles
  double dram_read_bits = 0, dram_write_bits = 0;
  std::vector<double> sram_read_bits, sram_write_bits;  // per buffer
  std::vector<double> energy_pj_by_component;           // SimReport::components order

  double energy_pj() const;  // the sum of the components, by definition
  // MACs / (PEs x peak MACs per PE per cycle at the op's widths x cycles).
  double utilization() const { return mac_capacity > 0 ? macs / mac_capacity : 0; }
  void add(const Totals& other, double times);
};

struct LayerReport {
  std::string name;
  std::string kind;  // layer_kind_name
  Totals totals;
};

struct EpochReport {
  std::int64_t epoch = 0;
  std::int64_t iterations = 0;
  std::int64_t images = 0;
  Totals totals;
};

struct CacheReport {
  std::int64_t unique_ops = 0;  // distinct (op, precisions, design point) keys this replay used
  std::int64_t simulated = 0;   // of those, simulated now (cache misses: SystemC jobs)
  std::int64_t hits = 0;        // op lookups answered from the cache
  std::int64_t unique_steps = 0;  // distinct (batch, per-layer precisions) training steps
};

struct SimReport {
  std::string arch_name;
  double clock_ghz = 0;
  std::string energy_table_source;
  std::vector<std::string> components;  // "mac", "sram:<buffer>"..., "dram", "vector", "leakage"
  std::vector<std::string> buffers;
  std::int64_t iterations = 0;
  std::int64_t images = 0;

  Totals total;
  std::array<Totals, kNumPhases> by_phase;
  std::array<Totals, 2> by_engine;  // [0] GEMM ops on the MAC array, [1] non-GEMM on the vector unit
  std::vector<LayerReport> layers;  // graph order
  std::vector<EpochReport> epochs;  // empty for simulate_step
  std::map<std::string, double> macs_by_width;  // "8x8" (run_a x run_b as the PEs ran them) -> MACs
  CacheReport cache;

  double latency_s() const { return total.cycles / (clock_ghz * 1e9); }
  double energy_j() const { return total.energy_pj() * 1e-12; }
};

class CostCache;

struct SimOptions {
  // Where simulated op costs are kept across calls; nullptr = the
  // process-wide cache (default_cost_cache()).
  CostCache* cache = nullptr;
  // true: every cache miss runs on the SystemC accelerator; false: the
  // mapper's plain-function prediction (the same numbers, tests/sim checks).
  bool use_systemc = true;
};

// The cost cache: op costs keyed by the op's dimensions, kind, roles and
// their formats, plus a fingerprint of the design point and energy table.
class CostCache {
 public:
  CostCache();
  ~CostCache();
  CostCache(const CostCache&) = delete;
  CostCache& operator=(const CostCache&) = delete;
  std::size_t size() const;  // op costs held
  void clear();

  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};
CostCache& default_cost_cache();

// The energy table of a design point: the built-in Horowitz table or the
// arch's override file, scaled to arch.node_nm.
EnergyTable energy_table_for(const ArchConfig& arch);

// Replays a trace: iterations split at epoch boundaries, at the short last
// batch of an epoch and at segment boundaries; per-layer segments override
// the all-layer precision of their layer. InputError for a segment naming a
// layer the graph lacks, or an op the design point cannot run.
SimReport simulate_trace(const Trace& trace, const Graph& graph, const ArchConfig& arch,
                         const EnergyTable& table, const SimOptions& options = {});

// One step at `batch`: the whole training step, or the forward pass only.
SimReport simulate_step(const Graph& graph, const ArchConfig& arch, const EnergyTable& table,
                        const PrecisionSet& precision, std::int64_t batch, bool forward_only,
                        const SimOptions& options = {});

// {"arch", "total_gbitops", "energy_j", "latency_s", "cycles", "macs",
//  "breakdown": {"component": {...}, "phase": {...}, "engine": {...}},
//  "bound": {...}, "layers": [...], "epochs": [...], "macs_by_width": {...},
//  "cache": {"unique_ops", "simulated", "hits", "unique_steps"}}; docs/simulator.md.
nlohmann::json to_json(const SimReport& report);

}  // namespace lpsim
