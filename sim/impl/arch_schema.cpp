// The schema vocabulary: the checker every architecture key is read with, and
// the docs' tables rendered from the declarations (impl/arch_schema.h).
#include "sim/impl/arch_schema.h"

#include <algorithm>
#include <set>

#include "core/error.h"

namespace lpsim::schema {

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

std::string num(double v) { return fmt::format("{:g}", v); }

std::string show(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "(missing)";
  if (node.IsScalar()) return node.Scalar().empty() ? "''" : node.Scalar();
  YAML::Emitter out;
  out.SetMapFormat(YAML::Flow);
  out.SetSeqFormat(YAML::Flow);
  out << node;
  std::string s = out.c_str();
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

YAML::Node format_node(const Format& f) {
  if (f.is_float()) return YAML::Node(f.name());
  return YAML::Node(f.bits);
}

void Checker::fail(const std::string& path, const std::string& value,
                   const std::string& range) const {
  throw InputError(fmt::format("{}: {} = {}: {}", file_, path, value, range));
}

void Checker::fail(const std::string& path, const YAML::Node& node,
                   const std::string& range) const {
  fail(path, show(node), range);
}

void Checker::check_map(const YAML::Node& node, const std::string& path,
                        const std::vector<std::string>& allowed) const {
  if (!node.IsMap()) fail(path, node, "must be a mapping with keys " + join(allowed));
  std::set<std::string> seen;
  for (const auto& kv : node) {
    const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : show(kv.first);
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
      fail(child(path, key), kv.second, "unknown key; allowed here: " + join(allowed));
    // yaml-cpp keeps both entries of a repeated key and reads the first.
    if (!seen.insert(key).second)
      fail(child(path, key), kv.second, "key given twice; give it once");
  }
}

std::string Checker::child(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

std::optional<double> Checker::opt_double(const YAML::Node& parent, const std::string& key,
                                          const std::string& path, double lo, bool lo_open,
                                          double hi) const {
  const YAML::Node node = parent[key];
  if (!given(node)) return std::nullopt;
  const std::string where = child(path, key);
  const std::string range =
      fmt::format("must be a number {} {} and <= {}", lo_open ? ">" : ">=", num(lo), num(hi));
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
         fmt::format("required: a number {} {} and <= {}", lo_open ? ">" : ">=", num(lo),
                     num(hi)));
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

namespace {

// A limit as the docs write it: 1048576, 2^40, 1e8, 0.5.
std::string doc_number(double v) {
  const double l2 = std::log2(v);
  if (v >= double(1 << 24) && l2 == std::floor(l2)) return fmt::format("2^{}", int(l2));
  const double l10 = std::log10(v);
  if (v >= 1e7 && l10 == std::floor(l10)) return fmt::format("1e{}", int(l10));
  if (v == std::floor(v) && std::fabs(v) < double(1 << 24)) return fmt::format("{}", std::int64_t(v));
  return num(v);
}

}  // namespace

std::string int_range(std::int64_t lo, std::int64_t hi) {
  return doc_number(double(lo)) + ".." + doc_number(double(hi));
}

std::string number_range(double lo, bool lo_open, double hi) {
  if (lo_open) return "> " + doc_number(lo) + " and <= " + doc_number(hi);
  return doc_number(lo) + ".." + doc_number(hi);
}

std::vector<std::string> SectionInfo::names() const {
  std::vector<std::string> out;
  for (const KeyInfo* k : key_infos()) out.push_back(k->name);
  return out;
}

const KeyInfo* SectionInfo::find(const std::string& name) const {
  for (const KeyInfo* k : key_infos())
    if (k->name == name) return k;
  return nullptr;
}

std::string SectionInfo::markdown() const {
  const auto keys = key_infos();
  const bool read_by =
      std::any_of(keys.begin(), keys.end(), [](const KeyInfo* k) { return !k->read_by.empty(); });
  std::string out = "| key | type | unit | allowed | default |";
  out += read_by ? " read by |\n|---|---|---|---|---|---|\n" : "\n|---|---|---|---|---|\n";
  for (const KeyInfo* k : keys) {
    std::string allowed = k->range;
    if (!k->doc.empty()) allowed += allowed.empty() ? k->doc : ": " + k->doc;
    out += fmt::format("| `{}` | {} |{}| {} | {} |", k->name, k->type,
                       k->unit.empty() ? " " : " " + k->unit + " ", allowed, k->default_text);
    out += read_by ? " " + k->read_by + " |\n" : "\n";
  }
  return out;
}

}  // namespace lpsim::schema
