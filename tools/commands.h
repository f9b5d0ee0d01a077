// The lpsim subcommands: each file cmd_<name>.cpp adds one to the app.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace lpsim::cli {

// A subcommand registers its options on `app` and returns the action to run
// when it is the one chosen; the action returns the process exit code.
using Action = std::function<int()>;
using Register = Action (*)(CLI::App& app);

Action add_models(CLI::App& app);
Action add_synth(CLI::App& app);
Action add_bitops(CLI::App& app);
Action add_compare(CLI::App& app);
Action add_simulate(CLI::App& app);
Action add_energy_table(CLI::App& app);
Action add_train(CLI::App& app);
Action add_explore(CLI::App& app);
Action add_import(CLI::App& app);

}  // namespace lpsim::cli
