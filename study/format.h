// Number and table formatting: the units and layout of every human-readable
// table lpsim prints (compare, simulate, bitops, models, explore).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace lpsim::study {

// 1234567 -> "1.23e+06"-style with a fixed number of significant digits.
std::string sig(double value, int digits = 4);
// Percentage change of `value` against `base`, e.g. "-37.0%"; "" if base is 0.
std::string change(double value, double base);
// Engineering-unit strings for the human tables.
std::string joules(double j);
std::string seconds(double s);
// A time left for a progress line: "4m07s", or "2h05m" from an hour on.
std::string eta_text(double s);

// A simple aligned text table: numeric columns right-aligned, a rule under
// the header.
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

// CSV fields: quoted when they hold a comma, quote or newline (RFC 4180).
std::string csv_field(const std::string& text);
std::vector<std::string> csv_split(const std::string& line);

}  // namespace lpsim::study
