// Number and table formatting shared by the study formatters and the
// command line.
#include "study/format.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>

namespace lpsim::study {

std::string sig(double value, int digits) {
  if (value == 0) return "0";
  double mag = std::fabs(value);
  if (mag >= 1e-3 && mag < 1e6) return fmt::format("{:.{}g}", value, digits);
  return fmt::format("{:.{}e}", value, digits - 1);
}

std::string change(double value, double base) {
  if (base == 0) return "";
  return fmt::format("{:+.1f}%", 100.0 * (value - base) / base);
}

namespace {
std::string with_unit(double v, const char* unit) {
  struct P {
    double scale;
    const char* prefix;
  };
  static const P prefixes[] = {{1e9, "G"},  {1e6, "M"},  {1e3, "k"},  {1, ""},
                               {1e-3, "m"}, {1e-6, "u"}, {1e-9, "n"}, {1e-12, "p"}};
  if (v == 0) return fmt::format("0 {}", unit);
  for (const auto& p : prefixes)
    if (std::fabs(v) >= p.scale) return fmt::format("{:.4g} {}{}", v / p.scale, p.prefix, unit);
  return fmt::format("{:.4g} {}", v, unit);
}
}  // namespace

std::string joules(double j) { return with_unit(j, "J"); }

std::string eta_text(double s) {
  const auto t = static_cast<long long>(std::llround(std::max(0.0, s)));
  return t >= 3600 ? fmt::format("{}h{:02}m", t / 3600, (t % 3600) / 60)
                   : fmt::format("{}m{:02}s", t / 60, t % 60);
}

std::string seconds(double s) {
  if (s >= 3600) return fmt::format("{:.4g} h", s / 3600);
  return with_unit(s, "s");
}

namespace {
bool looks_numeric(const std::string& cell) {
  return !cell.empty() && (std::isdigit(static_cast<unsigned char>(cell[0])) || cell[0] == '-' ||
                           cell[0] == '+' || cell[0] == '.');
}
}  // namespace

std::string Table::str() const {
  std::vector<std::size_t> width;
  std::vector<bool> numeric_column;
  for (const auto& row : rows_) {
    if (width.size() < row.size()) width.resize(row.size(), 0);
    for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  // A column is numeric (right-aligned, header too) when all its data cells are.
  numeric_column.assign(width.size(), rows_.size() > 1);
  for (std::size_t r = 1; r < rows_.size(); ++r)
    for (std::size_t i = 0; i < rows_[r].size(); ++i)
      if (!rows_[r][i].empty() && !looks_numeric(rows_[r][i])) numeric_column[i] = false;
  std::string out;
  for (std::size_t r = 0; r < rows_.size(); ++r) {
    for (std::size_t i = 0; i < rows_[r].size(); ++i) {
      const std::string& cell = rows_[r][i];
      std::string sep = i == 0 ? "" : "  ";
      if (numeric_column[i])
        out += fmt::format("{}{:>{}}", sep, cell, width[i]);
      else if (i + 1 == rows_[r].size())
        out += sep + cell;  // no trailing spaces after a text column at the end
      else
        out += fmt::format("{}{:<{}}", sep, cell, width[i]);
    }
    out += "\n";
    if (r == 0) {
      std::size_t total = 0;
      for (auto w : width) total += w + 2;
      out += std::string(total - 2, '-') + "\n";
    }
  }
  return out;
}

std::vector<std::string> split_schedules(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    std::string item =
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    bool is_option = item.find('=') != std::string::npos && item.find(':') == std::string::npos;
    // muppet:8,12,14,16 lists widths after its colon: bare numbers join it too.
    bool is_level = !item.empty() && item.find_first_not_of("0123456789") == std::string::npos &&
                    !out.empty() && out.back().starts_with("muppet:");
    if ((is_option || is_level) && !out.empty())
      out.back() += "," + item;
    else
      out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  std::string out = "\"";
  for (char ch : text) {
    if (ch == '"') out += '"';
    out += ch;
  }
  return out + "\"";
}

std::vector<std::string> csv_split(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char ch = line[i];
    if (quoted) {
      if (ch == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        out.back() += '"';
        ++i;
      } else if (ch == '"') {
        quoted = false;
      } else {
        out.back() += ch;
      }
    } else if (ch == '"') {
      quoted = true;
    } else if (ch == ',') {
      out.emplace_back();
    } else {
      out.back() += ch;
    }
  }
  return out;
}

}  // namespace lpsim::study
