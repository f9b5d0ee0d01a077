// The report directory of `lpsim compare --report DIR`: report.json,
// report.csv, plots (drawn by gnuplot) and index.html, built in a temporary
// directory beside DIR and renamed onto it, so DIR appears whole or not at all.
#include <fcntl.h>
#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "models/training_step.h"
#include "study/report.h"

extern char** environ;

namespace lpsim::study {

namespace fs = std::filesystem;

namespace {

constexpr const char* kGnuplotMissing =
    "--report needs gnuplot to draw its plots, and it is not on PATH: install the Debian "
    "package gnuplot-nox (apt-get install gnuplot-nox), or run without --report";

bool on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  if (!path) return false;
  std::stringstream dirs(path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const std::string p = (dir.empty() ? "." : dir) + "/" + program;
    if (::access(p.c_str(), X_OK) == 0 && !fs::is_directory(p)) return true;
  }
  return false;
}

std::string csv_cell(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char ch : s) out += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return out + "\"";
}

std::string csv_number(const nlohmann::json& v) {
  if (v.is_number()) return fmt::format("{:.17g}", v.get<double>());
  return "";
}

std::string html(const std::string& s) {
  std::string out;
  for (char ch : s) {
    switch (ch) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += ch;
    }
  }
  return out;
}

// report.csv: one line per row; every figure of report.json's rows that is
// a number, components and phases spread into columns.
std::string csv(const Comparison& c, const nlohmann::json& rows) {
  std::vector<std::string> components;
  for (const auto& r : rows)
    if (r.contains("breakdown"))
      for (const auto& [name, v] : r["breakdown"]["component"].items())
        if (std::find(components.begin(), components.end(), name) == components.end())
          components.push_back(name);
  std::vector<std::string> phases;
  for (int p = 0; p < kNumPhases; ++p) phases.emplace_back(phase_name(static_cast<Phase>(p)));

  std::vector<std::string> header{
      "model",          "dataset",       "source",         "epochs",    "batch",
      "iterations",     "schedule",      "arch",           "count",     "test_accuracy",
      "total_gbitops",  "total_macs",    "energy_j",       "latency_s", "cycles",
      "change_gbitops", "change_energy", "change_latency", "baseline"};
  if (!c.bitops_only) {
    for (const auto& comp : components) header.push_back("energy_j:" + comp);
    for (const auto& p : phases) header.push_back("energy_j:" + p);
    for (const auto& p : phases) header.push_back("latency_s:" + p);
    header.push_back("compute_bound_share");
  }
  header.push_back("unsupported");
  std::string out;
  for (std::size_t i = 0; i < header.size(); ++i) out += (i ? "," : "") + csv_cell(header[i]);
  out += "\n";
  const nlohmann::json null;
  for (const auto& r : rows) {
    auto at = [&](const char* k) -> const nlohmann::json& { return r.contains(k) ? r[k] : null; };
    std::vector<std::string> line{
        csv_cell(r["model"].get<std::string>()),
        csv_cell(r["dataset"].get<std::string>()),
        r["source"].get<std::string>(),
        csv_number(r["epochs"]),
        csv_number(r["batch"]),
        csv_number(r["iterations"]),
        csv_cell(r["schedule"].get<std::string>()),
        csv_cell(r.value("arch", "")),
        r["count"].get<std::string>(),
        csv_number(at("test_accuracy")),
        csv_number(r["total_gbitops"]),
        csv_number(r["total_macs"]),
        csv_number(at("energy_j")),
        csv_number(at("latency_s")),
        csv_number(at("cycles")),
        csv_number(r["change"]["gbitops"]),
        csv_number(r["change"].contains("energy") ? r["change"]["energy"] : null),
        csv_number(r["change"].contains("latency") ? r["change"]["latency"] : null),
        csv_cell(r["change"]["baseline"].get<std::string>())};
    if (!c.bitops_only) {
      const bool sim = r.contains("breakdown");
      for (const auto& comp : components)
        line.push_back(sim && r["breakdown"]["component"].contains(comp)
                           ? csv_number(r["breakdown"]["component"][comp])
                           : "");
      for (const char* field : {"energy_j", "latency_s"})
        for (const auto& p : phases)
          line.push_back(sim ? csv_number(r["breakdown"]["phase"][p][field]) : "");
      line.push_back(sim ? csv_number(r["bound"]["compute_share"]) : "");
    }
    line.push_back(csv_cell(r.value("unsupported", "")));
    for (std::size_t i = 0; i < line.size(); ++i) out += (i ? "," : "") + line[i];
    out += "\n";
  }
  return out;
}

std::string index_html(const Comparison& c, const std::vector<detail::Plot>& plots) {
  const auto cells = table_cells(c);
  std::string table = "<table>\n<thead><tr>";
  for (const auto& h : cells.front()) table += "<th>" + html(h) + "</th>";
  table += "</tr></thead>\n<tbody>\n";
  for (std::size_t i = 1; i < cells.size(); ++i) {
    table += "<tr>";
    for (std::size_t k = 0; k < cells[i].size(); ++k) {
      const std::string& cell = cells[i][k];
      const bool num = !cell.empty() && (std::isdigit(static_cast<unsigned char>(cell[0])) ||
                                         cell[0] == '-' || cell[0] == '+');
      table += fmt::format("<td{}>{}</td>", num ? " class=\"n\"" : "", html(cell));
    }
    table += "</tr>\n";
  }
  table += "</tbody>\n</table>\n";
  std::string footnotes;
  for (const auto& row : c.rows)
    if (!row.unsupported.empty())
      footnotes +=
          fmt::format("<li>{} {} on {}: not simulated: {}</li>\n", html(c.runs[row.run].model),
                      html(c.runs[row.run].schedule), html(row.arch), html(row.unsupported));
  if (!footnotes.empty()) footnotes = "<ul class=\"notes\">\n" + footnotes + "</ul>\n";
  std::string preamble;
  std::istringstream lines(comparison_preamble(c));
  for (std::string line; std::getline(lines, line);) preamble += "<p>" + html(line) + "</p>\n";
  std::string figures;
  for (const auto& p : plots)
    figures += fmt::format(
        "<figure>\n<img src=\"plots/{0}.svg\" alt=\"{1}\">\n<figcaption>{1}. {2} "
        "(<a href=\"plots/{0}.png\">PNG</a>, <a href=\"plots/{0}.dat\">data</a>, "
        "<a href=\"plots/{0}.gp\">gnuplot script</a>)</figcaption>\n</figure>\n",
        p.stem, html(p.title), html(p.caption));
  return fmt::format(R"(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>lpsim compare report</title>
<style>
body {{ font-family: sans-serif; margin: 24px; color: #222; background: #fff; }}
h1 {{ font-size: 22px; }}
table {{ border-collapse: collapse; font-size: 13px; margin: 12px 0; }}
th, td {{ border: 1px solid #bbb; padding: 3px 8px; }}
th {{ background: #e8eef6; }}
td.n {{ text-align: right; font-variant-numeric: tabular-nums; }}
tbody tr:nth-child(even) {{ background: #f6f6f6; }}
figure {{ margin: 24px 0; }}
figure img {{ max-width: 100%; border: 1px solid #ddd; }}
figcaption {{ font-size: 13px; color: #444; }}
.notes {{ font-size: 13px; color: #844; }}
</style>
</head>
<body>
<h1>lpsim compare: what does training cost under each precision schedule?</h1>
{}
{}
{}
<p>Every figure: <a href="report.json">report.json</a> and
<a href="report.csv">report.csv</a>. How each is computed: docs/bitops.md
(BitOPs), docs/energy.md (energy), docs/simulator.md (latency and the
simulator), docs/architecture.md (design points).</p>
{}
</body>
</html>
)",
                     preamble, table, footnotes, figures);
}

// Runs gnuplot on `scripts` in `dir`; InternalError with its messages on failure.
void run_gnuplot(const std::string& dir, const std::vector<std::string>& scripts) {
  const std::string log = dir + "/gnuplot.log";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addchdir_np(&actions, dir.c_str());
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  std::vector<std::string> args{"gnuplot"};
  args.insert(args.end(), scripts.begin(), scripts.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, "gnuplot", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw InputError(kGnuplotMissing);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) throw InternalError("waiting for gnuplot failed");
  std::ifstream in(log);
  std::string messages((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  fs::remove(log);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw InternalError(fmt::format("gnuplot failed drawing the report's plots in {}: {}", dir,
                                    messages.substr(0, 2000)));
}

std::string random_suffix() {
  std::random_device rd;
  return fmt::format("{:08x}", rd());
}

bool is_report_dir(const fs::path& dir) {
  return fs::is_directory(dir) && fs::is_regular_file(dir / "report.json");
}

// Where the report goes: DIR, or what DIR links to (the output policy of
// core/atomic_file.h: a symlink is followed, not replaced).
fs::path report_target(const std::string& dir) {
  fs::path target = fs::absolute(dir).lexically_normal();
  if (target.filename().empty()) target = target.parent_path();
  std::error_code ec;
  if (fs::is_symlink(target, ec)) {
    const fs::path real = fs::weakly_canonical(target, ec);
    if (!ec) target = real;
  }
  return target;
}

}  // namespace

void check_report_target(const std::string& dir) {
  if (dir.empty()) throw InputError("--report: give a directory name");
  if (!on_path("gnuplot")) throw InputError(kGnuplotMissing);
  const fs::path target = report_target(dir);
  const fs::path parent = target.parent_path();
  if (!fs::is_directory(parent))
    throw InputError(
        fmt::format("--report {}: its parent directory {} does not exist", dir, parent.string()));
  std::error_code ec;
  const bool empty_dir = fs::is_directory(target, ec) && fs::is_empty(target, ec);
  if (fs::exists(target) && !is_report_dir(target) && !empty_dir)
    throw InputError(fmt::format(
        "--report {}: exists, is not empty and is not an lpsim report (no report.json in it); "
        "choose a new or an empty directory",
        dir));
  if (::access(parent.c_str(), W_OK) != 0)
    throw InputError(fmt::format("--report {}: cannot write into {}", dir, parent.string()));
}

std::vector<std::string> write_report(const Comparison& c, const std::string& dir) {
  check_report_target(dir);
  const fs::path target = report_target(dir);
  const fs::path tmp = target.parent_path() / ("." + target.filename().string() + ".tmp-" +
                                               std::to_string(::getpid()) + "-" + random_suffix());
  std::vector<std::string> files;
  try {
    fs::create_directories(tmp / "plots");
    const auto plots = detail::write_plot_sources(c, (tmp / "plots").string());
    std::vector<std::string> scripts;
    for (const auto& p : plots) scripts.push_back(p.stem + ".gp");
    if (!scripts.empty()) run_gnuplot((tmp / "plots").string(), scripts);
    for (const auto& p : plots)
      for (const char* ext : {".svg", ".png", ".gp", ".dat"}) {
        const fs::path f = tmp / "plots" / (p.stem + ext);
        if (!fs::is_regular_file(f) || fs::file_size(f) == 0)
          throw InternalError(fmt::format("gnuplot did not draw {}", f.string()));
        files.push_back("plots/" + p.stem + ext);
      }

    const nlohmann::json rows = comparison_json(c);
    nlohmann::json runs = nlohmann::json::array();
    for (const auto& r : c.runs) {
      nlohmann::json segments = nlohmann::json::array();
      for (const auto& s : r.trace.segments)
        segments.push_back({{"begin", s.begin},
                            {"end", s.end},
                            {"layer", s.layer},
                            {"precision", s.precision.label()}});
      nlohmann::json metrics = nlohmann::json::array();
      for (const auto& m : r.trace.metrics) {
        nlohmann::json mj = {{"epoch", m.epoch}};
        if (m.train_loss) mj["train_loss"] = *m.train_loss;
        if (m.train_accuracy) mj["train_accuracy"] = *m.train_accuracy;
        if (m.test_accuracy) mj["test_accuracy"] = *m.test_accuracy;
        if (m.wall_s) mj["wall_s"] = *m.wall_s;
        metrics.push_back(std::move(mj));
      }
      runs.push_back({{"model", r.model},
                      {"dataset", r.dataset},
                      {"schedule", r.schedule},
                      {"source", r.trained ? "trained" : "synthesized"},
                      {"epochs", r.trace.header.epochs},
                      {"batch", r.trace.header.batch},
                      {"iterations_per_epoch", r.trace.header.iterations_per_epoch()},
                      {"total_iterations", r.trace.header.total_iterations},
                      {"seed", r.trace.header.seed},
                      {"segments", segments},
                      {"metrics", metrics}});
    }
    nlohmann::json plot_list = nlohmann::json::array();
    for (const auto& p : plots)
      plot_list.push_back({{"name", p.stem},
                           {"title", p.title},
                           {"svg", "plots/" + p.stem + ".svg"},
                           {"png", "plots/" + p.stem + ".png"}});
    const nlohmann::json report = {
        {"lpsim_report", 1}, {"count", c.count}, {"notes", c.notes},  {"table", table_cells(c)},
        {"rows", rows},      {"runs", runs},     {"plots", plot_list}};
    write_file_atomic((tmp / "report.json").string(), report.dump(1) + "\n");
    write_file_atomic((tmp / "report.csv").string(), csv(c, rows));
    write_file_atomic((tmp / "index.html").string(), index_html(c, plots));
    files.insert(files.begin(), {"index.html", "report.json", "report.csv"});

    // Swap into place: an old report moves aside first and is removed after.
    fs::path old;
    if (fs::exists(target)) {
      old = target.parent_path() / ("." + target.filename().string() + ".old-" +
                                    std::to_string(::getpid()) + "-" + random_suffix());
      fs::rename(target, old);
    }
    std::error_code ec;
    fs::rename(tmp, target, ec);
    if (ec) {
      if (!old.empty()) fs::rename(old, target);
      throw fs::filesystem_error("cannot rename the finished report into place", tmp, target, ec);
    }
    if (!old.empty()) fs::remove_all(old);
  } catch (const fs::filesystem_error& e) {
    std::error_code ec;
    fs::remove_all(tmp, ec);
    throw InputError(fmt::format("--report {}: {}", dir, e.what()));
  } catch (...) {
    std::error_code ec;
    fs::remove_all(tmp, ec);
    throw;
  }
  return files;
}

}  // namespace lpsim::study
