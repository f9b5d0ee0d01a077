// `lpsim models`: the zoo, one line each with forward MACs and parameters.
#include <iostream>

#include <fmt/format.h>

#include "models/training_step.h"
#include "models/zoo.h"
#include "tools/cli_common.h"
#include "tools/commands.h"

namespace lpsim::cli {

Action add_models(CLI::App& app) {
  auto* sub = app.add_subcommand("models", "List the model zoo: forward MACs and parameters per "
                                           "sample.\nExample: lpsim models --json");
  auto json = std::make_shared<bool>(false);
  sub->add_flag("--json", *json, "Print a JSON array");
  return [json]() {
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
