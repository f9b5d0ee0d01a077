// Replay: the cost of a training trace (or of one training step) on a design
// point. Every unique (op shape, precisions, design point) is simulated once
// on the SystemC accelerator, cached, and multiplied by how often it occurs.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/precision.h"
#include "models/graph.h"
#include "models/training_step.h"
#include "power/energy_table.h"
#include "sim/arch.h"
#include "sim/energy_model.h"
#include "traces/trace.h"

namespace lpsim {

// How cycles are found (docs/simulator.md): `SystemC` runs each unique
// training step on the SystemC accelerator, ops overlapping as the modules
// allow; `Analytic` prices each op alone with the closed form
// (analytic_stats), much faster, for wide sweeps. Event counts, and so
// every energy component but leakage, are the same under both.
enum class Timing : std::uint8_t { SystemC, Analytic };
std::string_view timing_name(Timing);  // "systemc" | "analytic"
Timing parse_timing(std::string_view name);  // InputError naming the allowed values

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
  // Sum over GEMM ops of peak MACs/cycle x max(cycles, MAC array busy cycles)
  // (an op overlapped with its neighbours may be attributed fewer cycles
  // than its array was busy).
  double mac_capacity = 0;
  // Busy cycles per module and stall cycles by cause (OpStats).
  double mac_array_busy_cycles = 0, vector_busy_cycles = 0, dram_busy_cycles = 0;
  double stall_dram_cycles = 0, stall_sram_cycles = 0, stall_accumulator_cycles = 0,
         stall_vector_cycles = 0, stall_mac_array_cycles = 0;
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
  std::array<Totals, kNumPhases> by_phase;  // the layer's ops of each phase
};

struct EpochReport {
  std::int64_t epoch = 0;
  std::int64_t iterations = 0;
  std::int64_t images = 0;
  Totals totals;
};

struct CacheReport {
  std::int64_t unique_ops = 0;  // distinct (op, precisions, design point) keys this replay used
  std::int64_t simulated = 0;   // cache misses now: SystemC jobs (one per unique step), or
                                // analytic op evaluations
  std::int64_t hits = 0;        // lookups (steps, or ops with --timing analytic) answered
                                // from the cache
  std::int64_t unique_steps = 0;  // distinct (batch, per-layer precisions) training steps
};

struct SimReport {
  std::string arch_name;
  double clock_ghz = 0;
  std::string energy_table_source;
  Timing timing = Timing::SystemC;
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
  double energy_static_j() const;   // leakage x time (is_static_component), part of energy_j
  double energy_dynamic_j() const;  // events x energy per event: energy_j - energy_static_j
};

// Derived metrics of any Totals of a report (the run, a phase, a layer, an
// epoch); to_json prints exactly these (docs/simulator.md).
double latency_s(const SimReport& report, const Totals& totals);  // cycles / clock
double energy_static_pj(const SimReport& report, const Totals& totals);
// Component name (SimReport::components) -> joules; sorted by name.
std::map<std::string, double> energy_j_by_component(const SimReport& report,
                                                    const Totals& totals);

class CostCache;

struct SimOptions {
  // Where simulated costs are kept across calls; nullptr = the process-wide
  // cache (default_cost_cache()).
  CostCache* cache = nullptr;
  Timing timing = Timing::SystemC;
};

// The cost cache, per design point (fingerprint of the design point and the
// energy table): op schedules keyed by the op's dimensions, kind, roles and
// their formats; analytic op costs by the same key; SystemC step costs by
// the sequence of op keys and their dependencies.
class CostCache {
 public:
  CostCache();
  ~CostCache();
  CostCache(const CostCache&) = delete;
  CostCache& operator=(const CostCache&) = delete;
  std::size_t size() const;  // op keys held
  void clear();

  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};
CostCache& default_cost_cache();

// Replays a trace over its intervals (traces/intervals.h: split at epoch
// boundaries, at the short last batch of an epoch and at segment boundaries;
// per-layer segments override the all-layer precision of their layer). InputError for a segment naming a
// layer the graph lacks, or an op the design point cannot run.
SimReport simulate_trace(const Trace& trace, const Graph& graph, const ArchConfig& arch,
                         const EnergyTable& table, const SimOptions& options = {});

// One step at `batch`: the whole training step, or the forward pass only.
// `layer_precision` overrides `precision` for the layers it names (by index),
// as a trace's per-layer segments do.
SimReport simulate_step(const Graph& graph, const ArchConfig& arch, const EnergyTable& table,
                        const PrecisionSet& precision, std::int64_t batch, bool forward_only,
                        const SimOptions& options = {},
                        const std::vector<std::pair<int, PrecisionSet>>& layer_precision = {});
// The per-layer precision a graph's layers state (Layer::w_bits / a_bits, from
// a topology CSV's W Bits / A Bits columns) over `base`: W and A integers of
// those widths, the other roles as `base`.
std::vector<std::pair<int, PrecisionSet>> layer_precision_of(const Graph& graph,
                                                             const PrecisionSet& base);

// {"arch", "total_gbitops", "energy_j", "latency_s", "cycles", "macs",
//  "breakdown": {"component": {...}, "phase": {...}, "engine": {...}},
//  "bound": {...}, "layers": [...], "epochs": [...], "macs_by_width": {...},
//  "cache": {"unique_ops", "simulated", "hits", "unique_steps"}}; docs/simulator.md.
nlohmann::json to_json(const SimReport& report);

}  // namespace lpsim
