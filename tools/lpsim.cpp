// lpsim: the command line. Exit codes: 0 ok, 2 bad input, 1 internal error.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "core/error.h"
#include "tools/commands.h"

namespace {

// What went to stdout through std::cout or printf must have arrived: a full
// disk or a closed pipe behind stdout is an error, not "done".
int finish_stdout(int code) {
  std::cout.flush();
  if (!std::cout.fail() && std::fflush(stdout) == 0 && !std::ferror(stdout)) return code;
  std::fprintf(stderr, "lpsim: standard output: write failed: %s\n",
               errno != 0 ? std::strerror(errno) : "stream error");
  return code != 0 ? code : 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace lpsim;
  CLI::App app{
      "lpsim: what does training this network, with this precision schedule, cost on "
      "this accelerator? BitOPs, energy, latency, accuracy.\n"
      "Exit codes: 0 ok, 2 bad input, 1 internal error."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "lpsim 0.1.0");
  std::vector<std::pair<CLI::App*, cli::Action>> actions;
  for (cli::Register reg :
       {cli::add_models, cli::add_synth, cli::add_bitops, cli::add_compare, cli::add_simulate,
        cli::add_energy_table, cli::add_train, cli::add_explore, cli::add_import}) {
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
    std::fprintf(stderr, "lpsim: %s\n", one_line(e.what()).c_str());
    return 2;
  }
  try {
    for (auto& [sub, action] : actions)
      if (sub->parsed()) return finish_stdout(action());
    return 2;
  } catch (const InputError& e) {
    std::fprintf(stderr, "lpsim: %s\n", one_line(e.what()).c_str());
    return 2;
  } catch (const InternalError& e) {
    std::fprintf(stderr, "lpsim: internal error: %s\n", one_line(e.what()).c_str());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lpsim: internal error: %s\n", one_line(e.what()).c_str());
    return 1;
  }
}
