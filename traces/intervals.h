// The one walk over a trace's intervals (docs/trace-format.md), shared by
// BitOPs counting and replay: iterations cut wherever the work of an
// iteration can change, so every iteration of an interval processes the same
// images with the same precision in every layer.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/precision.h"
#include "models/graph.h"
#include "traces/trace.h"

namespace lpsim {

// Iterations [begin, end) of one epoch, at one all-layer precision with the
// per-layer overrides active over all of them.
struct TraceInterval {
  std::int64_t begin = 0, end = 0;
  std::int64_t epoch = 0;   // begin / ipe
  std::int64_t batch = 0;   // images of each of its iterations (images_at(begin))
  std::int64_t images = 0;  // over the interval: batch x (end - begin) = images_in(begin, end)
  const PrecisionSet* precision = nullptr;              // the all-layer segment's
  std::vector<std::pair<int, PrecisionSet>> overrides;  // by layer index, ascending
  std::int64_t iterations() const { return end - begin; }
};

class TraceIntervals {
 public:
  // Checks the trace (validate_trace, naming `where`) and resolves per-layer
  // segments on `graph`: InputError "<file>: segment [b, e) names layer 'x':
  // the model 'm' has no such layer" (file "trace" for a trace built in memory).
  TraceIntervals(const Trace& trace, const Graph& graph, const std::string& where);

  // Where intervals begin and end, ascending: 0, total_iterations, every
  // segment's begin and end, every epoch's first iteration and its last (the
  // short batch).
  const std::vector<std::int64_t>& cuts() const { return cuts_; }

  // Visits every interval in order.
  void for_each(const std::function<void(const TraceInterval&)>& visit) const;

 private:
  struct Override {
    std::int64_t begin, end;
    int layer;
    const PrecisionSet* precision;
  };
  const TraceHeader& header_;
  std::vector<const Segment*> base_;  // all-layer segments, by begin
  std::vector<Override> overrides_;   // per-layer segments, by begin
  std::vector<std::int64_t> cuts_;
};

}  // namespace lpsim
