// Replay with a cost cache: trace -> unique training steps -> unique ops ->
// SystemC jobs, multiplied back by their counts (docs/simulator.md).
#include "sim/replay.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <set>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "core/error.h"
#include "sim/accelerator.h"
#include "sim/energy_model.h"
#include "sim/mapper.h"
#include "sim/pe.h"
#include "traces/intervals.h"

namespace lpsim {

// ---- Totals ----

double Totals::energy_pj() const {
  double e = 0;
  for (double c : energy_pj_by_component) e += c;
  return e;
}

namespace {

void add_scaled(std::vector<double>& into, const std::vector<double>& from, double times) {
  if (into.size() < from.size()) into.resize(from.size(), 0.0);
  for (std::size_t i = 0; i < from.size(); ++i) into[i] += from[i] * times;
}

}  // namespace

void Totals::add(const Totals& o, double times) {
  cycles += o.cycles * times;
  compute_bound_cycles += o.compute_bound_cycles * times;
  memory_bound_cycles += o.memory_bound_cycles * times;
  macs += o.macs * times;
  bitops += o.bitops * times;
  vector_ops += o.vector_ops * times;
  gemm_cycles += o.gemm_cycles * times;
  mac_capacity += o.mac_capacity * times;
  mac_array_busy_cycles += o.mac_array_busy_cycles * times;
  vector_busy_cycles += o.vector_busy_cycles * times;
  dram_busy_cycles += o.dram_busy_cycles * times;
  stall_dram_cycles += o.stall_dram_cycles * times;
  stall_sram_cycles += o.stall_sram_cycles * times;
  stall_accumulator_cycles += o.stall_accumulator_cycles * times;
  stall_vector_cycles += o.stall_vector_cycles * times;
  stall_mac_array_cycles += o.stall_mac_array_cycles * times;
  dram_read_bits += o.dram_read_bits * times;
  dram_write_bits += o.dram_write_bits * times;
  add_scaled(sram_read_bits, o.sram_read_bits, times);
  add_scaled(sram_write_bits, o.sram_write_bits, times);
  add_scaled(energy_pj_by_component, o.energy_pj_by_component, times);
}

// ---- the cost cache ----

namespace {

struct OpKey {
  int design = 0;
  OpKind kind = OpKind::Gemm;
  GemmWork gemm;
  VectorWork vector;
  friend bool operator==(const OpKey&, const OpKey&) = default;
};

struct OpKeyHash {
  static void mix(std::size_t& h, std::size_t v) {
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  }
  static void mix(std::size_t& h, const Format& f) {
    mix(h, std::size_t(f.kind));
    mix(h, std::size_t(f.bits));
    mix(h, std::size_t(f.exp_bits));
    mix(h, std::size_t(f.man_bits));
  }
  std::size_t operator()(const OpKey& k) const {
    std::size_t h = std::size_t(k.design);
    mix(h, std::size_t(k.kind));
    if (k.kind == OpKind::Gemm) {
      const auto& g = k.gemm;
      for (auto v : {g.m, g.n, g.k, g.repeat}) mix(h, std::size_t(v));
      for (auto r : {g.lhs_role, g.rhs_role, g.out_role}) mix(h, std::size_t(r));
      mix(h, std::size_t(g.im2col));
      mix(h, std::size_t(g.lhs_resident));
      for (auto v : {g.conv.in_h, g.conv.in_w, g.conv.out_h, g.conv.out_w, g.conv.kernel_h,
                     g.conv.kernel_w, g.conv.stride, g.conv.channels})
        mix(h, std::size_t(v));
      mix(h, g.lhs);
      mix(h, g.rhs);
      mix(h, g.out);
    } else {
      const auto& v = k.vector;
      mix(h, std::size_t(v.elements));
      mix(h, std::size_t(v.ops_per_element));
      for (const auto* list : {&v.reads, &v.writes}) {
        mix(h, list->size());
        for (const auto& a : *list) {
          mix(h, std::size_t(a.role));
          mix(h, std::size_t(a.elements));
          mix(h, a.format);
          mix(h, std::size_t(a.fused));
          mix(h, std::size_t(a.resident));
        }
      }
    }
    return h;
  }
};

// What one op costs on one design point, for the op's whole batch.
struct OpCost {
  OpStats stats;
  std::vector<double> energy_pj;
};

// An op key's mapping on its design point, and its energy prices.
struct MappedOp {
  OpSchedule schedule;
  double pj_per_mac = 0, pj_per_vector_op = 0;
  std::optional<OpCost> analytic;  // its analytic cost, once asked for
};

// A step as the SystemC cache keys it: op ids, each with its dependency bit.
struct StepOpsKey {
  int design = 0;
  std::vector<std::size_t> ops;  // op id * 2 + waits_for_earlier
  friend bool operator<(const StepOpsKey& a, const StepOpsKey& b) {
    if (a.design != b.design) return a.design < b.design;
    return a.ops < b.ops;
  }
};

}  // namespace

struct CostCache::Impl {
  std::map<std::string, int> designs;                       // fingerprint -> design id
  std::unordered_map<OpKey, std::size_t, OpKeyHash> index;  // looked up, never iterated
  std::vector<MappedOp> ops;                                // by op id
  std::map<StepOpsKey, std::vector<OpCost>> steps;          // SystemC costs of whole steps
};

CostCache::CostCache() : impl_(std::make_unique<Impl>()) {}
CostCache::~CostCache() = default;
std::size_t CostCache::size() const { return impl_->ops.size(); }
void CostCache::clear() { *impl_ = Impl(); }

CostCache& default_cost_cache() {
  static CostCache cache;
  return cache;
}

std::string_view timing_name(Timing t) { return t == Timing::Analytic ? "analytic" : "systemc"; }

Timing parse_timing(std::string_view name) {
  if (name == "systemc") return Timing::SystemC;
  if (name == "analytic") return Timing::Analytic;
  throw InputError(fmt::format("--timing = {}: must be one of systemc | analytic", name));
}

namespace {

// The design point and the energy table, as one string: the design point as
// its declared keys write it back (arch_to_yaml), so a new key joins the
// fingerprint where it is declared.
std::string fingerprint(const ArchConfig& arch, const EnergyTable& t) {
  std::string s = arch_to_yaml(arch);
  s += fmt::format("\n--table node {:.17g} v {:.17g} acc {} {}\n", t.node_nm, t.voltage_v,
                   t.int_accumulator_bits, t.float_accumulator.name());
  for (const auto& [k, v] : t.entries) s += fmt::format("{}={:.17g}\n", k, v);
  return s;
}

// A training step's precisions: one set for every layer, some layers overridden.
struct StepKey {
  std::int64_t batch = 0;
  PrecisionSet base;
  std::vector<std::pair<int, PrecisionSet>> overrides;  // by layer index, ascending
  friend bool operator<(const StepKey& a, const StepKey& b) {
    if (a.batch != b.batch) return a.batch < b.batch;
    if (a.base != b.base) return a.base < b.base;
    return a.overrides < b.overrides;
  }
};

// One step's totals, split every way the report needs.
struct StepSummary {
  Totals total;
  std::array<Totals, kNumPhases> phase;
  std::array<Totals, 2> engine;
  std::vector<Totals> layers;
  std::vector<std::array<Totals, kNumPhases>> layer_phases;
  std::map<std::string, double> macs_by_width;
};

// The roles an op reads and writes.
template <class F>
void for_roles(const Op& op, bool writes, F&& f) {
  if (op.kind == OpKind::Gemm) {
    if (writes) {
      f(op.out_role);
    } else {
      f(op.lhs_role);
      f(op.rhs_role);
    }
    return;
  }
  for (const auto& a : writes ? op.writes : op.reads) f(a.role);
}

// Which ops of a step wait, before their first load, until every earlier op
// has completed: those reading a tensor that an op possibly still in flight
// (since the last op that waited) writes. Activations and errors (A, E) flow
// from layer to layer, so any earlier A or E write counts; weights, weight
// gradients and optimizer state (W, G, Opt) belong to one layer, so only the
// same layer's writes do (docs/simulator.md, "Dependencies").
std::vector<bool> dependencies(const std::vector<Op>& ops) {
  std::vector<bool> waits(ops.size(), false);
  std::size_t since = 0;  // ops [since, i) may still be in flight when op i loads
  for (std::size_t i = 0; i < ops.size(); ++i) {
    bool dep = false;
    for (std::size_t j = since; j < i && !dep; ++j)
      for_roles(ops[i], false, [&](Role r) {
        for_roles(ops[j], true, [&](Role w) {
          if (r != w) return;
          const bool flows = r == Role::A || r == Role::E;
          if (flows || ops[i].layer == ops[j].layer) dep = true;
        });
      });
    if (dep) {
      waits[i] = true;
      since = i;
    }
  }
  return waits;
}

class Replayer {
 public:
  Replayer(const Graph& graph, const ArchConfig& arch, const EnergyTable& table,
           const SimOptions& options, bool forward_only)
      : graph_(graph),
        arch_(arch),
        table_(table),
        timing_(options.timing),
        forward_only_(forward_only),
        cache_((options.cache ? *options.cache : default_cost_cache()).impl()),
        pe_(make_pe(arch.pe, table)),
        em_(make_energy_model(arch, table, *pe_)),
        mp_(machine_params(arch, em_)) {
    const auto fp = fingerprint(arch, table);
    auto it = cache_.designs.find(fp);
    if (it == cache_.designs.end())
      it = cache_.designs.emplace(fp, static_cast<int>(cache_.designs.size())).first;
    design_ = it->second;
  }

  SimReport empty_report() const {
    SimReport r;
    r.arch_name = arch_.name;
    r.clock_ghz = arch_.clock_ghz;
    r.energy_table_source = table_.source;
    r.timing = timing_;
    r.components = em_.components;
    for (const auto& b : mp_.buffers) r.buffers.push_back(b.name);
    r.total = zero();
    for (auto& p : r.by_phase) p = zero();
    for (auto& e : r.by_engine) e = zero();
    for (int i = 0; i < graph_.size(); ++i) {
      LayerReport l{graph_.layer(i).name, std::string(layer_kind_name(graph_.layer(i).kind)),
                    zero(), {}};
      l.by_phase.fill(zero());
      r.layers.push_back(std::move(l));
    }
    return r;
  }

  Totals zero() const {
    Totals t;
    t.sram_read_bits.assign(mp_.buffers.size(), 0.0);
    t.sram_write_bits.assign(mp_.buffers.size(), 0.0);
    t.energy_pj_by_component.assign(em_.components.size(), 0.0);
    return t;
  }

  // The summary of a step (memoized per call: it depends on the graph).
  std::size_t step(const StepKey& key) {
    auto it = steps_.find(key);
    if (it != steps_.end()) return it->second;
    const std::size_t id = summaries_.size();
    summaries_.push_back(summarize(key));
    steps_.emplace(key, id);
    return id;
  }
  const StepSummary& summary(std::size_t id) const { return summaries_[id]; }
  const std::map<StepKey, std::size_t>& steps() const { return steps_; }

  CacheReport cache_report() const {
    CacheReport c = counters_;
    c.unique_ops = static_cast<std::int64_t>(used_.size());
    c.unique_steps = static_cast<std::int64_t>(steps_.size());
    return c;
  }

 private:
  const std::vector<Op>& ops(std::int64_t batch) {
    auto it = ops_.find(batch);
    if (it == ops_.end())
      it = ops_.emplace(batch, forward_only_ ? expand_forward(graph_, batch)
                                             : expand_training_step(graph_, batch))
               .first;
    return it->second;
  }

  StepSummary summarize(const StepKey& key) {
    StepSummary s;
    s.total = zero();
    for (auto& p : s.phase) p = zero();
    for (auto& e : s.engine) e = zero();
    s.layers.assign(static_cast<std::size_t>(graph_.size()), zero());
    std::array<Totals, kNumPhases> phases_zero;
    phases_zero.fill(zero());
    s.layer_phases.assign(static_cast<std::size_t>(graph_.size()), phases_zero);
    const std::vector<Op>& step_ops = ops(key.batch);
    std::vector<const PrecisionSet*> precision;
    std::vector<std::size_t> ids;
    precision.reserve(step_ops.size());
    ids.reserve(step_ops.size());
    for (const Op& op : step_ops) {
      const PrecisionSet* p = &key.base;
      for (const auto& [layer, ps] : key.overrides)
        if (layer == op.layer) p = &ps;
      precision.push_back(p);
    }
    const Stash stash = stash_of(step_ops, precision);
    for (std::size_t i = 0; i < step_ops.size(); ++i)
      ids.push_back(op_id(step_ops[i], *precision[i], i == 0 ? nullptr : &step_ops[i - 1], stash));
    const std::vector<OpCost>* costs = nullptr;
    std::vector<OpCost> analytic;
    if (timing_ == Timing::SystemC) {
      costs = &step_costs(step_ops, ids);
    } else {
      for (std::size_t id : ids) analytic.push_back(analytic_cost(id));
      costs = &analytic;
    }
    for (std::size_t i = 0; i < step_ops.size(); ++i) {
      const Op& op = step_ops[i];
      const Totals t = op_totals(op, *precision[i], (*costs)[i]);
      s.total.add(t, 1);
      s.phase[static_cast<std::size_t>(op.phase)].add(t, 1);
      s.engine[op.kind == OpKind::Gemm ? 0 : 1].add(t, 1);
      if (op.layer >= 0 && op.layer < graph_.size()) {
        const auto l = static_cast<std::size_t>(op.layer);
        s.layers[l].add(t, 1);
        s.layer_phases[l][static_cast<std::size_t>(op.phase)].add(t, 1);
      }
      if (op.kind == OpKind::Gemm && t.macs > 0) {
        const OpStats& st = (*costs)[i].stats;
        s.macs_by_width[st.run_a.name() + "x" + st.run_b.name()] += t.macs;
      }
    }
    return s;
  }

  // The forward tensors kept on chip for backward (docs/simulator.md,
  // "Stashed activations"): by layer, the forward output (its last write,
  // role A) and whether it stays in the activations' buffer until backward.
  struct Stash {
    std::vector<std::int64_t> elements;  // -1: the layer writes no A tensor forward
    std::vector<bool> kept;
  };

  // The newest forward outputs are kept, newest first (backward reads them
  // first), while they fit the half of the buffer that working tiles leave,
  // less room for the largest tensor residency may hold beside them.
  Stash stash_of(const std::vector<Op>& step_ops,
                 const std::vector<const PrecisionSet*>& precision) const {
    const auto layers = static_cast<std::size_t>(graph_.size());
    Stash s{std::vector<std::int64_t>(layers, -1), std::vector<bool>(layers, false)};
    std::vector<double> bits(layers, 0.0);
    double largest = 0;
    for (std::size_t i = 0; i < step_ops.size(); ++i) {
      const Op& op = step_ops[i];
      if (op.phase != Phase::Fwd || op.layer < 0) continue;
      const TensorAccess out = output_of(op);
      if (out.role != Role::A || out.elements < 0) continue;
      const auto l = static_cast<std::size_t>(op.layer);
      s.elements[l] = out.elements;
      bits[l] = double(out.elements) * (*precision[i])[Role::A].bits;
      largest = std::max(largest, bits[l]);
    }
    const int b = mp_.buffer_of(Role::A);
    if (forward_only_ || b < 0) return s;
    const double half = mp_.buffers[static_cast<std::size_t>(b)].capacity_bits / 2;
    double budget = half - std::min(largest, half);
    for (const int l : reverse_forward_order()) {
      const auto u = static_cast<std::size_t>(l);
      if (s.elements[u] < 0) continue;
      if (bits[u] > budget) break;
      budget -= bits[u];
      s.kept[u] = true;
    }
    return s;
  }

  std::vector<int> reverse_forward_order() const {
    std::vector<int> order = graph_.topological_order();
    std::reverse(order.begin(), order.end());
    return order;
  }

  // Does backward op `op` read a kept forward tensor of `elements`: an
  // input's output, or (`own`: element-wise ops, which read their forward
  // output too) its layer's own?
  bool stashed_on_chip(const Stash& s, const Op& op, std::int64_t elements, bool own) const {
    if (op.phase != Phase::BwdData && op.phase != Phase::BwdWeight) return false;
    if (op.layer < 0) return false;
    auto holds = [&](int l) {
      const auto u = static_cast<std::size_t>(l);
      return s.kept[u] && s.elements[u] == elements;
    };
    if (own && holds(op.layer)) return true;
    for (const int in : graph_.inputs(op.layer))
      if (holds(in)) return true;
    return false;
  }

  // The op key's id in the cache, mapping the op on a miss. `previous`: the
  // op before it in the step (nullptr for the first), for fusion; `stash`:
  // the forward tensors backward finds on chip.
  std::size_t op_id(const Op& op, const PrecisionSet& p, const Op* previous, const Stash& stash) {
    OpKey key;
    key.design = design_;
    key.kind = op.kind;
    if (op.kind == OpKind::Gemm) {
      key.gemm = gemm_work(op, p);
      if (previous) {
        const auto out = output_of(*previous);
        const int b = mp_.buffer_of(op.lhs_role);
        key.gemm.lhs_resident = out.role == op.lhs_role &&
                                double(out.elements) == lhs_tensor_elements(key.gemm) &&
                                fits_resident(b, double(out.elements) * p[op.lhs_role].bits);
      }
      if (op.lhs_role == Role::A &&
          stashed_on_chip(stash, op, std::int64_t(lhs_tensor_elements(key.gemm)), false))
        key.gemm.lhs_resident = true;
    } else {
      key.vector = vector_work(op, p);
      if (previous) reuse_read(*previous, op, p, key.vector);
      for (std::size_t r = 0; r < op.reads.size(); ++r)
        if (op.reads[r].role == Role::A && !key.vector.reads[r].fused &&
            stashed_on_chip(stash, op, op.reads[r].elements, true))
          key.vector.reads[r].resident = true;
    }
    std::size_t id = 0;
    if (auto it = cache_.index.find(key); it != cache_.index.end()) {
      id = it->second;
    } else {
      id = cache_.ops.size();
      cache_.ops.push_back(map(op, key));
      cache_.index.emplace(std::move(key), id);
    }
    used_.insert(id);
    return id;
  }

  const OpCost& analytic_cost(std::size_t id) {
    MappedOp& m = cache_.ops[id];
    if (m.analytic) {
      ++counters_.hits;
    } else {
      OpCost c;
      c.stats = analytic_stats(m.schedule, mp_);
      c.energy_pj = op_energy_pj(c.stats, em_, m.pj_per_mac, m.pj_per_vector_op);
      m.analytic = std::move(c);
      ++counters_.simulated;
    }
    return *m.analytic;
  }

  // The SystemC costs of a whole step, one job per unique step.
  const std::vector<OpCost>& step_costs(const std::vector<Op>& step_ops,
                                        const std::vector<std::size_t>& ids) {
    StepOpsKey key;
    key.design = design_;
    const std::vector<bool> waits = dependencies(step_ops);
    for (std::size_t i = 0; i < ids.size(); ++i) key.ops.push_back(ids[i] * 2 + (waits[i] ? 1 : 0));
    if (auto it = cache_.steps.find(key); it != cache_.steps.end()) {
      ++counters_.hits;
      return it->second;
    }
    std::vector<StepOp> job;
    job.reserve(ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i)
      job.push_back({&cache_.ops[ids[i]].schedule, waits[i]});
    std::vector<OpStats> stats = Accelerator::instance().run(job, mp_);
    std::vector<OpCost> costs;
    costs.reserve(ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i) {
      const MappedOp& m = cache_.ops[ids[i]];
      OpCost c;
      c.energy_pj = op_energy_pj(stats[i], em_, m.pj_per_mac, m.pj_per_vector_op);
      c.stats = std::move(stats[i]);
      costs.push_back(std::move(c));
    }
    ++counters_.simulated;
    return cache_.steps.emplace(std::move(key), std::move(costs)).first->second;
  }

  // The tensor an op writes last: a GEMM's result (for backward-data, the
  // input gradient its transposed convolution sums), else its last write.
  static TensorAccess output_of(const Op& producer) {
    if (producer.kind != OpKind::Gemm)
      return producer.writes.empty() ? TensorAccess{Role::A, -1} : producer.writes.back();
    // Element counts do not depend on the formats.
    const GemmWork w = gemm_work(producer, PrecisionSet{});
    return {producer.out_role, std::int64_t(out_tensor_elements(w))};
  }

  // Residency (docs/simulator.md): a tensor of `bits` stays in buffer `b`
  // for the next op when it fills at most half of it (the other half is the
  // next op's working tiles).
  bool fits_resident(int b, double bits) const {
    return b >= 0 && bits <= mp_.buffers[static_cast<std::size_t>(b)].capacity_bits / 2;
  }

  // The first read of `op` that takes the tensor `producer` wrote (same
  // role, same element count): with fusion it streams from the producer's
  // output path; otherwise it is read from the buffer when it fits there.
  void reuse_read(const Op& producer, const Op& op, const PrecisionSet& p,
                  VectorWork& work) const {
    const TensorAccess out = output_of(producer);
    for (std::size_t i = 0; i < op.reads.size(); ++i)
      if (op.reads[i].role == out.role && op.reads[i].elements == out.elements) {
        if (arch_.fusion)
          work.reads[i].fused = true;
        else if (fits_resident(mp_.buffer_of(out.role), double(out.elements) * p[out.role].bits))
          work.reads[i].resident = true;
        return;
      }
  }

  Totals op_totals(const Op& op, const PrecisionSet& p, const OpCost& c) const {
    Totals t;
    const OpStats& st = c.stats;
    t.cycles = double(st.cycles);
    t.compute_bound_cycles = double(st.compute_bound_cycles);
    t.memory_bound_cycles = double(st.memory_bound_cycles);
    t.macs = st.macs;
    if (op.kind == OpKind::Gemm) {
      t.bitops = st.macs * double(p[op.lhs_role].bits) * double(p[op.rhs_role].bits);
      t.gemm_cycles = double(st.cycles);
      t.mac_capacity =
          st.peak_macs_per_cycle * double(std::max(st.cycles, st.mac_array_busy_cycles));
    }
    t.vector_ops = st.vector_ops;
    t.dram_read_bits = st.dram_read_bits;
    t.dram_write_bits = st.dram_write_bits;
    t.sram_read_bits = st.sram_read_bits;
    t.sram_write_bits = st.sram_write_bits;
    t.mac_array_busy_cycles = double(st.mac_array_busy_cycles);
    t.vector_busy_cycles = double(st.vector_busy_cycles);
    t.dram_busy_cycles = double(st.dram_busy_cycles);
    t.stall_dram_cycles = double(st.stall_dram_cycles);
    t.stall_sram_cycles = double(st.stall_sram_cycles);
    t.stall_accumulator_cycles = double(st.stall_accumulator_cycles);
    t.stall_vector_cycles = double(st.stall_vector_cycles);
    t.stall_mac_array_cycles = double(st.stall_mac_array_cycles);
    t.energy_pj_by_component = c.energy_pj;
    return t;
  }

  std::string where(const Op& op) const {
    const std::string layer =
        op.layer >= 0 && op.layer < graph_.size() ? graph_.layer(op.layer).name : "?";
    return fmt::format("design point '{}' ({}): layer '{}' {} {}", arch_.name, arch_.source, layer,
                       phase_name(op.phase), op.label);
  }

  MappedOp map(const Op& op, const OpKey& key) {
    MappedOp m;
    try {
      if (op.kind == OpKind::Gemm) {
        PeThroughput pe;
        try {
          pe = pe_->at(key.gemm.lhs, key.gemm.rhs);
        } catch (const InputError& e) {
          throw InputError(fmt::format("{}: {}", where(op), e.what()));
        }
        if (!(pe.macs_per_cycle > 0))
          throw InternalError(
              fmt::format("{}: the PE answered {} MACs per cycle", where(op), pe.macs_per_cycle));
        const int acc = arch_.pe.psum_bits > 0 ? arch_.pe.psum_bits
                                               : table_.accumulator_format(pe.run_a, pe.run_b).bits;
        m.schedule = map_gemm(key.gemm, mp_, pe, acc);
        m.pj_per_mac = pe.energy_pj_per_mac;
      } else {
        m.schedule = map_vector(key.vector, mp_);
        const auto& v = key.vector;
        const Format f = !v.writes.empty()  ? v.writes.front().format
                         : !v.reads.empty() ? v.reads.front().format
                                            : Format::fp32();
        m.pj_per_vector_op = vector_op_pj(table_, f);
      }
      // Beyond 2^53 cycles the time arithmetic is no longer exact.
      for (const TileRun& r : m.schedule.runs) {
        mp_.dram_transfer_cycles(r.dram_read_bits);
        mp_.dram_transfer_cycles(r.dram_write_bits);
      }
    } catch (const InputError& e) {
      if (std::string_view(e.what()).rfind("design point", 0) == 0) throw;
      throw InputError(fmt::format("{}: {}", where(op), e.what()));
    }
    if (const int b = m.schedule.overflow_buffer; b >= 0) {
      const auto& buf = mp_.buffers[static_cast<std::size_t>(b)];
      // The smallest tiling is k-inner, so only psum outputs load partial
      // sums ahead and take a second output tile.
      const bool second =
          mp_.output_tiles(mp_.outputs == OutputTraffic::Psum) > mp_.output_slots();
      const std::string outputs =
          mp_.output_slots() == mp_.buffering
              ? std::string()
              : fmt::format(" (output_buffering {}{})", mp_.output_slots(),
                            second ? ", and a second output tile for the partial sums it loads"
                                   : "");
      throw InputError(fmt::format(
          "{}: buffer '{}' (capacity {:.0f} bytes) cannot hold one tile with buffering {}{}: "
          "needs {:.0f} bytes; enlarge it or lower buffering",
          where(op), buf.name, buf.capacity_bits / 8, mp_.buffering, outputs,
          m.schedule.overflow_bits / 8));
    }
    return m;
  }

  const Graph& graph_;
  const ArchConfig& arch_;
  const EnergyTable& table_;
  Timing timing_;
  bool forward_only_;
  CostCache::Impl& cache_;
  std::unique_ptr<PeModel> pe_;
  EnergyModel em_;
  MachineParams mp_;  // after em_: priced from it
  int design_ = 0;
  std::map<std::int64_t, std::vector<Op>> ops_;
  std::map<StepKey, std::size_t> steps_;
  std::vector<StepSummary> summaries_;
  std::set<std::size_t> used_;
  CacheReport counters_;
};

// Adds `times` copies of a step to the report's run-wide totals.
void add_step(SimReport& r, const StepSummary& s, double times) {
  r.total.add(s.total, times);
  for (int p = 0; p < kNumPhases; ++p)
    r.by_phase[std::size_t(p)].add(s.phase[std::size_t(p)], times);
  for (std::size_t e = 0; e < 2; ++e) r.by_engine[e].add(s.engine[e], times);
  for (std::size_t l = 0; l < s.layers.size(); ++l) {
    r.layers[l].totals.add(s.layers[l], times);
    for (std::size_t p = 0; p < s.layer_phases[l].size(); ++p)
      r.layers[l].by_phase[p].add(s.layer_phases[l][p], times);
  }
  for (const auto& [w, macs] : s.macs_by_width) r.macs_by_width[w] += macs * times;
}

}  // namespace

SimReport simulate_trace(const Trace& trace, const Graph& graph, const ArchConfig& arch,
                         const EnergyTable& table, const SimOptions& options) {
  const TraceIntervals intervals(trace, graph, "trace");
  Replayer rp(graph, arch, table, options, false);
  SimReport r = rp.empty_report();
  for (std::int64_t e = 0; e < trace.header.epochs; ++e) r.epochs.push_back({e, 0, 0, rp.zero()});

  std::map<std::size_t, std::int64_t> iterations_of_step;
  intervals.for_each([&](const TraceInterval& iv) {
    StepKey key;
    key.batch = iv.batch;
    key.base = *iv.precision;
    key.overrides = iv.overrides;
    const std::size_t id = rp.step(key);
    iterations_of_step[id] += iv.iterations();
    EpochReport& ep = r.epochs[std::size_t(iv.epoch)];
    ep.iterations += iv.iterations();
    ep.images += iv.images;
    ep.totals.add(rp.summary(id).total, double(iv.iterations()));
    r.iterations += iv.iterations();
    r.images += iv.images;
  });
  for (const auto& [id, iters] : iterations_of_step) add_step(r, rp.summary(id), double(iters));
  r.cache = rp.cache_report();
  return r;
}

std::vector<std::pair<int, PrecisionSet>> layer_precision_of(const Graph& graph,
                                                             const PrecisionSet& base) {
  std::vector<std::pair<int, PrecisionSet>> out;
  for (int i = 0; i < graph.size(); ++i) {
    const Layer& l = graph.layer(i);
    if (l.w_bits == 0 && l.a_bits == 0) continue;
    PrecisionSet p = base;
    if (l.w_bits > 0) p[Role::W] = Format::integer(l.w_bits);
    if (l.a_bits > 0) p[Role::A] = Format::integer(l.a_bits);
    out.emplace_back(i, p);
  }
  return out;
}

SimReport simulate_step(const Graph& graph, const ArchConfig& arch, const EnergyTable& table,
                        const PrecisionSet& precision, std::int64_t batch, bool forward_only,
                        const SimOptions& options,
                        const std::vector<std::pair<int, PrecisionSet>>& layer_precision) {
  if (batch < 1) throw InputError(fmt::format("batch = {}: must be >= 1", batch));
  Replayer rp(graph, arch, table, options, forward_only);
  SimReport r = rp.empty_report();
  StepKey key;
  key.batch = batch;
  key.base = precision;
  key.overrides = layer_precision;
  std::sort(key.overrides.begin(), key.overrides.end(),
            [](const auto& x, const auto& y) { return x.first < y.first; });
  add_step(r, rp.summary(rp.step(key)), 1);
  r.iterations = 1;
  r.images = batch;
  r.cache = rp.cache_report();
  return r;
}

// ---- Derived metrics ----

double latency_s(const SimReport& r, const Totals& t) { return t.cycles / (r.clock_ghz * 1e9); }

double energy_static_pj(const SimReport& r, const Totals& t) {
  double pj = 0;
  for (std::size_t c = 0; c < r.components.size() && c < t.energy_pj_by_component.size(); ++c)
    if (is_static_component(r.components[c])) pj += t.energy_pj_by_component[c];
  return pj;
}

std::map<std::string, double> energy_j_by_component(const SimReport& r, const Totals& t) {
  std::map<std::string, double> out;
  for (std::size_t c = 0; c < r.components.size(); ++c)
    out[r.components[c]] =
        (c < t.energy_pj_by_component.size() ? t.energy_pj_by_component[c] : 0.0) * 1e-12;
  return out;
}

double SimReport::energy_static_j() const { return energy_static_pj(*this, total) * 1e-12; }

double SimReport::energy_dynamic_j() const {
  return (total.energy_pj() - energy_static_pj(*this, total)) * 1e-12;
}

// ---- JSON ----

namespace {

nlohmann::json totals_json(const SimReport& r, const Totals& t) {
  nlohmann::json j;
  j["cycles"] = t.cycles;
  j["latency_s"] = latency_s(r, t);
  j["energy_j"] = t.energy_pj() * 1e-12;
  // Static (leakage x time) and dynamic (events x energy per event) apart.
  const double static_pj = energy_static_pj(r, t);
  j["energy_static_j"] = static_pj * 1e-12;
  j["energy_dynamic_j"] = (t.energy_pj() - static_pj) * 1e-12;
  j["gbitops"] = t.bitops * 1e-9;
  j["macs"] = t.macs;
  j["vector_ops"] = t.vector_ops;
  j["utilization"] = t.utilization();
  j["compute_bound_cycles"] = t.compute_bound_cycles;
  j["memory_bound_cycles"] = t.memory_bound_cycles;
  j["dram_read_bits"] = t.dram_read_bits;
  j["dram_write_bits"] = t.dram_write_bits;
  j["busy_cycles"] = {{"mac_array", t.mac_array_busy_cycles},
                      {"vector_unit", t.vector_busy_cycles},
                      {"dram", t.dram_busy_cycles}};
  j["stall_cycles"] = {{"dram", t.stall_dram_cycles},
                       {"sram", t.stall_sram_cycles},
                       {"accumulator", t.stall_accumulator_cycles},
                       {"vector_unit", t.stall_vector_cycles},
                       {"mac_array", t.stall_mac_array_cycles}};
  double sr = 0, sw = 0;
  nlohmann::json per = nlohmann::json::object();
  for (std::size_t b = 0; b < r.buffers.size(); ++b) {
    const double rb = b < t.sram_read_bits.size() ? t.sram_read_bits[b] : 0;
    const double wb = b < t.sram_write_bits.size() ? t.sram_write_bits[b] : 0;
    per[r.buffers[b]] = {{"read_bits", rb}, {"write_bits", wb}};
    sr += rb;
    sw += wb;
  }
  j["sram_read_bits"] = sr;
  j["sram_write_bits"] = sw;
  j["sram"] = per;
  return j;
}

}  // namespace

nlohmann::json to_json(const SimReport& r) {
  nlohmann::json j = totals_json(r, r.total);
  j["arch"] = r.arch_name;
  j["clock_ghz"] = r.clock_ghz;
  j["energy_table"] = r.energy_table_source;
  j["timing"] = std::string(timing_name(r.timing));
  j["iterations"] = r.iterations;
  j["images"] = r.images;
  j["total_gbitops"] = r.total.bitops * 1e-9;
  const double cyc = r.total.cycles;
  j["bound"] = {{"compute_share", cyc > 0 ? r.total.compute_bound_cycles / cyc : 0.0},
                {"memory_share", cyc > 0 ? r.total.memory_bound_cycles / cyc : 0.0}};
  nlohmann::json comp = nlohmann::json::object();
  for (const auto& [name, joules] : energy_j_by_component(r, r.total)) comp[name] = joules;
  nlohmann::json phase = nlohmann::json::object();
  for (int p = 0; p < kNumPhases; ++p)
    phase[std::string(phase_name(static_cast<Phase>(p)))] =
        totals_json(r, r.by_phase[std::size_t(p)]);
  j["breakdown"] = {{"component", comp},
                    {"phase", phase},
                    {"engine",
                     {{"mac_array", totals_json(r, r.by_engine[0])},
                      {"vector", totals_json(r, r.by_engine[1])}}}};
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& l : r.layers) {
    nlohmann::json lj = totals_json(r, l.totals);
    lj["name"] = l.name;
    lj["kind"] = l.kind;
    // Per phase: the layer's ops of that phase, on the simulated timeline.
    nlohmann::json phases = nlohmann::json::object();
    for (int p = 0; p < kNumPhases; ++p) {
      const Totals& t = l.by_phase[std::size_t(p)];
      if (t.cycles == 0 && t.macs == 0 && t.vector_ops == 0) continue;
      const nlohmann::json full = totals_json(r, t);
      nlohmann::json pj;
      for (const char* key : {"cycles", "latency_s", "energy_j", "macs", "vector_ops",
                              "dram_read_bits", "dram_write_bits", "busy_cycles", "stall_cycles"})
        pj[key] = full[key];
      phases[std::string(phase_name(static_cast<Phase>(p)))] = std::move(pj);
    }
    lj["phases"] = std::move(phases);
    layers.push_back(std::move(lj));
  }
  j["layers"] = std::move(layers);
  nlohmann::json epochs = nlohmann::json::array();
  for (const auto& e : r.epochs)
    epochs.push_back({{"epoch", e.epoch},
                      {"iterations", e.iterations},
                      {"images", e.images},
                      {"cycles", e.totals.cycles},
                      {"latency_s", latency_s(r, e.totals)},
                      {"energy_j", e.totals.energy_pj() * 1e-12},
                      {"gbitops", e.totals.bitops * 1e-9}});
  j["epochs"] = std::move(epochs);
  j["macs_by_width"] = r.macs_by_width;
  j["cache"] = {{"unique_ops", r.cache.unique_ops},
                {"simulated", r.cache.simulated},
                {"hits", r.cache.hits},
                {"unique_steps", r.cache.unique_steps}};
  return j;
}

}  // namespace lpsim
