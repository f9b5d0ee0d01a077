// Helpers shared by the subcommands: JSON printing, where informational
// lines go, the --timing option; the number and table formatting of
// study/format.h under their command-line names.
#pragma once

#include <CLI/CLI.hpp>

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

#include "study/format.h"

namespace lpsim::cli {

using study::change;
using study::eta_text;
using study::joules;
using study::seconds;
using study::sig;
using study::split_schedules;
using study::Table;

// Prints `j` to `os` (stdout by default), pretty, followed by a newline.
void print_json(const nlohmann::json& j, std::ostream& os);
void print_json(const nlohmann::json& j);

// Where a command that writes `output` prints its informational lines:
// stdout, or stderr when `output` is standard output itself (-o -).
std::ostream& info_stream(const std::string& output);

// --timing systemc|analytic (sim/replay.h, Timing), for every command that simulates.
void add_timing_option(CLI::App& sub, std::string& timing);

}  // namespace lpsim::cli
