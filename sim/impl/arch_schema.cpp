// The schema vocabulary: the checker every architecture key is read with, and
// the docs' tables rendered from the declarations (impl/arch_schema.h).
#include "sim/impl/arch_schema.h"

#include <algorithm>

namespace lpsim::schema {

YAML::Node format_node(const Format& f) {
  if (f.is_float()) return YAML::Node(f.name());
  return YAML::Node(f.bits);
}

namespace {

// A limit as the docs write it: 1048576, 2^40, 1e8, 0.5.
std::string doc_number(double v) {
  const double l2 = std::log2(v);
  if (v >= double(1 << 24) && l2 == std::floor(l2)) return fmt::format("2^{}", int(l2));
  const double l10 = std::log10(v);
  if (v >= 1e7 && l10 == std::floor(l10)) return fmt::format("1e{}", int(l10));
  if (v == std::floor(v) && std::fabs(v) < double(1 << 24))
    return fmt::format("{}", std::int64_t(v));
  return config_number(v);
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
