// Helpers shared by the subcommands.
#include "tools/cli_common.h"

#include <iostream>

#include "core/atomic_file.h"

namespace lpsim::cli {

void print_json(const nlohmann::json& j, std::ostream& os) { os << j.dump(2) << "\n"; }
void print_json(const nlohmann::json& j) { print_json(j, std::cout); }

std::ostream& info_stream(const std::string& output) {
  return writes_stdout(output) ? std::cerr : std::cout;
}

void add_timing_option(CLI::App& sub, std::string& timing) {
  sub.add_option("--timing", timing,
                 "How cycles are found: systemc (each unique step on the SystemC model, ops "
                 "overlapping) or analytic (closed form per op, faster; docs/simulator.md)")
      ->check(CLI::IsMember({"systemc", "analytic"}))
      ->default_val("systemc");
}

}  // namespace lpsim::cli
