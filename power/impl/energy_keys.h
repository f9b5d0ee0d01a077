// The keys of an energy table: unit, built-in value and source, how node
// scaling treats each. One list, so horowitz45(), the YAML reader and the
// printer cannot disagree.
#pragma once

#include <string>
#include <vector>

namespace lpsim::impl {

enum class NodeScalingKind { Energy, Area, None };

struct EnergyKeyInfo {
  std::string key;
  std::string unit;
  double builtin_value;
  std::string builtin_source;
  NodeScalingKind scaling;
};

// In print order; equals power/tables/horowitz45.yaml (a test checks it).
const std::vector<EnergyKeyInfo>& energy_key_info();

}  // namespace lpsim::impl
