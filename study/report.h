// The comparison `lpsim compare` builds, and its three renderings: the text
// table, the JSON array (--json) and the report directory (--report DIR:
// report.json, report.csv, gnuplot plots as SVG and PNG, index.html).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "sim/replay.h"
#include "traces/trace.h"

namespace lpsim::study {

// One training run of one model under one schedule: synthesized (no data,
// no accuracy) or trained for real by the built-in trainer.
struct CompareRun {
  std::string model, dataset, schedule;  // schedule: the trace's spec
  bool trained = false;
  std::optional<double> test_accuracy;  // final epoch's, 0..1; trained runs only
  double gbitops = 0;                   // training BitOPs / 1e9, --count convention
  double total_macs = 0;
  double train_wall_s = 0;  // trainer wall time (trained runs)
  Trace trace;              // segments and metrics, for the plots
};

// One (run, design point) pair. `sim` is the simulation's report (per-layer
// results included); it is empty with --bitops-only or when the design point
// cannot run the trace (then `unsupported` says why, e.g. 12-bit operands on
// an INT8-only array).
struct CompareRow {
  std::size_t run = 0;  // index into Comparison::runs
  std::string arch;     // "" with --bitops-only
  std::optional<SimReport> sim;
  std::string unsupported;
};

struct Comparison {
  std::string count = "gemm";  // BitOPs convention, "gemm" | "cpt"
  bool bitops_only = false;
  std::vector<std::string> notes;  // one line per model: how its runs were made
  std::vector<CompareRun> runs;    // per model, in schedule order; the first is the baseline
  std::vector<CompareRow> rows;    // order: model, schedule, design point
};

// Figures of a row, in the units the table and the JSON use. nullopt where a
// figure does not exist (no accuracy for synthesized runs; no energy when the
// design point cannot run the trace; no change without a baseline figure).
// The baseline of a row is the row of the same model's first run on the same
// design point.
struct RowFigures {
  std::optional<double> test_accuracy;
  double gbitops = 0;
  std::optional<double> energy_j, latency_s;
  std::optional<double> energy_static_j;  // leakage x time, part of energy_j
  std::optional<double> gbitops_change, energy_change, latency_change;  // fractions, -0.37
  std::string baseline;                                                 // its schedule
};
RowFigures row_figures(const Comparison& c, const CompareRow& row);

// The table's cells (header first), as printed and as index.html shows them.
std::vector<std::vector<std::string>> table_cells(const Comparison& c);
// The text table plus a footnote per row a design point could not run.
std::string comparison_table(const Comparison& c);
// The lines printed above the table (models, conventions, the baseline).
std::string comparison_preamble(const Comparison& c);

// --json: one object per row: "model", "dataset", "source" (trained |
// synthesized), "epochs", "batch", "schedule", "arch", "count",
// "total_gbitops", "total_macs", "test_accuracy" (trained), "energy_j",
// "latency_s", "cycles", "breakdown", "change" ({"gbitops", "energy",
// "latency"}: fractions against the baseline, "baseline"), "unsupported".
nlohmann::json comparison_json(const Comparison& c);

// The report directory: report.json ({"rows": comparison_json, "runs": ...,
// "table": the cells as printed, "plots": [...]}), report.csv, plots/*.svg
// and *.png (beside the .gp scripts and .dat files that drew them) and
// index.html. Built in a temporary directory beside `dir`, then renamed onto
// it: the directory appears whole or not at all. An existing `dir` is
// replaced only when it holds a previous report (its report.json);
// otherwise InputError. Returns the files written, relative to `dir`.
std::vector<std::string> write_report(const Comparison& c, const std::string& dir);

// InputError naming the Debian package when gnuplot is not on PATH, or when
// `dir` cannot become a report directory. Called before the long work so
// that these fail in the first second.
void check_report_target(const std::string& dir);

namespace detail {
// One plot of the report: plots/<stem>.gp draws plots/<stem>.svg and .png
// from plots/<stem>.dat (report_plots.cpp).
struct Plot {
  std::string stem, title, caption;
};
// Writes every plot's .dat and .gp into `plots_dir`; returns them in page order.
std::vector<Plot> write_plot_sources(const Comparison& c, const std::string& plots_dir);
// The energy components a plot stacks: "sram:<buffer>" -> "sram", others as they are.
std::string component_group(const std::string& component);
}  // namespace detail

}  // namespace lpsim::study
