// The PE registry: the pe.type name of an architecture file -> its model and
// its own keys of the architecture schema. Adding a PE type is one file in
// impl/ plus one line here.
#include "sim/pe.h"

#include <fmt/format.h>

#include "core/error.h"
#include "sim/impl/arch_schema.h"

namespace lpsim {

// Defined in impl/pe_<type>.cpp; docs/architecture.md gives their formulas.
std::unique_ptr<PeModel> make_fixed_pe(const PeConfig&, const EnergyTable&);
std::unique_ptr<PeModel> make_bit_serial_pe(const PeConfig&, const EnergyTable&);
std::unique_ptr<PeModel> make_bit_fusion_pe(const PeConfig&, const EnergyTable&);
std::unique_ptr<PeModel> make_multi_pass_pe(const PeConfig&, const EnergyTable&);
namespace schema {
PeKeys fixed_pe_keys();
PeKeys bit_serial_pe_keys();
PeKeys bit_fusion_pe_keys();
PeKeys multi_pass_pe_keys();
}  // namespace schema

namespace {

struct PeType {
  const char* name;
  std::unique_ptr<PeModel> (*make)(const PeConfig&, const EnergyTable&);
  schema::PeKeys (*keys)();
};

constexpr PeType kRegistry[] = {
    {"fixed", &make_fixed_pe, &schema::fixed_pe_keys},
    {"bit_serial", &make_bit_serial_pe, &schema::bit_serial_pe_keys},
    {"bit_fusion", &make_bit_fusion_pe, &schema::bit_fusion_pe_keys},
    {"multi_pass", &make_multi_pass_pe, &schema::multi_pass_pe_keys},
};

}  // namespace

const std::vector<std::string>& pe_type_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& e : kRegistry) v.emplace_back(e.name);
    return v;
  }();
  return names;
}

std::vector<schema::PeTypeKeys> schema::pe_type_keys() {
  std::vector<PeTypeKeys> out;
  for (const auto& e : kRegistry) out.push_back({e.name, e.keys()});
  return out;
}

std::unique_ptr<PeModel> make_pe(const PeConfig& config, const EnergyTable& table) {
  for (const auto& e : kRegistry)
    if (config.type == e.name) return e.make(config, table);
  throw InputError(fmt::format("pe.type = {}: unknown PE type: must be one of {}",
                               config.type.empty() ? "''" : config.type,
                               join(pe_type_names(), " | ")));
}

}  // namespace lpsim
