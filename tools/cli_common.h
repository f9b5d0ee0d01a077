// Helpers shared by the subcommands: number formatting, JSON printing,
// reading a model by name.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

namespace lpsim::cli {

// 1234567 -> "1.23e+06"-style with a fixed number of significant digits.
std::string sig(double value, int digits = 4);
// Percentage change of `value` against `base`, e.g. "-37.0%"; "" if base is 0.
std::string change(double value, double base);
// Engineering-unit strings for the human tables.
std::string joules(double j);
std::string seconds(double s);

// Prints `j` to `os` (stdout by default), pretty, followed by a newline.
void print_json(const nlohmann::json& j, std::ostream& os);
void print_json(const nlohmann::json& j);

// Where a command that writes `output` prints its informational lines:
// stdout, or stderr when `output` is standard output itself (-o -).
std::ostream& info_stream(const std::string& output);

// A simple aligned text table.
class Table {
 public:
  explicit Table(std::vector<std::string> header) : rows_{std::move(header)} {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  std::string str() const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

// Splits "a,b,c" on commas that are not inside a schedule's own option list:
// "static:8/8,cyclic:3-8/8,cycles=16" -> {"static:8/8", "cyclic:3-8/8,cycles=16"}
// (an item containing '=' without ':' joins the previous one).
std::vector<std::string> split_schedules(const std::string& text);

// --timing systemc|analytic (sim/replay.h, Timing), for every command that simulates.
void add_timing_option(CLI::App& sub, std::string& timing);

}  // namespace lpsim::cli
