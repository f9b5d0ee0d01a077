// lpsim: the command line. Exit codes: 0 ok, 2 bad input, 1 internal error.
#include <cstdio>
#include <exception>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "core/error.h"
#include "tools/commands.h"

int main(int argc, char** argv) {
  using namespace lpsim;
  CLI::App app{"lpsim: what does training this network, with this precision schedule, cost on "
               "this accelerator? BitOPs, energy, latency, accuracy.\n"
               "Exit codes: 0 ok, 2 bad input, 1 internal error."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "lpsim 0.1.0");
  std::vector<std::pair<CLI::App*, cli::Action>> actions;
  for (cli::Register reg : {cli::add_models, cli::add_synth, cli::add_bitops, cli::add_compare,
                            cli::add_simulate, cli::add_energy_table, cli::add_train, cli::add_explore}) {
    std::size_t before = app.get_subcommands({}).size();
    cli::Action action = reg(app);
    actions.emplace_back(app.get_subcommands({}).at(before), std::move(action));
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "lpsim: %s\n", e.what());
    return 2;
  }
  try {
    for (auto& [sub, action] : actions)
      if (sub->parsed()) return action();
    return 2;
  } catch (const InputError& e) {
    std::fprintf(stderr, "lpsim: %s\n", e.what());
    return 2;
  } catch (const InternalError& e) {
    std::fprintf(stderr, "lpsim: internal error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lpsim: internal error: %s\n", e.what());
    return 1;
  }
}
