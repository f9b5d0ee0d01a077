// The PE registry: the pe.type name of an architecture file -> its model.
// Adding a PE type is one file in impl/ plus one line here.
#include "sim/pe.h"

#include <fmt/format.h>

#include "core/error.h"

namespace lpsim {

// Defined in impl/pe_<type>.cpp; docs/architecture.md gives their formulas.
std::unique_ptr<PeModel> make_fixed_pe(const PeConfig&, const EnergyTable&);
std::unique_ptr<PeModel> make_bit_serial_pe(const PeConfig&, const EnergyTable&);
std::unique_ptr<PeModel> make_bit_fusion_pe(const PeConfig&, const EnergyTable&);
std::unique_ptr<PeModel> make_multi_pass_pe(const PeConfig&, const EnergyTable&);

std::unique_ptr<PeModel> make_pe(const PeConfig& config, const EnergyTable& table) {
  using Factory = std::unique_ptr<PeModel> (*)(const PeConfig&, const EnergyTable&);
  struct Entry {
    const char* name;
    Factory make;
  };
  static constexpr Entry kRegistry[] = {{"fixed", &make_fixed_pe},
                                        {"bit_serial", &make_bit_serial_pe},
                                        {"bit_fusion", &make_bit_fusion_pe},
                                        {"multi_pass", &make_multi_pass_pe}};
  for (const auto& e : kRegistry)
    if (config.type == e.name) return e.make(config, table);
  throw InputError(
      fmt::format("pe.type = {}: unknown PE type: must be one of fixed | bit_serial "
                  "| bit_fusion | multi_pass",
                  config.type.empty() ? "''" : config.type));
}

}  // namespace lpsim
