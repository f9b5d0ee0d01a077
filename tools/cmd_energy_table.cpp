// `lpsim energy-table`: the effective energy table of a design point.
#include <iostream>

#include <fmt/format.h>

#include "power/energy_table.h"
#include "sim/replay.h"
#include "tools/arch_options.h"
#include "tools/cli_common.h"
#include "tools/commands.h"

namespace lpsim::cli {

Action add_energy_table(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "energy-table",
      "Print the effective energy table (built-in Horowitz 45 nm, the arch's override file, "
      "scaled to the arch's technology node; docs/energy.md).\n"
      "Example: lpsim energy-table --arch bit_fusion --json");
  auto arch = std::make_shared<ArchOptions>();
  auto json = std::make_shared<bool>(false);
  arch->add_to(*sub, false);
  sub->add_flag("--json", *json, "Print a JSON object");
  return [arch, json]() {
    ArchConfig a = arch->load().front();
    EnergyTable t = energy_table_for(a);
    if (*json) {
      nlohmann::json rows = nlohmann::json::array();
      for (const auto& r : energy_table_rows(t))
        rows.push_back({{"key", r.key}, {"value", r.value}, {"unit", r.unit}, {"source", r.source}});
      print_json({{"arch", a.name},
                  {"source", t.source},
                  {"node_nm", t.node_nm},
                  {"voltage_v", t.voltage_v},
                  {"entries", rows},
                  {"derived",
                   {{"int8_mac_pj", t.mac_pj(Format::integer(8), Format::integer(8))},
                    {"int4_mac_pj", t.mac_pj(Format::integer(4), Format::integer(4))},
                    {"fp16_mac_pj", t.mac_pj(Format::floating(5, 10), Format::floating(5, 10))},
                    {"fp32_mac_pj", t.mac_pj(Format::fp32(), Format::fp32())},
                    {"dram_pj_per_bit", t.dram_pj_per_bit()}}}});
      return 0;
    }
    std::cout << fmt::format("energy table for design point '{}' ({})\n\n", a.name, a.source);
    std::cout << format_energy_table(t);
    return 0;
  };
}

}  // namespace lpsim::cli
