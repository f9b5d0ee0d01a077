// The comparison's table and JSON (the report directory: report_dir.cpp,
// its plots: report_plots.cpp).
#include "study/report.h"

#include <fmt/format.h>

#include <cmath>

#include "study/format.h"

namespace lpsim::study {

namespace {

std::optional<double> fraction(std::optional<double> value, std::optional<double> base) {
  if (!value || !base || *base == 0) return std::nullopt;
  return (*value - *base) / *base;
}

std::string pct(std::optional<double> f) { return f ? fmt::format("{:+.1f}%", 100.0 * *f) : "-"; }

std::string source_name(const CompareRun& r) { return r.trained ? "trained" : "synthesized"; }

}  // namespace

RowFigures row_figures(const Comparison& c, const CompareRow& row) {
  const CompareRun& run = c.runs.at(row.run);
  RowFigures f;
  f.test_accuracy = run.test_accuracy;
  f.gbitops = run.gbitops;
  if (row.sim) {
    f.energy_j = row.sim->energy_j();
    f.energy_static_j = row.sim->energy_static_j();
    f.latency_s = row.sim->latency_s();
  }
  // The baseline: this model's first run, on the same design point.
  const CompareRun* base_run = nullptr;
  std::size_t base_index = 0;
  for (std::size_t i = 0; i < c.runs.size(); ++i)
    if (c.runs[i].model == run.model && c.runs[i].dataset == run.dataset &&
        c.runs[i].trained == run.trained) {
      base_run = &c.runs[i];
      base_index = i;
      break;
    }
  if (!base_run) return f;
  f.baseline = base_run->schedule;
  f.gbitops_change = fraction(f.gbitops, base_run->gbitops);
  for (const auto& b : c.rows)
    if (b.run == base_index && b.arch == row.arch && b.sim) {
      f.energy_change = fraction(f.energy_j, b.sim->energy_j());
      f.latency_change = fraction(f.latency_s, b.sim->latency_s());
    }
  return f;
}

std::vector<std::vector<std::string>> table_cells(const Comparison& c) {
  bool any_trained = false;
  for (const auto& r : c.runs) any_trained = any_trained || r.trained;
  std::vector<std::string> header{"model", "schedule"};
  if (!c.bitops_only) header.push_back("design point");
  if (any_trained) header.push_back("accuracy");
  header.insert(header.end(), {"GBitOPs", "vs base"});
  if (!c.bitops_only)
    header.insert(header.end(), {"energy", "static", "vs base", "latency", "vs base"});
  std::vector<std::vector<std::string>> cells{header};
  for (const auto& row : c.rows) {
    const CompareRun& run = c.runs.at(row.run);
    const RowFigures f = row_figures(c, row);
    std::vector<std::string> line{run.model + "/" + run.dataset, run.schedule};
    if (!c.bitops_only) line.push_back(row.arch);
    if (any_trained)
      line.push_back(f.test_accuracy ? fmt::format("{:.2f}%", 100.0 * *f.test_accuracy) : "-");
    line.insert(line.end(), {sig(f.gbitops), pct(f.gbitops_change)});
    if (!c.bitops_only) {
      line.push_back(f.energy_j ? joules(*f.energy_j) : "-");
      line.push_back(f.energy_j && f.energy_static_j && *f.energy_j > 0
                         ? fmt::format("{:.1f}%", 100.0 * *f.energy_static_j / *f.energy_j)
                         : "-");
      line.push_back(pct(f.energy_change));
      line.push_back(f.latency_s ? seconds(*f.latency_s) : "-");
      line.push_back(pct(f.latency_change));
    }
    cells.push_back(std::move(line));
  }
  return cells;
}

std::string comparison_table(const Comparison& c) {
  const auto cells = table_cells(c);
  Table table(cells.front());
  for (std::size_t i = 1; i < cells.size(); ++i) table.add(cells[i]);
  std::string out = table.str();
  for (const auto& row : c.rows)
    if (!row.unsupported.empty())
      out += fmt::format("- {} {} on {}: not simulated: {}\n", c.runs.at(row.run).model,
                         c.runs.at(row.run).schedule, row.arch, row.unsupported);
  return out;
}

std::string comparison_preamble(const Comparison& c) {
  std::string out;
  for (const auto& n : c.notes) out += n + "\n";
  // Every model's first schedule is its baseline; name it when they agree.
  std::string base = c.runs.empty() ? "" : c.runs.front().schedule;
  for (std::size_t i = 1; i < c.runs.size(); ++i)
    if (c.runs[i].model != c.runs[i - 1].model && c.runs[i].schedule != base) base.clear();
  out += fmt::format(
      "BitOPs counted by the '{}' convention (docs/bitops.md){}.\n'vs base': change against "
      "the model's first schedule{}{}.\n",
      c.count, c.bitops_only ? "" : "; energy and latency simulated (docs/simulator.md)",
      base.empty() ? "" : " (" + base + ")", c.bitops_only ? "" : " on the same design point");
  return out;
}

nlohmann::json comparison_json(const Comparison& c) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& row : c.rows) {
    const CompareRun& run = c.runs.at(row.run);
    const RowFigures f = row_figures(c, row);
    nlohmann::json j = {{"model", run.model},
                        {"dataset", run.dataset},
                        {"source", source_name(run)},
                        {"epochs", run.trace.header.epochs},
                        {"batch", run.trace.header.batch},
                        {"iterations", run.trace.header.total_iterations},
                        {"schedule", run.schedule},
                        {"count", c.count},
                        {"total_gbitops", f.gbitops},
                        {"total_macs", run.total_macs}};
    if (run.trained) {
      j["test_accuracy"] = f.test_accuracy ? nlohmann::json(*f.test_accuracy) : nlohmann::json();
      j["train_wall_s"] = run.train_wall_s;
    }
    if (!c.bitops_only) j["arch"] = row.arch;
    if (row.sim) {
      // The simulation's own JSON (sim/replay.h to_json), less its per-layer list.
      nlohmann::json sim = to_json(*row.sim);
      j["energy_j"] = *f.energy_j;
      j["energy_static_j"] = row.sim->energy_static_j();
      j["energy_dynamic_j"] = row.sim->energy_dynamic_j();
      j["latency_s"] = *f.latency_s;
      j["cycles"] = row.sim->total.cycles;
      j["breakdown"] = std::move(sim["breakdown"]);
      j["bound"] = std::move(sim["bound"]);
      j["macs_by_width"] = std::move(sim["macs_by_width"]);
      j["epoch_costs"] = std::move(sim["epochs"]);
    }
    if (!row.unsupported.empty()) j["unsupported"] = row.unsupported;
    nlohmann::json change = {{"baseline", f.baseline}};
    auto put = [&](const char* k, std::optional<double> v) {
      change[k] = v ? nlohmann::json(*v) : nlohmann::json();
    };
    put("gbitops", f.gbitops_change);
    if (!c.bitops_only) {
      put("energy", f.energy_change);
      put("latency", f.latency_change);
    }
    j["change"] = std::move(change);
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace lpsim::study
