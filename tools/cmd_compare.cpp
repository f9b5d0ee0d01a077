// `lpsim compare`: schedules side by side — BitOPs, energy and latency per
// design point, and the change against the first schedule (the baseline).
#include <iostream>

#include <fmt/format.h>

#include "core/error.h"

#include "sim/replay.h"
#include "traces/bitops.h"
#include "traces/synth.h"
#include "tools/arch_options.h"
#include "tools/cli_common.h"
#include "tools/commands.h"

namespace lpsim::cli {

Action add_compare(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "compare",
      "Compare precision schedules for one network: training BitOPs, energy and latency on "
      "each design point, and the change against the first schedule.\n"
      "Example: lpsim compare --model resnet74 --dataset cifar100 --epochs 160 "
      "--schedules static:8/8,progressive:3-8/8,cyclic:3-8/8 --arch tpu_int8 --arch bit_fusion");
  auto opt = std::make_shared<SynthOptions>();
  auto schedules = std::make_shared<std::string>();
  auto count = std::make_shared<std::string>("gemm");
  auto arch = std::make_shared<ArchOptions>();
  auto json = std::make_shared<bool>(false);
  auto quiet = std::make_shared<bool>(false);
  auto bitops_only = std::make_shared<bool>(false);
  opt->model = "resnet74";
  opt->dataset = "cifar100";
  opt->epochs = 160;
  sub->add_option("--model", opt->model, "Zoo model name")->default_val("resnet74");
  sub->add_option("--dataset", opt->dataset, "Dataset")->default_val("cifar100");
  sub->add_option("--epochs", opt->epochs, "Training epochs")->default_val(160);
  sub->add_option("--batch", opt->batch, "Batch size")->default_val(128);
  sub->add_option("--iterations", opt->iterations,
                  "Total iterations instead of epochs x ceil(samples/batch)");
  sub->add_option("--schedules", *schedules,
                  "Comma-separated schedules; the first is the baseline")
      ->default_val("static:8/8,progressive:3-8/8,cyclic:3-8/8");
  sub->add_option("--count", *count, "BitOPs counting convention: gemm | cpt (docs/bitops.md)")
      ->default_val("gemm");
  arch->add_to(*sub, true);
  sub->add_flag("--bitops-only", *bitops_only, "Count BitOPs only; do not simulate");
  sub->add_flag("--json", *json, "Print a JSON array, one object per (schedule, design point)");
  sub->add_flag("-q,--quiet", *quiet, "Print the table only");
  return [=]() {
    CountConvention convention = parse_count_convention(*count);
    std::vector<std::string> specs = split_schedules(*schedules);
    if (specs.empty() || specs.front().empty())
      throw InputError("--schedules: give at least one schedule, e.g. static:8/8");
    std::vector<ArchConfig> archs;
    if (!*bitops_only) archs = arch->load();

    nlohmann::json out = nlohmann::json::array();
    Table table(*bitops_only ? std::vector<std::string>{"schedule", "GBitOPs", "vs base"}
                             : std::vector<std::string>{"schedule", "design point", "GBitOPs",
                                                        "vs base", "energy", "vs base",
                                                        "latency", "vs base"});
    std::vector<double> base_energy(archs.size(), 0), base_latency(archs.size(), 0);
    double base_bitops = 0;
    for (std::size_t s = 0; s < specs.size(); ++s) {
      SynthOptions o = *opt;
      o.schedule = specs[s];
      Trace trace = synthesize(o);
      Graph graph = trace_graph(trace);
      BitopsReport bits = count_bitops(trace, graph, convention);
      double gbitops = bits.total_bitops / 1e9;
      if (s == 0) base_bitops = gbitops;
      if (*bitops_only) {
        out.push_back({{"schedule", trace.header.schedule},
                       {"model", o.model},
                       {"dataset", trace.header.dataset},
                       {"count", *count},
                       {"total_gbitops", gbitops},
                       {"total_macs", bits.total_macs}});
        table.add({trace.header.schedule, sig(gbitops), change(gbitops, base_bitops)});
        continue;
      }
      for (std::size_t a = 0; a < archs.size(); ++a) {
        EnergyTable etable = energy_table_for(archs[a]);
        nlohmann::json r = to_json(simulate_trace(trace, graph, archs[a], etable, SimOptions{}));
        double energy = r.value("energy_j", 0.0), latency = r.value("latency_s", 0.0);
        if (s == 0) {
          base_energy[a] = energy;
          base_latency[a] = latency;
        }
        out.push_back({{"schedule", trace.header.schedule},
                       {"model", o.model},
                       {"dataset", trace.header.dataset},
                       {"arch", archs[a].name},
                       {"count", *count},
                       {"total_gbitops", gbitops},
                       {"total_macs", bits.total_macs},
                       {"energy_j", energy},
                       {"latency_s", latency},
                       {"breakdown", r.value("breakdown", nlohmann::json::object())}});
        table.add({trace.header.schedule, archs[a].name, sig(gbitops),
                   change(gbitops, base_bitops), joules(energy), change(energy, base_energy[a]),
                   seconds(latency), change(latency, base_latency[a])});
      }
    }
    if (*json) {
      print_json(out);
      return 0;
    }
    if (!*quiet)
      std::cout << fmt::format("{} / {}, {} epochs, batch {}; BitOPs counted by the '{}' "
                               "convention (docs/bitops.md)\n\n",
                               opt->model, opt->dataset, opt->epochs, opt->batch, *count);
    std::cout << table.str();
    return 0;
  };
}

}  // namespace lpsim::cli
