// `lpsim explore`: sweep the design points of a space over training traces;
// CSV of every metric, Pareto front marked, optional plot. docs/explore.md.
#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <memory>

#include "core/error.h"
#include "tools/cli_common.h"
#include "tools/commands.h"
#include "study/explore.h"

namespace lpsim::cli {

namespace {

int default_jobs() {
  const long n = ::sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? int(n) : 1;
}

// Under mpirun (Open MPI, MPICH / Hydra, Slurm's PMI) lpsim-mpi shares the
// points between ranks without being told.
bool launched_by_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"})
    if (std::getenv(v)) return true;
  return false;
}

void print_summary(const nlohmann::json& s, std::ostream& out) {
  out << fmt::format(
      "{}: {} of {} points selected, {} over the area budget, {} evaluated now ({} {}), "
      "{} rows ({} resumed) in {}\n",
      s["space"].get<std::string>(), s["points_selected"].get<std::int64_t>(),
      s["points_in_space"].get<std::int64_t>(), s["points_over_area_budget"].get<std::int64_t>(),
      s["points_evaluated"].get<std::int64_t>(), s["workers"].get<int>(),
      s["mpi"].get<bool>() ? "MPI ranks" : "worker processes", s["rows"].get<std::int64_t>(),
      s["rows_resumed"].get<std::int64_t>(), s["output"].get<std::string>());
  if (!s.contains("pareto")) return;
  out << fmt::format("Pareto-optimal rows ({}):\n", s["pareto"].size());
  std::vector<std::string> header{"point"};
  for (const auto& k : s["axes"]) header.push_back(k.get<std::string>());
  for (const char* c : {"schedule", "energy", "latency", "area mm2", "utilization"})
    header.push_back(c);
  Table table(header);
  for (const auto& r : s["pareto"]) {
    std::vector<std::string> row{std::to_string(r["point"].get<std::int64_t>())};
    for (const auto& k : s["axes"])
      row.push_back(r["axes"][k.get<std::string>()].get<std::string>());
    row.push_back(r["schedule"].get<std::string>());
    row.push_back(joules(r["energy_j"].get<double>()));
    row.push_back(seconds(r["latency_s"].get<double>()));
    row.push_back(sig(r["area_mm2"].get<double>()));
    row.push_back(sig(r["utilization"].get<double>(), 3));
    table.add(row);
  }
  out << table.str();
  if (s.contains("report")) {
    const auto& rep = s["report"];
    if (rep.contains("svg"))
      out << fmt::format("Pareto plot: {}\n", rep["svg"].get<std::string>());
    else
      out << fmt::format("Pareto plot: {} ({})\n", rep["script"].get<std::string>(),
                         rep["note"].get<std::string>());
  }
}

}  // namespace

Action add_explore(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "explore",
      "Evaluate the design points of a design-space file on training traces: one CSV row per "
      "(point, trace) with every metric, Pareto-optimal rows marked.\n"
      "Examples:\n"
      "  lpsim explore tools/spaces/pe_types.yaml --trace static.lpt --trace cyclic.lpt -o "
      "results.csv --report plots\n"
      "  lpsim explore space.yaml --trace r74.lpt -o r.csv --samples 200 --seed 7 --jobs 2\n"
      "  lpsim explore space.yaml --trace r74.lpt -o r.csv --resume\n"
      "  mpirun -n 8 lpsim-mpi explore space.yaml --trace r74.lpt -o r.csv");
  auto o = std::make_shared<explore::ExploreOptions>();
  auto sampling = std::make_shared<std::string>("random");
  auto json = std::make_shared<bool>(false);
  auto quiet = std::make_shared<bool>(false);
  o->jobs = default_jobs();
  sub->add_option("space", o->space_path, "Design-space YAML file (docs/explore.md)")->required();
  sub->add_option("--trace", o->traces, "Trace file (.lpt / .lpt.gz); repeatable")->required();
  sub->add_option("-o,--output", o->output,
                  "Results CSV (appended as points finish); - for standard output")
      ->required();
  sub->add_option("-j,--jobs", o->jobs, "Worker processes (default: the number of cores)")
      ->default_val(o->jobs);
  sub->add_option("--samples", o->samples,
                  "Evaluate K points drawn from the space instead of all of them");
  sub->add_option("--sampling", *sampling, "With --samples: random or lhs (Latin hypercube)")
      ->check(CLI::IsMember({"random", "lhs"}))
      ->default_val("random");
  sub->add_option("--seed", o->seed, "Seed of --samples")->default_val(1);
  sub->add_flag("--resume", o->resume,
                "Keep the rows already in the output file and evaluate only the missing ones");
  sub->add_option("--report", o->report_dir,
                  "Directory for the Pareto plot (pareto.svg via gnuplot, pareto.csv, pareto.gp)");
  sub->add_flag("--mpi", o->mpi,
                "Share the points between MPI ranks (lpsim-mpi; automatic under mpirun)");
  auto timing = std::make_shared<std::string>("systemc");
  add_timing_option(*sub, *timing);
  sub->add_flag("--json", *json, "Print a JSON summary (counts and the Pareto-optimal rows)");
  sub->add_flag("-q,--quiet", *quiet, "Print nothing on success");
  return [=]() {
    explore::ExploreOptions opts = *o;
    if (sub->count("--samples"))
      opts.sampling =
          *sampling == "lhs" ? explore::Sampling::LatinHypercube : explore::Sampling::Random;
    else if (sub->count("--sampling"))
      throw InputError("--sampling: give --samples K too");
    if (explore::mpi_built() && launched_by_mpi()) opts.mpi = true;
    opts.progress = !*quiet && !*json;
    opts.timing = parse_timing(*timing);
    const explore::ExploreResult r = explore::run_explore(opts);
    if (!r.writer) return r.exit_code;
    if (r.exit_code != 0) {
      std::cerr << fmt::format(
          "lpsim: explore stopped by signal {}: the rows of finished points are in {}; rerun "
          "with --resume to finish\n",
          r.exit_code - 128, opts.output);
      return r.exit_code;
    }
    std::ostream& info = info_stream(opts.output);
    if (*json)
      print_json(r.summary, info);
    else if (!*quiet)
      print_summary(r.summary, info);
    return 0;
  };
}

}  // namespace lpsim::cli
