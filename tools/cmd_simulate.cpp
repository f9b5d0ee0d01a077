// `lpsim simulate`: replay a training trace (or one step of a layer list) on a
// design point: BitOPs, energy, latency, with breakdowns.
#include <iostream>

#include <fmt/format.h>

#include "core/atomic_file.h"
#include "core/error.h"
#include "models/graph_io.h"
#include "sim/replay.h"
#include "study/sim_format.h"
#include "traces/bitops.h"
#include "tools/arch_options.h"
#include "tools/cli_common.h"
#include "tools/commands.h"

namespace lpsim::cli {

Action add_simulate(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "simulate",
      "Simulate a training trace, or one step of a layer list, on a design point.\n"
      "Examples:\n  lpsim simulate r74.lpt --arch tpu_int8 --json\n"
      "  lpsim simulate --topology layers.csv --arch bit_fusion --phase train --precision 4/8");
  auto trace_path = std::make_shared<std::string>();
  auto topology = std::make_shared<std::string>();
  auto phase = std::make_shared<std::string>("train");
  auto precision = std::make_shared<std::string>("8/8");
  auto batch = std::make_shared<std::int64_t>(1);
  auto arch = std::make_shared<ArchOptions>();
  auto json = std::make_shared<bool>(false);
  auto quiet = std::make_shared<bool>(false);
  auto timing = std::make_shared<std::string>("systemc");
  auto layers_csv = std::make_shared<std::string>();
  sub->add_option("trace", *trace_path, "Trace file (.lpt / .lpt.gz)");
  sub->add_option("--topology", *topology,
                  "Layer list in SCALE-Sim's topology CSV layout instead of a trace");
  sub->add_option("--phase", *phase, "With --topology: fwd (forward only) or train (whole step)")
      ->check(CLI::IsMember({"fwd", "train"}))
      ->default_val("train");
  sub->add_option("--precision", *precision, "With --topology: FW/BW precision, e.g. 8/8, 4/8")
      ->default_val("8/8");
  sub->add_option("--batch", *batch, "With --topology: batch size")->default_val(1);
  arch->add_to(*sub, false);
  add_timing_option(*sub, *timing);
  sub->add_flag("--json", *json, "Print a JSON object");
  sub->add_flag("-q,--quiet", *quiet, "Print only energy (J) and latency (s)");
  sub->add_option("--layers-csv", *layers_csv,
                  "Also write per-layer results (whole run and per phase) as CSV, units in the "
                  "column names (docs/simulator.md); - prints it instead of the summary");
  return [=]() {
    if (trace_path->empty() == topology->empty())
      throw InputError("simulate: give exactly one of a trace file or --topology CSV");
    // Checked before simulating, so a bad path fails in a second, not after the run.
    if (!layers_csv->empty()) resolve_output(*layers_csv);
    ArchConfig a = arch->load().front();
    EnergyTable table = energy_table_for(a);
    SimOptions options;
    options.timing = parse_timing(*timing);
    SimReport report;
    std::string what;
    if (!trace_path->empty()) {
      Trace trace = read_trace(*trace_path);
      Graph graph = trace_graph(trace);
      report = simulate_trace(trace, graph, a, table, options);
      // A trace that carries its own graph is named by the graph.
      const std::string model =
          trace.header.model.empty() ? "graph '" + graph.name() + "'" : trace.header.model;
      what = fmt::format("{} ({} / {}, {} epochs, schedule {})", *trace_path, model,
                         trace.header.dataset, trace.header.epochs, trace.header.schedule);
    } else {
      if (*batch < 1) throw InputError(fmt::format("--batch = {}: must be >= 1", *batch));
      Graph graph = read_topology_csv(*topology);
      auto slash = precision->find('/');
      if (slash == std::string::npos)
        throw InputError(fmt::format("--precision '{}': expected FW/BW, e.g. 8/8", *precision));
      PrecisionSet p = PrecisionSet::fw_bw(parse_format(precision->substr(0, slash), "--precision"),
                                           parse_format(precision->substr(slash + 1), "--precision"));
      // A topology's input layers stand for data, not work: list its layers only.
      report = study::without_input_layers(simulate_step(graph, a, table, p, *batch,
                                                         *phase == "fwd", options,
                                                         layer_precision_of(graph, p)));
      what = fmt::format("{} ({} pass, precision {}, batch {})", *topology,
                         *phase == "fwd" ? "forward" : "training", *precision, *batch);
    }
    if (!layers_csv->empty()) {
      write_file_atomic(*layers_csv, study::layers_csv(report));
      if (writes_stdout(*layers_csv)) return 0;  // the CSV alone on standard output
    }
    if (*json) {
      print_json(to_json(report));
    } else if (*quiet) {
      std::cout << sig(report.energy_j(), 6) << " " << sig(report.latency_s(), 6) << "\n";
    } else {
      std::cout << study::simulation_summary(report, what, a);
      if (!topology->empty()) std::cout << study::layers_table(report);
    }
    return 0;
  };
}

}  // namespace lpsim::cli
