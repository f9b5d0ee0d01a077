// The training trace (format v1, docs/trace-format.md): what precision every
// iteration of a training run used, run-length encoded, plus per-epoch metrics.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/precision.h"

namespace lpsim {

inline constexpr int kTraceFormatVersion = 1;

struct TraceHeader {
  int format_version = kTraceFormatVersion;
  std::string producer;   // e.g. "lpsim-synth 0.1.0", "lpsim-train 0.1.0"
  std::string model;      // zoo name, or "" when `graph_json` holds the graph
  std::string graph_json; // optional: a user graph, serialised (models/graph_io.h)
  std::string dataset;
  std::int64_t samples_per_epoch = 0;
  std::int64_t batch = 0;
  std::int64_t epochs = 0;
  std::int64_t total_iterations = 0;  // normally epochs * iterations_per_epoch()
  std::string schedule;   // the spec it was produced with
  std::uint64_t seed = 0;

  // ceil(samples_per_epoch / batch): the last batch of an epoch may be short.
  std::int64_t iterations_per_epoch() const;
  // Images processed by iteration `it` (batch, or the remainder at epoch end).
  std::int64_t images_at(std::int64_t it) const;
  // Images processed over iterations [begin, end).
  std::int64_t images_in(std::int64_t begin, std::int64_t end) const;
};

// Iterations [begin, end) ran at `precision`, for every layer (layer empty)
// or for the named layer only (overriding the all-layer segment).
struct Segment {
  std::int64_t begin = 0;
  std::int64_t end = 0;
  std::string layer;
  PrecisionSet precision;
};

struct EpochMetrics {
  std::int64_t epoch = 0;
  std::optional<double> train_loss, train_accuracy, test_accuracy, wall_s;
  // Loss scaling (lpsim train): the scale at the epoch's end, and the steps
  // skipped in the epoch because errors or gradients overflowed (dynamic).
  std::optional<double> loss_scale;
  std::optional<std::int64_t> skipped_steps;
};

struct Trace {
  TraceHeader header;
  std::vector<Segment> segments;     // all-layer segments tile [0, total_iterations)
  std::vector<EpochMetrics> metrics; // may be empty (synthesized traces)
  std::string source;  // the file read_trace read it from, for errors; "" if built in memory
};

// Reads a v1 trace (plain or gzip). Throws InputError "<file>:<line>: ..." for
// an unknown version, a malformed or truncated file, or segments that do not
// tile the run.
Trace read_trace(const std::string& path);
// Writes whole-or-nothing; gzip when the path ends in ".gz".
void write_trace(const std::string& path, const Trace& trace);
// Checks the invariants read_trace checks (InputError naming `where`).
void validate_trace(const Trace& trace, const std::string& where);

}  // namespace lpsim
