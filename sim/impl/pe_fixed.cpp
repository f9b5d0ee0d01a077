// Fixed-width PE: a datapath per native format, one MAC per cycle, plus any
// declared packing (e.g. INT4 at 2x on an INT8 path, like tensor cores).
// An op runs at the narrowest path that holds both operands (docs/architecture.md).
#include <fmt/format.h>

#include <algorithm>
#include <tuple>

#include "core/error.h"
#include "sim/impl/arch_schema.h"
#include "sim/pe.h"

namespace lpsim {

namespace {

// Whether a datapath of format `path` represents every value of `f` exactly.
// A b-bit signed integer spans -2^(b-1)..2^(b-1)-1: a float path holds it when
// its significand (man_bits + 1 with the hidden bit) reaches 2^(b-1), i.e.
// b <= man_bits + 2, and its exponent range reaches 2^(b-1).
bool holds(const Format& path, const Format& f) {
  if (!f.is_float()) {
    if (!path.is_float()) return path.bits >= f.bits;
    const int max_exp = (1 << (path.exp_bits - 1)) - 1;
    return f.bits <= path.man_bits + 2 && f.bits - 1 <= max_exp;
  }
  return path.is_float() && path.exp_bits >= f.exp_bits && path.man_bits >= f.man_bits;
}

struct Path {
  Format format;
  double macs_per_cycle;
};

std::string list_formats(const std::vector<Path>& paths) {
  std::string out;
  for (const auto& p : paths) {
    if (!out.empty()) out += ", ";
    out += p.format.name();
    if (p.macs_per_cycle != 1) out += fmt::format(" (x{:g})", p.macs_per_cycle);
  }
  return out;
}

class FixedPe final : public PeModel {
 public:
  FixedPe(const PeConfig& config, const EnergyTable& table) : table_(table) {
    if (config.native_formats.empty() && config.packed_rates.empty())
      throw InputError("pe.native_formats = []: a fixed PE needs at least one native format");
    for (const auto& f : config.native_formats) paths_.push_back({f, 1.0});
    for (const auto& [f, rate] : config.packed_rates) {
      // An init-capture: clang 14 (the fuzz build) cannot capture a structured binding.
      auto it = std::find_if(paths_.begin(), paths_.end(),
                             [&format = f](const Path& p) { return p.format == format; });
      if (it != paths_.end())
        it->macs_per_cycle = rate;
      else
        paths_.push_back({f, rate});
    }
    // Preference: integer paths before float paths (an int op runs on a float
    // path only when no int path fits), then narrowest, then fastest.
    std::sort(paths_.begin(), paths_.end(), [](const Path& x, const Path& y) {
      return std::make_tuple(x.format.is_float(), x.format.bits, -x.macs_per_cycle, x.format) <
             std::make_tuple(y.format.is_float(), y.format.bits, -y.macs_per_cycle, y.format);
    });
    // The reference width of energy_pj_per_mac and area_um2: the widest native path.
    reference_ = config.native_formats.empty() ? paths_.back().format : config.native_formats[0];
    for (const auto& f : config.native_formats)
      if (std::make_tuple(f.bits, f.is_float()) >
          std::make_tuple(reference_.bits, reference_.is_float()))
        reference_ = f;
    energy_scale_ = config.energy_pj_per_mac > 0
                        ? config.energy_pj_per_mac / table_.mac_pj(reference_, reference_)
                        : 1.0;
    area_um2_ = config.area_um2 > 0 ? config.area_um2 : table_.mac_area_um2(reference_, reference_);
  }

  PeThroughput at(const Format& a, const Format& b) const override {
    for (const auto& p : paths_) {
      if (!holds(p.format, a) || !holds(p.format, b)) continue;
      PeThroughput t;
      t.macs_per_cycle = p.macs_per_cycle;
      t.run_a = t.run_b = p.format;
      t.energy_pj_per_mac = energy_scale_ * table_.mac_pj(p.format, p.format);
      return t;
    }
    throw InputError(fmt::format(
        "pe.type fixed cannot run {} x {}: no datapath holds both operands; its formats: {} "
        "(an integer runs on a float path only if the significand holds it)",
        a.name(), b.name(), list_formats(paths_)));
  }

  double area_um2() const override { return area_um2_; }

 private:
  EnergyTable table_;
  std::vector<Path> paths_;
  Format reference_;
  double energy_scale_ = 1;
  double area_um2_ = 0;
};

}  // namespace

// pe.native_formats and pe.packing (docs/architecture.md, "pe").
namespace schema {

namespace {

PeKeys own_keys() {
  constexpr double kMaxPackingRate = 64;
  Key<PeConfig> formats{
      {.name = "native_formats",
       .type = "list of formats",
       .range = "non-empty, no repeats; formats: integer widths 1..64 (`8`, `int8`), `fp32`, "
                "`fp16`, `bf16`, `fp8-e4m3`, `fp8-e5m2`, `e<E>m<M>` (E 2..11, M 0..52)",
       .doc = "the formats the MAC runs natively, at 1 MAC/cycle",
       .default_text = "— for `fixed`; unset otherwise",
       .shape = Shape::List}};
  formats.parse = [](const Checker& c, const YAML::Node& node, const std::string&, PeConfig& pe,
                     const ArchConfig&) {
    const YAML::Node list = node["native_formats"];
    if (!given(list)) {
      if (pe.type == "fixed")
        c.fail("pe.native_formats", list,
               "required for pe.type fixed: a non-empty list of formats, e.g. [8, 16, fp16, fp32]");
      return;
    }
    const std::string range = "must be a non-empty list of formats, e.g. [8, 16, fp16, fp32]";
    if (!list.IsSequence() || list.size() == 0) c.fail("pe.native_formats", list, range);
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::string where = fmt::format("pe.native_formats.{}", i);
      Format f = c.format(list[i], where);
      if (std::find(pe.native_formats.begin(), pe.native_formats.end(), f) !=
          pe.native_formats.end())
        c.fail(where, list[i], "each format at most once");
      pe.native_formats.push_back(f);
    }
  };
  formats.emit = [](YAML::Emitter& out, const PeConfig& pe) {
    if (pe.native_formats.empty()) return;
    out << YAML::Key << "native_formats" << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (const auto& f : pe.native_formats) out << format_node(f);
    out << YAML::EndSeq;
  };
  Key<PeConfig> packing{
      {.name = "packing",
       .type = "mapping format: number",
       .unit = "MACs/cycle/PE",
       .range = "rate > 0 and <= " + config_number(kMaxPackingRate) + ", each format once",
       .doc = "extra formats, or native ones at another rate (`{4: 2}`: INT4 at 2x on an INT8 "
              "datapath)",
       .default_text = "none",
       .shape = Shape::FreeMap}};
  packing.parse = [=](const Checker& c, const YAML::Node& node, const std::string&, PeConfig& pe,
                      const ArchConfig&) {
    const YAML::Node map = node["packing"];
    if (!given(map)) return;
    if (!map.IsMap() || map.size() == 0)
      c.fail("pe.packing", map, "must be a mapping format: MACs per cycle, e.g. {4: 2}");
    for (const auto& kv : map) {
      const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : show_short(kv.first);
      const std::string where = "pe.packing." + key;
      Format f = c.format(kv.first, where);
      double rate = 0;
      const std::string range = fmt::format(
          "must be a number > 0 and <= {} (MACs per cycle per PE)", config_number(kMaxPackingRate));
      if (!kv.second.IsScalar() || !YAML::convert<double>::decode(kv.second, rate) ||
          !std::isfinite(rate) || rate <= 0 || rate > kMaxPackingRate)
        c.fail(where, kv.second, range);
      for (const auto& [g, r] : pe.packed_rates)
        if (g == f) c.fail(where, kv.second, "each format at most once");
      pe.packed_rates.emplace_back(f, rate);
    }
    std::sort(pe.packed_rates.begin(), pe.packed_rates.end());
  };
  packing.emit = [](YAML::Emitter& out, const PeConfig& pe) {
    if (pe.packed_rates.empty()) return;
    out << YAML::Key << "packing" << YAML::Value << YAML::Flow << YAML::BeginMap;
    for (const auto& [f, r] : pe.packed_rates) out << YAML::Key << f.name() << YAML::Value << r;
    out << YAML::EndMap;
  };
  PeKeys keys;
  keys.push_back(std::move(formats));
  keys.push_back(std::move(packing));
  return keys;
}

}  // namespace

PeType fixed_pe_type() { return {"fixed", &make_model<FixedPe>, &own_keys}; }

}  // namespace schema

}  // namespace lpsim
