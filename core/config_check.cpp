// Checking YAML configuration files: the one-line messages of core/config_check.h.
#include "core/config_check.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "core/error.h"

namespace lpsim {

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

std::string config_number(double v) { return fmt::format("{:g}", v); }

std::string show(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "(missing)";
  if (node.IsScalar()) return node.Scalar().empty() ? "''" : node.Scalar();
  YAML::Emitter out;
  out.SetMapFormat(YAML::Flow);
  out.SetSeqFormat(YAML::Flow);
  out << node;
  return out.c_str();
}

std::string show_short(const YAML::Node& node) {
  std::string s = show(node);
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

void Checker::fail(const std::string& path, const std::string& value,
                   const std::string& range) const {
  throw InputError(fmt::format("{}: {} = {}: {}", file_, path, value, range));
}

void Checker::fail(const std::string& path, const YAML::Node& node,
                   const std::string& range) const {
  fail(path, show_short(node), range);
}

void Checker::check_map(const YAML::Node& node, const std::string& path,
                        const std::vector<std::string>& allowed, const std::string& what) const {
  if (!node.IsMap())
    fail(path.empty() ? "(top level)" : path, node,
         "must be " + (what.empty() ? "a mapping with keys " + join(allowed) : what));
  std::set<std::string> seen;
  for (const auto& kv : node) {
    const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : show_short(kv.first);
    if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), key) == allowed.end())
      fail(child(path, key), kv.second, "unknown key; allowed here: " + join(allowed));
    // yaml-cpp keeps both entries of a repeated key and reads the first.
    if (!seen.insert(key).second)
      fail(child(path, key), kv.second, "key given twice; give it once");
  }
}

std::string Checker::child(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

double Checker::number(const YAML::Node& node, const std::string& where,
                       const std::string& range) const {
  double v = 0;
  if (!node.IsScalar() || !YAML::convert<double>::decode(node, v) || !std::isfinite(v))
    fail(where, node, range);
  return v;
}

std::optional<double> Checker::opt_double(const YAML::Node& parent, const std::string& key,
                                          const std::string& path, double lo, bool lo_open,
                                          double hi) const {
  const YAML::Node node = parent[key];
  if (!given(node)) return std::nullopt;
  const std::string where = child(path, key);
  const std::string range = fmt::format("must be a number {} {} and <= {}",
                                        lo_open ? ">" : ">=", config_number(lo), config_number(hi));
  double v = 0;
  if (!node.IsScalar() || !YAML::convert<double>::decode(node, v)) fail(where, node, range);
  if (!std::isfinite(v) || (lo_open ? v <= lo : v < lo) || v > hi) fail(where, node, range);
  return v;
}

double Checker::req_double(const YAML::Node& parent, const std::string& key,
                           const std::string& path, double lo, bool lo_open, double hi) const {
  auto v = opt_double(parent, key, path, lo, lo_open, hi);
  if (!v)
    fail(child(path, key), parent[key],
         fmt::format("required: a number {} {} and <= {}", lo_open ? ">" : ">=", config_number(lo),
                     config_number(hi)));
  return *v;
}

std::optional<std::int64_t> Checker::opt_int(const YAML::Node& parent, const std::string& key,
                                             const std::string& path, std::int64_t lo,
                                             std::int64_t hi) const {
  const YAML::Node node = parent[key];
  if (!given(node)) return std::nullopt;
  const std::string where = child(path, key);
  const std::string range = fmt::format("must be an integer {}..{}", lo, hi);
  long long v = 0;
  if (!node.IsScalar() || !YAML::convert<long long>::decode(node, v)) fail(where, node, range);
  if (v < lo || v > hi) fail(where, node, range);
  return v;
}

std::int64_t Checker::req_int(const YAML::Node& parent, const std::string& key,
                              const std::string& path, std::int64_t lo, std::int64_t hi) const {
  auto v = opt_int(parent, key, path, lo, hi);
  if (!v) fail(child(path, key), parent[key], fmt::format("required: an integer {}..{}", lo, hi));
  return *v;
}

std::optional<std::string> Checker::opt_string(const YAML::Node& parent, const std::string& key,
                                               const std::string& path,
                                               const std::string& range) const {
  const YAML::Node node = parent[key];
  if (!given(node)) return std::nullopt;
  if (!node.IsScalar() || node.Scalar().empty()) fail(child(path, key), node, range);
  return node.Scalar();
}

std::string Checker::req_choice(const YAML::Node& parent, const std::string& key,
                                const std::string& path,
                                const std::vector<std::string>& choices) const {
  const std::string range = "must be one of " + join(choices, " | ");
  auto v = opt_string(parent, key, path, range);
  if (!v) fail(child(path, key), parent[key], "required: one of " + join(choices, " | "));
  if (std::find(choices.begin(), choices.end(), *v) == choices.end())
    fail(child(path, key), parent[key], range);
  return *v;
}

std::optional<bool> Checker::opt_bool(const YAML::Node& parent, const std::string& key,
                                      const std::string& path) const {
  const YAML::Node node = parent[key];
  if (!given(node)) return std::nullopt;
  bool v = false;
  if (!node.IsScalar() || !YAML::convert<bool>::decode(node, v))
    fail(child(path, key), node, "must be true or false");
  return v;
}

Format Checker::format(const YAML::Node& node, const std::string& where) const {
  const std::string range = fmt::format(
      "must be an integer width {}..{} or one of fp32, fp16, bf16, fp8-e4m3, "
      "fp8-e5m2, e<E>m<M>",
      kMinBits, kMaxBits);
  if (!node.IsScalar()) fail(where, node, range);
  try {
    return parse_format(node.Scalar(), where);
  } catch (const InputError&) {
    fail(where, node, range);
  }
}

}  // namespace lpsim
