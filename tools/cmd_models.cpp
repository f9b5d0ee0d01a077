// `lpsim models`: the zoo, one line each with forward MACs and parameters;
// `lpsim models FILE` the same figures for one graph file (or zoo name).
#include <fmt/format.h>

#include <iostream>

#include "models/model_source.h"
#include "models/training_step.h"
#include "models/zoo.h"
#include "tools/cli_common.h"
#include "tools/commands.h"

namespace lpsim::cli {

Action add_models(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "models",
      "List the model zoo: forward MACs and parameters per sample; with a graph file (or a "
      "zoo name), that network's.\nExamples: lpsim models --json\n  lpsim models net.yaml");
  auto json = std::make_shared<bool>(false);
  auto model = std::make_shared<std::string>();
  sub->add_option("model", *model,
                  "Graph file (.json, .yaml, .yml, e.g. written by `lpsim import`) or zoo name");
  sub->add_flag("--json", *json, "Print a JSON array (with a model: one JSON object)");
  return [json, model]() {
    if (!model->empty()) {
      // One network: its own figures, the dataset only where it names one.
      const ModelSource src = load_model(*model, "", false);
      const NetworkStats s = network_stats(src.graph);
      std::int64_t layers = 0;
      for (int i = 0; i < src.graph.size(); ++i)
        layers += src.graph.layer(i).kind != LayerKind::Input;
      if (*json) {
        print_json({{"model", *model},
                    {"name", src.graph.name()},
                    {"dataset", src.dataset},
                    {"layers", layers},
                    {"forward_macs", s.forward_macs},
                    {"training_macs", s.training_macs},
                    {"parameters", s.parameters}});
      } else {
        Table table({"model", "dataset", "layers", "forward MMACs", "params (M)"});
        table.add({*model, src.dataset.empty() ? "-" : src.dataset, std::to_string(layers),
                   fmt::format("{:.2f}", s.forward_macs / 1e6),
                   fmt::format("{:.3f}", s.parameters / 1e6)});
        std::cout << table.str();
        std::cout << fmt::format("forward MACs {} and parameters {} per sample\n", s.forward_macs,
                                 s.parameters);
      }
      return 0;
    }
    nlohmann::json out = nlohmann::json::array();
    Table table({"model", "dataset", "forward MMACs", "params (M)", "description"});
    for (const auto& entry : zoo()) {
      Graph g = make_model(entry.name, entry.dataset);
      NetworkStats s = network_stats(g);
      out.push_back({{"name", entry.name},
                     {"dataset", entry.dataset},
                     {"forward_macs", s.forward_macs},
                     {"parameters", s.parameters},
                     {"description", entry.description}});
      table.add({entry.name, entry.dataset, fmt::format("{:.2f}", s.forward_macs / 1e6),
                 fmt::format("{:.3f}", s.parameters / 1e6), entry.description});
    }
    if (*json)
      print_json(out);
    else
      std::cout << table.str();
    return 0;
  };
}

}  // namespace lpsim::cli
