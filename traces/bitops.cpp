// Training BitOPs of a trace (docs/bitops.md). MAC counts of one training step
// are linear in the batch (every GEMM's M or K, or its repeat, carries it), so
// the per-image cost of each layer is computed once at batch 1 and multiplied
// by the images of each interval of the trace (traces/intervals.h). Sums are
// exact integers (128-bit) until the final conversion to double.
#include "traces/bitops.h"

#include <fmt/format.h>

#include <map>

#include "core/error.h"
#include "models/graph_io.h"
#include "models/zoo.h"
#include "traces/intervals.h"

namespace lpsim {

CountConvention parse_count_convention(const std::string& text) {
  if (text == "gemm") return CountConvention::Gemm;
  if (text == "cpt") return CountConvention::Cpt;
  throw InputError(fmt::format("count convention '{}': must be gemm or cpt", text));
}

std::string to_string(CountConvention c) { return c == CountConvention::Gemm ? "gemm" : "cpt"; }

namespace {

__extension__ typedef __int128 Int;
using Costs = std::array<Int, kNumPhases>;

// MACs per image of one layer in one phase between two operand roles.
struct LayerTerm {
  Phase phase;
  Role lhs, rhs;
  std::int64_t macs;
};

struct CostModel {
  std::vector<std::vector<LayerTerm>> terms;  // by layer index
  std::array<std::int64_t, kNumPhases> macs_per_image{};

  Costs layer_cost(int layer, const PrecisionSet& p) const {
    Costs c{};
    for (const LayerTerm& t : terms[static_cast<std::size_t>(layer)])
      c[static_cast<int>(t.phase)] += Int(t.macs) * p[t.lhs].bits * p[t.rhs].bits;
    return c;
  }
  Costs cost(const PrecisionSet& p) const {
    Costs c{};
    for (std::size_t l = 0; l < terms.size(); ++l) {
      Costs lc = layer_cost(static_cast<int>(l), p);
      for (int ph = 0; ph < kNumPhases; ++ph) c[ph] += lc[ph];
    }
    return c;
  }
};

void add_term(std::vector<LayerTerm>& terms, Phase phase, Role lhs, Role rhs, std::int64_t macs) {
  for (LayerTerm& t : terms) {
    if (t.phase == phase && t.lhs == lhs && t.rhs == rhs) {
      t.macs += macs;
      return;
    }
  }
  terms.push_back({phase, lhs, rhs, macs});
}

std::array<std::int64_t, kNumPhases> gemm_macs_by_phase(const std::vector<Op>& ops) {
  std::array<std::int64_t, kNumPhases> m{};
  for (const Op& op : ops) m[static_cast<int>(op.phase)] += op.macs();
  return m;
}

CostModel gemm_model(const Graph& graph) {
  CostModel model;
  model.terms.resize(static_cast<std::size_t>(graph.size()));
  const std::vector<Op> ops = expand_training_step(graph, 1);
  for (const Op& op : ops) {
    if (op.kind != OpKind::Gemm || op.macs() == 0) continue;
    if (op.layer < 0 || op.layer >= graph.size())
      throw InternalError(fmt::format("op '{}' names layer {} of a {}-layer graph", op.label,
                                      op.layer, graph.size()));
    add_term(model.terms[static_cast<std::size_t>(op.layer)], op.phase, op.lhs_role, op.rhs_role,
             op.macs());
  }
  model.macs_per_image = gemm_macs_by_phase(ops);
  // The batch-1 shortcut holds only if MACs scale linearly with the batch.
  const auto twice = gemm_macs_by_phase(expand_training_step(graph, 2));
  for (int ph = 0; ph < kNumPhases; ++ph)
    if (twice[ph] != 2 * model.macs_per_image[ph])
      throw InternalError(fmt::format(
          "{}: {} MACs in phase {} at batch 2 is not twice the {} at "
          "batch 1",
          graph.name(), twice[ph], phase_name(static_cast<Phase>(ph)), model.macs_per_image[ph]));
  return model;
}

// CPT's convention (docs/bitops.md, each rule with its source): per image and
// layer, its forward GEMM MACs (every conv, depthwise ones at Cin/groups, the
// 1x1 shortcuts, the first layer and the classifier) plus 2 ops per
// batch-norm output element (the group's profiler, FracTrain's
// compute_flops.py bn_hook), charged once per pass at that pass's widths
// (CPT's train.py: fw_cost, eb_cost, gc_cost). Activations, pooling and adds
// cost nothing.
CostModel cpt_model(const Graph& graph) {
  CostModel model;
  model.terms.resize(static_cast<std::size_t>(graph.size()));
  std::vector<std::int64_t> per_layer(static_cast<std::size_t>(graph.size()), 0);
  for (const Op& op : expand_forward(graph, 1))
    if (op.kind == OpKind::Gemm && op.layer >= 0 && op.layer < graph.size())
      per_layer[static_cast<std::size_t>(op.layer)] += op.macs();
  for (int l = 0; l < graph.size(); ++l)
    if (graph.layer(l).kind == LayerKind::BatchNorm)
      per_layer[static_cast<std::size_t>(l)] += 2 * graph.layer(l).out_shape.elements();
  std::int64_t total = 0;
  for (int l = 0; l < graph.size(); ++l) {
    const std::int64_t c = per_layer[static_cast<std::size_t>(l)];
    if (c == 0) continue;
    auto& t = model.terms[static_cast<std::size_t>(l)];
    t.push_back({Phase::Fwd, Role::W, Role::A, c});
    t.push_back({Phase::BwdData, Role::E, Role::W, c});
    t.push_back({Phase::BwdWeight, Role::E, Role::A, c});
    total += c;
  }
  model.macs_per_image = {total, total, total, 0};
  return model;
}

double to_double(Int v) { return static_cast<double>(static_cast<long double>(v)); }

}  // namespace

BitopsReport count_bitops(const Trace& trace, const Graph& graph, CountConvention convention) {
  const TraceIntervals intervals(trace, graph, "bitops");
  const TraceHeader& h = trace.header;
  const CostModel model =
      convention == CountConvention::Gemm ? gemm_model(graph) : cpt_model(graph);

  const auto epochs = static_cast<std::size_t>(h.epochs);
  std::array<Int, kNumPhases> bitops{}, macs{};
  std::vector<Int> bitops_epoch(epochs, 0), macs_epoch(epochs, 0);
  BitopsReport r;
  std::map<PrecisionSet, Costs> cache;
  intervals.for_each([&](const TraceInterval& iv) {
    const PrecisionSet& p = *iv.precision;
    auto it = cache.find(p);
    if (it == cache.end()) it = cache.emplace(p, model.cost(p)).first;
    Costs cost = it->second;
    for (const auto& [layer, over_p] : iv.overrides) {
      const Costs base = model.layer_cost(layer, p), over = model.layer_cost(layer, over_p);
      for (int ph = 0; ph < kNumPhases; ++ph) cost[ph] += over[ph] - base[ph];
    }
    const Int images = iv.images;
    const auto epoch = static_cast<std::size_t>(iv.epoch);
    for (int ph = 0; ph < kNumPhases; ++ph) {
      const Int bits = cost[ph] * images, m = Int(model.macs_per_image[ph]) * images;
      bitops[ph] += bits;
      macs[ph] += m;
      bitops_epoch[epoch] += bits;
      macs_epoch[epoch] += m;
    }
    r.iterations_by_precision[p.label()] += iv.iterations();
  });

  Int total_bitops = 0, total_macs = 0;
  for (int ph = 0; ph < kNumPhases; ++ph) {
    r.bitops_by_phase[ph] = to_double(bitops[ph]);
    r.macs_by_phase[ph] = to_double(macs[ph]);
    total_bitops += bitops[ph];
    total_macs += macs[ph];
  }
  r.total_bitops = to_double(total_bitops);
  r.total_macs = to_double(total_macs);
  for (std::size_t e = 0; e < epochs; ++e) {
    r.bitops_by_epoch.push_back(to_double(bitops_epoch[e]));
    r.macs_by_epoch.push_back(to_double(macs_epoch[e]));
  }
  r.total_iterations = h.total_iterations;
  r.total_images = h.images_in(0, h.total_iterations);
  return r;
}

Graph trace_graph(const Trace& trace) {
  if (!trace.header.model.empty()) {
    try {
      return make_model(trace.header.model, trace.header.dataset);
    } catch (const InputError& e) {
      if (trace.source.empty()) throw;
      throw InputError(fmt::format("{}:1: {}", trace.source, e.what()));
    }
  }
  // The header is line 1 (read_trace): errors read like the reader's own,
  // "<file>:1: field \"graph\": ...". (A graph without `name` is named after
  // this text's stem, graph_io's rule for files: "run" for run.lpt.)
  if (trace.source.empty()) return graph_from_json(trace.header.graph_json, "trace header graph");
  return graph_from_json(trace.header.graph_json,
                         fmt::format("{}:1: field \"graph\"", trace.source));
}

}  // namespace lpsim
