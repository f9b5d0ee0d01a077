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

// The breakdowns as compact tables: energy by component, then time and
// energy by phase and by engine (MAC array / vector unit).
void print_summary(const nlohmann::json& j, const std::string& what, const ArchConfig& arch) {
  std::cout << fmt::format("{} on design point '{}' ({})\n", what, arch.name, arch.source);
  const double energy = j.value("energy_j", 0.0), cycles = j.value("cycles", 0.0);
  std::cout << fmt::format(
      "  BitOPs   {} G\n  energy   {}\n  latency  {}  ({} cycles at {} GHz, {} timing)\n\n",
      sig(j.value("total_gbitops", 0.0)), joules(energy), seconds(j.value("latency_s", 0.0)),
      sig(cycles), arch.clock_ghz, j.value("timing", ""));
  auto share = [](double part, double whole) {
    return whole > 0 ? fmt::format("{:.1f}%", 100 * part / whole) : std::string("-");
  };
  if (!j.contains("breakdown")) return;
  const auto& b = j["breakdown"];
  if (b.contains("component")) {
    // Dynamic components first, then static ones (docs/energy.md), each kind
    // with its subtotal.
    Table t({"component", "kind", "energy", "share"});
    for (const bool want_static : {false, true}) {
      for (const auto& [name, v] : b["component"].items())
        if (v.is_number() && (name.rfind("static:", 0) == 0) == want_static)
          t.add({name, want_static ? "static" : "dynamic", joules(v.get<double>()),
                 share(v.get<double>(), energy)});
      const double sub = j.value(want_static ? "energy_static_j" : "energy_dynamic_j", 0.0);
      t.add({want_static ? "(all static)" : "(all dynamic)", "", joules(sub), share(sub, energy)});
    }
    std::cout << t.str() << "\n";
  }
  for (const char* key : {"phase", "engine"}) {
    if (!b.contains(key)) continue;
    Table t({key, "GBitOPs", "cycles", "time share", "memory-bound", "energy", "energy share",
             "utilization"});
    for (const auto& [name, v] : b[key].items()) {
      if (!v.is_object()) continue;
      double c = v.value("cycles", 0.0);
      t.add({name, sig(v.value("gbitops", 0.0)), sig(c), share(c, cycles),
             share(v.value("memory_bound_cycles", 0.0), c), joules(v.value("energy_j", 0.0)),
             share(v.value("energy_j", 0.0), energy),
             fmt::format("{:.1f}%", 100 * v.value("utilization", 0.0))});
    }
    std::cout << t.str() << "\n";
  }
  // Where the time went: each module's busy cycles and the engines' stalls
  // by cause (docs/simulator.md, "Stalls"), as shares of the run's cycles.
  if (j.contains("busy_cycles") && j.contains("stall_cycles")) {
    Table t({"module / stall", "cycles", "of the run"});
    for (const auto& [name, v] : j["busy_cycles"].items())
      t.add({"busy: " + name, sig(v.get<double>()), share(v.get<double>(), cycles)});
    for (const auto& [name, v] : j["stall_cycles"].items())
      t.add({"stalled on: " + name, sig(v.get<double>()), share(v.get<double>(), cycles)});
    std::cout << t.str() << "\n";
  }
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
  auto timing = std::make_shared<std::string>("systemc");
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
  return [=]() {
    if (trace_path->empty() == topology->empty())
      throw InputError("simulate: give exactly one of a trace file or --topology CSV");
    ArchConfig a = arch->load().front();
    EnergyTable table = energy_table_for(a);
    SimOptions options;
    options.timing = parse_timing(*timing);
    nlohmann::json j;
    std::string what;
    if (!trace_path->empty()) {
      Trace trace = read_trace(*trace_path);
      Graph graph = trace_graph(trace);
      j = to_json(simulate_trace(trace, graph, a, table, options));
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
      j = to_json(simulate_step(graph, a, table, p, *batch, *phase == "fwd", options,
                                layer_precision_of(graph, p)));
      // A topology's input layers stand for data, not work: list its layers only.
      nlohmann::json layers = nlohmann::json::array();
      for (const auto& l : j["layers"])
        if (l.value("kind", "") != "input") layers.push_back(l);
      j["layers"] = layers;
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
      if (!topology->empty()) {
        Table rows({"layer", "cycles", "utilization", "SRAM read bits", "SRAM write bits",
                    "DRAM read bits", "DRAM write bits", "energy"});
        for (const auto& l : j["layers"])
          rows.add({l.value("name", ""), sig(l.value("cycles", 0.0)),
                    fmt::format("{:.1f}%", 100 * l.value("utilization", 0.0)),
                    sig(l.value("sram_read_bits", 0.0)), sig(l.value("sram_write_bits", 0.0)),
                    sig(l.value("dram_read_bits", 0.0)), sig(l.value("dram_write_bits", 0.0)),
                    joules(l.value("energy_j", 0.0))});
        std::cout << rows.str();
      }
    }
    return 0;
  };
}

}  // namespace lpsim::cli
