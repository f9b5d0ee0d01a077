// Fixed-width PE: a datapath per native format, one MAC per cycle, plus any
// declared packing (e.g. INT4 at 2x on an INT8 path, like tensor cores).
// An op runs at the narrowest path that holds both operands (docs/architecture.md).
#include <fmt/format.h>

#include <algorithm>
#include <tuple>

#include "core/error.h"
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

std::unique_ptr<PeModel> make_fixed_pe(const PeConfig& config, const EnergyTable& table) {
  return std::make_unique<FixedPe>(config, table);
}

}  // namespace lpsim
