// `lpsim simulate`: replay a training trace (or one step of a layer list) on a
// design point: BitOPs, energy, latency, with breakdowns.
#include <iostream>

#include <fmt/format.h>

#include "core/error.h"

#include "models/graph_io.h"
#include "sim/replay.h"
#include "traces/bitops.h"
#include "tools/arch_options.h"
#include "tools/cli_common.h"
#include "tools/commands.h"

namespace lpsim::cli {

namespace {

// Renders {"name": number | {field: number, ...}} as a table.
std::string json_table(const std::string& title, const nlohmann::json& obj) {
  std::vector<std::string> fields;
  for (const auto& [name, value] : obj.items())
    if (value.is_object())
      for (const auto& [f, v] : value.items())
        if (v.is_number() && std::find(fields.begin(), fields.end(), f) == fields.end())
          fields.push_back(f);
  std::vector<std::string> header{title};
  if (fields.empty()) header.push_back("value");
  header.insert(header.end(), fields.begin(), fields.end());
  Table table(header);
  for (const auto& [name, value] : obj.items()) {
    std::vector<std::string> row{name};
    if (value.is_number()) {
      row.push_back(sig(value.get<double>()));
    } else if (value.is_object()) {
      for (const auto& f : fields)
        row.push_back(value.contains(f) && value[f].is_number() ? sig(value[f].get<double>())
                                                                : "");
    } else {
      row.push_back(value.dump());
    }
    table.add(row);
  }
  return table.str();
}

void print_summary(const nlohmann::json& j, const std::string& what, const ArchConfig& arch) {
  std::cout << fmt::format("{} on design point '{}' ({})\n", what, arch.name, arch.source);
  std::cout << fmt::format("  BitOPs   {} G\n  energy   {}\n  latency  {}  ({} cycles at {} GHz)\n\n",
                           sig(j.value("total_gbitops", 0.0)), joules(j.value("energy_j", 0.0)),
                           seconds(j.value("latency_s", 0.0)), sig(j.value("cycles", 0.0)),
                           arch.clock_ghz);
  if (j.contains("breakdown"))
    for (const auto& [name, obj] : j["breakdown"].items())
      if (obj.is_object()) std::cout << json_table(name, obj) << "\n";
}

}  // namespace

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
  sub->add_flag("--json", *json, "Print a JSON object");
  sub->add_flag("-q,--quiet", *quiet, "Print only energy (J) and latency (s)");
  return [=]() {
    if (trace_path->empty() == topology->empty())
      throw InputError("simulate: give exactly one of a trace file or --topology CSV");
    ArchConfig a = arch->load().front();
    EnergyTable table = energy_table_for(a);
    nlohmann::json j;
    std::string what;
    if (!trace_path->empty()) {
      Trace trace = read_trace(*trace_path);
      Graph graph = trace_graph(trace);
      j = to_json(simulate_trace(trace, graph, a, table, SimOptions{}));
      what = fmt::format("{} ({} / {}, {} epochs, schedule {})", *trace_path, trace.header.model,
                         trace.header.dataset, trace.header.epochs, trace.header.schedule);
    } else {
      if (*batch < 1) throw InputError(fmt::format("--batch = {}: must be >= 1", *batch));
      Graph graph = read_topology_csv(*topology);
      auto slash = precision->find('/');
      if (slash == std::string::npos)
        throw InputError(fmt::format("--precision '{}': expected FW/BW, e.g. 8/8", *precision));
      PrecisionSet p = PrecisionSet::fw_bw(parse_format(precision->substr(0, slash), "--precision"),
                                           parse_format(precision->substr(slash + 1), "--precision"));
      j = to_json(simulate_step(graph, a, table, p, *batch, *phase == "fwd"));
      what = fmt::format("{} ({} pass, precision {}, batch {})", *topology,
                         *phase == "fwd" ? "forward" : "training", *precision, *batch);
    }
    j["arch"] = a.name;
    if (*json) {
      print_json(j);
    } else if (*quiet) {
      std::cout << sig(j.value("energy_j", 0.0), 6) << " " << sig(j.value("latency_s", 0.0), 6)
                << "\n";
    } else {
      print_summary(j, what, a);
    }
    return 0;
  };
}

}  // namespace lpsim::cli
