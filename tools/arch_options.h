// The --arch / --set options shared by simulate, compare and energy-table.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "sim/arch.h"

namespace lpsim::cli {

struct ArchOptions {
  std::vector<std::string> arch;  // file paths or shipped names; empty = the default point
  std::vector<std::string> set;   // key=value overrides, applied to every design point

  void add_to(CLI::App& sub, bool many);
  // The design points the user named (the default one if none).
  std::vector<ArchConfig> load() const;
};

}  // namespace lpsim::cli
