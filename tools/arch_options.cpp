// The --arch / --set options shared by simulate, compare and energy-table.
#include "tools/arch_options.h"

#include "core/input_file.h"

namespace lpsim::cli {

void ArchOptions::add_to(CLI::App& sub, bool many) {
  auto* a = sub.add_option("--arch", arch,
                           many ? "Architecture file or shipped design point name (repeatable; "
                                  "default: the built-in default design point)"
                                : "Architecture file or shipped design point name (default: the "
                                  "built-in default design point)");
  if (!many) a->expected(1);
  sub.add_option("--set", set, "Override an architecture key, e.g. --set array.rows=32 "
                               "(repeatable)");
}

std::vector<ArchConfig> ArchOptions::load() const {
  std::vector<ArchConfig> out;
  if (arch.empty()) {
    out.push_back(default_arch(set));
    return out;
  }
  for (const auto& a : arch) {
    const std::string path = resolve_arch_path(a);
    check_input_caps(path);
    out.push_back(load_arch(path, set));
  }
  return out;
}

}  // namespace lpsim::cli
