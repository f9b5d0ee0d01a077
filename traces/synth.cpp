// The synthesizer: evaluates a schedule at every iteration of a run and
// run-length encodes it into trace segments; no data, no training.
#include "traces/synth.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "models/graph_io.h"
#include "models/model_source.h"
#include "models/zoo.h"
#include "traces/schedule.h"

namespace lpsim {

namespace {
constexpr const char* kProducer = "lpsim-synth 0.1.0";
// 10^9 iterations: ImageNet at batch 1 for 90 epochs is 1.2 x 10^8.
constexpr std::int64_t kMaxIterations = 1'000'000'000;
// 10^7 segments: ~1 GB in memory and ~0.7 GB of trace file.
constexpr std::size_t kMaxSegments = 10'000'000;
}

Trace synthesize(const SynthOptions& options) {
  if (options.epochs < 1 && options.iterations <= 0)
    throw InputError(fmt::format("synth: epochs = {}: must be >= 1", options.epochs));
  if (options.batch < 1)
    throw InputError(fmt::format("synth: batch = {}: must be >= 1", options.batch));
  if (options.iterations < 0)
    throw InputError(
        fmt::format("synth: iterations = {}: must be >= 1 (or 0 for epochs x "
                    "iterations per epoch)",
                    options.iterations));
  auto schedule = parse_schedule(options.schedule);
  if (schedule->needs_training_state())
    throw InputError(
        fmt::format("schedule '{}' switches on training state: only the trainer "
                    "can produce its trace, not the synthesizer",
                    options.schedule));

  // A zoo name or a graph file; an unknown model or dataset is refused naming
  // the known ones. A graph file's graph goes into the trace itself, so the
  // trace replays without the file.
  ModelSource source = load_model(options.model, options.dataset);
  const Graph& graph = source.graph;
  const std::string& dataset = source.dataset;
  const DatasetInfo& info = dataset_info(dataset);

  Trace trace;
  TraceHeader& h = trace.header;
  h.producer = kProducer;
  if (source.from_file)
    h.graph_json = nlohmann::json::parse(graph_to_json(graph)).dump();  // one line, as read back
  else
    h.model = options.model;
  h.dataset = dataset;
  h.samples_per_epoch = info.train_samples;
  h.batch = options.batch;
  const std::int64_t ipe = h.iterations_per_epoch();
  if (ipe < 1)
    throw InputError(fmt::format("synth: dataset '{}' has no training samples", dataset));
  // The loop below visits every iteration and may keep a segment for each:
  // refuse runs that would take hours or more memory than a machine has.
  const std::int64_t wanted = options.iterations > 0 ? options.iterations
                              : options.epochs > kMaxIterations / ipe ? kMaxIterations + 1
                                                                      : options.epochs * ipe;
  if (wanted > kMaxIterations)
    throw InputError(fmt::format(
        "synth: {} = {}: at most {} iterations in all (epochs x {} iterations per epoch)",
        options.iterations > 0 ? "iterations" : "epochs",
        options.iterations > 0 ? options.iterations : options.epochs, kMaxIterations, ipe));
  if (options.iterations > 0) {
    h.total_iterations = options.iterations;
    h.epochs = (options.iterations + ipe - 1) / ipe;
  } else {
    h.epochs = options.epochs;
    h.total_iterations = options.epochs * ipe;
  }
  h.schedule = schedule->spec();
  h.seed = 0;

  ScheduleContext ctx;
  ctx.total_iterations = h.total_iterations;
  ctx.iterations_per_epoch = ipe;
  Segment current;
  for (std::int64_t t = 0; t < h.total_iterations; ++t) {
    ctx.iteration = t;
    PrecisionSet p = schedule->at(ctx);
    if (t > 0 && p == current.precision) continue;
    if (t > 0) {
      if (trace.segments.size() >= kMaxSegments)
        throw InputError(fmt::format("synth: schedule '{}' changes precision more than {} times "
                                     "(at most {} segments)",
                                     options.schedule, kMaxSegments, kMaxSegments));
      current.end = t;
      trace.segments.push_back(current);
    }
    current.begin = t;
    current.precision = p;
  }
  current.end = h.total_iterations;
  trace.segments.push_back(current);

  for (const LayerPrecision& lp : schedule->layer_overrides()) {
    if (graph.find(lp.layer) < 0)
      throw InputError(fmt::format("schedule '{}': layer '{}' is not a layer of {}",
                                   options.schedule, lp.layer, options.model));
    Segment s;
    s.begin = 0;
    s.end = h.total_iterations;
    s.layer = lp.layer;
    s.precision = lp.precision;
    trace.segments.push_back(s);
  }
  validate_trace(trace, "synth");
  return trace;
}

}  // namespace lpsim
