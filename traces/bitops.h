// Training BitOPs and MACs of a trace (REFERENCES.md, CPT): a MAC costs the
// product of its two operands' widths.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "models/graph.h"
#include "models/training_step.h"
#include "traces/trace.h"

namespace lpsim {

// How MACs are counted (docs/bitops.md):
//  Gemm: every GEMM op of the expanded training step (models/training_step.h),
//        each at its operands' widths; first layer's backward-data omitted.
//        What the simulator charges.
//  Cpt:  how CPT's figures count (Fu et al. 2021; its code and its group's
//        profiler): per image, forward conv (depthwise included) and linear
//        MACs plus 2 ops per batch-norm output element, charged once per pass
//        (fwd W x A, bwd-data E x W, bwd-weight E x A), every layer at the
//        scheduled precision.
enum class CountConvention { Gemm, Cpt };
CountConvention parse_count_convention(const std::string& text);  // "gemm" | "cpt"
std::string to_string(CountConvention);

struct BitopsReport {
  double total_bitops = 0;   // exact while below 2^53 per term sum; see docs/bitops.md
  double total_macs = 0;
  std::array<double, kNumPhases> bitops_by_phase{};
  std::array<double, kNumPhases> macs_by_phase{};
  std::vector<double> bitops_by_epoch;
  std::vector<double> macs_by_epoch;
  // Share of iterations spent at each precision label ("3/8", "8/8", ...).
  std::map<std::string, std::int64_t> iterations_by_precision;
  std::int64_t total_iterations = 0;
  std::int64_t total_images = 0;
};

BitopsReport count_bitops(const Trace& trace, const Graph& graph, CountConvention convention);

// The graph a trace was recorded on (zoo model or embedded graph). A bad
// embedded graph is an InputError naming trace.source, line 1, field "graph".
Graph trace_graph(const Trace& trace);

}  // namespace lpsim
