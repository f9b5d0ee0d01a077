// The walk over a trace's intervals: segments x epochs x the short last batch.
#include "traces/intervals.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/error.h"

namespace lpsim {

TraceIntervals::TraceIntervals(const Trace& trace, const Graph& graph, const std::string& where)
    : header_(trace.header) {
  validate_trace(trace, where);
  for (const Segment& s : trace.segments) {
    if (s.layer.empty()) {
      base_.push_back(&s);
      continue;
    }
    const int layer = graph.find(s.layer);
    if (layer < 0)
      throw InputError(fmt::format(
          "{}: segment [{}, {}) names layer '{}': the model '{}' has no such layer",
          trace.source.empty() ? "trace" : trace.source, s.begin, s.end, s.layer, graph.name()));
    overrides_.push_back({s.begin, s.end, layer, &s.precision});
  }
  std::stable_sort(base_.begin(), base_.end(),
                   [](const Segment* a, const Segment* b) { return a->begin < b->begin; });
  std::stable_sort(overrides_.begin(), overrides_.end(),
                   [](const Override& a, const Override& b) { return a.begin < b.begin; });

  const std::int64_t total = header_.total_iterations;
  const std::int64_t ipe = header_.iterations_per_epoch();
  cuts_ = {0, total};
  for (const Segment& s : trace.segments) {
    cuts_.push_back(s.begin);
    cuts_.push_back(s.end);
  }
  for (std::int64_t e = 0; e <= header_.epochs; ++e) {
    cuts_.push_back(e * ipe);
    cuts_.push_back(e * ipe + ipe - 1);
  }
  std::sort(cuts_.begin(), cuts_.end());
  cuts_.erase(std::unique(cuts_.begin(), cuts_.end()), cuts_.end());
  cuts_.erase(std::remove_if(cuts_.begin(), cuts_.end(),
                             [&](std::int64_t c) { return c < 0 || c > total; }),
              cuts_.end());
}

void TraceIntervals::for_each(const std::function<void(const TraceInterval&)>& visit) const {
  const std::int64_t ipe = header_.iterations_per_epoch();
  std::size_t next_base = 0, next_override = 0;
  const Segment* current = nullptr;
  std::vector<Override> active;
  TraceInterval iv;
  for (std::size_t i = 0; i + 1 < cuts_.size(); ++i) {
    iv.begin = cuts_[i];
    iv.end = cuts_[i + 1];
    while (next_base < base_.size() && base_[next_base]->begin <= iv.begin)
      current = base_[next_base++];
    if (!current || current->end <= iv.begin)  // validate_trace rules this out
      throw InternalError(fmt::format("trace: no all-layer segment covers iteration {}", iv.begin));
    while (next_override < overrides_.size() && overrides_[next_override].begin <= iv.begin)
      active.push_back(overrides_[next_override++]);
    active.erase(std::remove_if(active.begin(), active.end(),
                                [&](const Override& o) { return o.end <= iv.begin; }),
                 active.end());
    iv.epoch = iv.begin / ipe;
    iv.batch = header_.images_at(iv.begin);
    iv.images = header_.images_in(iv.begin, iv.end);
    iv.precision = &current->precision;
    iv.overrides.clear();
    for (const Override& o : active) {  // later segments win for the same layer
      auto it = std::find_if(iv.overrides.begin(), iv.overrides.end(),
                             [&](const auto& x) { return x.first == o.layer; });
      if (it != iv.overrides.end())
        it->second = *o.precision;
      else
        iv.overrides.emplace_back(o.layer, *o.precision);
    }
    std::sort(iv.overrides.begin(), iv.overrides.end(),
              [](const auto& x, const auto& y) { return x.first < y.first; });
    visit(iv);
  }
}

}  // namespace lpsim
