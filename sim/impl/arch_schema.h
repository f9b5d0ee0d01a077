// The architecture file's schema, declared once: each key's name, type, unit,
// range and doc line, with how it is read into its struct and written back.
// Parsing (load_arch), --set, arch_to_yaml (and so the cost cache's design
// fingerprint) and the tables of docs/architecture.md all read these
// declarations (sim/arch_config.cpp); each PE type declares its own keys in
// its own file (impl/pe_<type>.cpp, registered in sim/pe.cpp).
#pragma once

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/config_check.h"
#include "sim/arch.h"

namespace lpsim {
class PeModel;
struct EnergyTable;
}  // namespace lpsim

namespace lpsim::schema {

YAML::Node format_node(const Format&);  // 8, or "fp16": as arch_to_yaml writes a format

// What may follow a key in a --set path: nothing (a leaf), a list index, any
// key (pe.packing), or the keys of a section.
enum class Shape { Leaf, List, FreeMap, Map };

struct SectionInfo;

// One key, as the docs and --set see it.
struct KeyInfo {
  std::string name{};
  std::string type{};   // "integer", "number", "bool", "string", "mapping", "list of roles", ...
  std::string unit{};   // "" when it has none
  std::string range{};  // the values the parser accepts (numbers: from its checked range)
  std::string doc{};    // what the key means, one line
  std::string default_text = "—";  // "—": required
  std::string read_by{};           // pe keys: the PE type that reads it ("all")
  Shape shape = Shape::Leaf;
  Shape item = Shape::Leaf;              // List: what each entry is (Leaf or Map)
  const SectionInfo* section = nullptr;  // Map, or List of Map: the entries' keys
};

struct SectionInfo {
  virtual ~SectionInfo() = default;
  virtual std::vector<const KeyInfo*> key_infos() const = 0;
  std::vector<std::string> names() const;
  const KeyInfo* find(const std::string& name) const;
  // The section's markdown table (docs/architecture.md): key, type, unit,
  // allowed, default (and "read by" where a key says who reads it).
  std::string markdown() const;
};

// One key of a section whose values fill an S. `parse` reads it (with the
// design point read so far, keys before it, for cross-checks); null when
// another key's parse reads it too (its doc says which). `emit` writes it back
// (null: never written). A `late` key is read after the section's other keys,
// in declaration order, so that a file with several errors still reports the
// one it always did.
template <class S>
struct Key {
  KeyInfo info;
  std::function<void(const Checker&, const YAML::Node& map, const std::string& path, S&,
                     const ArchConfig& so_far)>
      parse{};
  std::function<void(YAML::Emitter&, const S&)> emit{};
  bool late = false;
};

template <class S>
struct Section final : SectionInfo {
  std::vector<Key<S>> keys;
  bool flow = false;  // written as a flow mapping {a: 1, b: 2}

  std::vector<const KeyInfo*> key_infos() const override {
    std::vector<const KeyInfo*> out;
    for (const auto& k : keys) out.push_back(&k.info);
    return out;
  }
  void parse(const Checker& c, const YAML::Node& node, const std::string& path, S& s,
             const ArchConfig& so_far) const {
    c.check_map(node, path, names());
    for (const bool late : {false, true})
      for (const auto& k : keys)
        if (k.late == late && k.parse) k.parse(c, node, path, s, so_far);
  }
  void emit(YAML::Emitter& out, const S& s) const {
    if (flow) out << YAML::Flow;
    out << YAML::BeginMap;
    for (const auto& k : keys)
      if (k.emit) k.emit(out, s);
    out << YAML::EndMap;
  }
};

// ---- Declaring the common kinds of key --------------------------------------

enum class Need { Required, Optional };  // Optional: absent leaves the struct's default
enum class Write { Always, IfNotDefault, Never };

std::string int_range(std::int64_t lo, std::int64_t hi);
std::string number_range(double lo, bool lo_open, double hi);

template <class S, class T>
std::function<void(YAML::Emitter&, const S&)> emitter(const char* name, T S::*field, Write w) {
  if (w == Write::Never) return nullptr;
  return [name, field, w](YAML::Emitter& out, const S& s) {
    if (w == Write::IfNotDefault && s.*field == S{}.*field) return;
    out << YAML::Key << name << YAML::Value << s.*field;
  };
}

// An integer lo..hi (int or int64 field).
template <class S, class T>
Key<S> integer(const char* name, T S::*field, std::int64_t lo, std::int64_t hi, KeyInfo info,
               Need need = Need::Optional, Write w = Write::Always) {
  info.name = name;
  info.type = "integer";
  info.range = int_range(lo, hi);
  Key<S> k{std::move(info), nullptr, emitter(name, field, w)};
  k.parse = [=](const Checker& c, const YAML::Node& n, const std::string& path, S& s,
                const ArchConfig&) {
    if (need == Need::Required)
      s.*field = T(c.req_int(n, name, path, lo, hi));
    else if (auto v = c.opt_int(n, name, path, lo, hi))
      s.*field = T(*v);
  };
  return k;
}

// A finite number in (lo or [lo, hi]; `fallback` when absent, if given.
template <class S>
Key<S> number(const char* name, double S::*field, double lo, bool lo_open, double hi, KeyInfo info,
              Need need = Need::Optional, Write w = Write::Always,
              std::optional<double> fallback = std::nullopt) {
  info.name = name;
  info.type = "number";
  info.range = number_range(lo, lo_open, hi);
  Key<S> k{std::move(info), nullptr, emitter(name, field, w)};
  k.parse = [=](const Checker& c, const YAML::Node& n, const std::string& path, S& s,
                const ArchConfig&) {
    if (need == Need::Required)
      s.*field = c.req_double(n, name, path, lo, lo_open, hi);
    else if (auto v = c.opt_double(n, name, path, lo, lo_open, hi))
      s.*field = *v;
    else if (fallback)
      s.*field = *fallback;
  };
  return k;
}

template <class S>
Key<S> boolean(const char* name, bool S::*field, KeyInfo info, Write w = Write::Always) {
  info.name = name;
  info.type = "bool";
  if (info.doc.empty()) info.range = "`true` or `false`";  // else the doc says what each means
  Key<S> k{std::move(info), nullptr, emitter(name, field, w)};
  k.parse = [=](const Checker& c, const YAML::Node& n, const std::string& path, S& s,
                const ArchConfig&) {
    if (auto v = c.opt_bool(n, name, path)) s.*field = *v;
  };
  return k;
}

// One of named values of an enum (or string) field.
template <class S, class E>
Key<S> choice(const char* name, E S::*field,
              std::type_identity_t<std::vector<std::pair<std::string, E>>> values, KeyInfo info,
              Need need = Need::Optional, Write w = Write::Always) {
  std::vector<std::string> names;
  for (const auto& v : values) names.push_back(v.first);
  info.name = name;
  info.type = "string";
  info.range = "`" + join(names, "`, `") + "`";
  Key<S> k{std::move(info), nullptr, nullptr};
  k.parse = [=](const Checker& c, const YAML::Node& n, const std::string& path, S& s,
                const ArchConfig&) {
    if (need == Need::Optional && !given(n[name])) return;
    const std::string v = c.req_choice(n, name, path, names);
    for (const auto& [text, e] : values)
      if (text == v) s.*field = e;
  };
  if (w != Write::Never)
    k.emit = [=](YAML::Emitter& out, const S& s) {
      if (w == Write::IfNotDefault && s.*field == S{}.*field) return;
      for (const auto& [text, e] : values)
        if (e == s.*field) out << YAML::Key << name << YAML::Value << text;
    };
  return k;
}

// ---- PE types ------------------------------------------------------------------

// A PE type as its file impl/pe_<type>.cpp describes it: the pe.type name, its
// model and its own keys. sim/pe.cpp's registry lists them, one line each.
using PeKeys = std::vector<Key<PeConfig>>;
struct PeType {
  const char* name;
  std::unique_ptr<PeModel> (*make)(const PeConfig&, const EnergyTable&);
  PeKeys (*keys)();
};
// The registered PE types (sim/pe.cpp), in documentation order.
const std::vector<PeType>& pe_types();
// PeType::make of a model class constructed from (config, table).
template <class Model>
std::unique_ptr<PeModel> make_model(const PeConfig& config, const EnergyTable& table) {
  return std::make_unique<Model>(config, table);
}

}  // namespace lpsim::schema
