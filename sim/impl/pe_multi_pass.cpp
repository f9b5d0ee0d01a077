// Temporal multi-pass PE (the UMass dynamic-precision seed): one pass_bits-wide
// integer MAC runs wider operands in several passes, one per pair of
// pass_bits-wide slices, and pads narrower ones. Formulas: docs/architecture.md.
#include <fmt/format.h>

#include "core/error.h"
#include "sim/impl/arch_schema.h"
#include "sim/pe.h"

namespace lpsim {

namespace {

class MultiPassPe final : public PeModel {
 public:
  MultiPassPe(const PeConfig& config, const EnergyTable& table) : pass_bits_(config.pass_bits) {
    if (pass_bits_ < 2 || pass_bits_ > kMaxBits)
      throw InputError(
          fmt::format("pe.pass_bits = {}: must be an integer 2..{}", pass_bits_, kMaxBits));
    if (!(config.pass_energy_overhead >= 0 && config.pass_energy_overhead <= 1))
      throw InputError(fmt::format("pe.pass_energy_overhead = {}: must be a number 0..1",
                                   config.pass_energy_overhead));
    const Format p = Format::integer(pass_bits_);
    // One pass: the pass_bits MAC plus the multi-precision control (shifters,
    // slice muxes), a fixed fraction on top; or the file's figure for a whole pass.
    pass_pj_ = config.energy_pj_per_mac > 0
                   ? config.energy_pj_per_mac
                   : table.mac_pj(p, p) * (1 + config.pass_energy_overhead);
    area_um2_ = config.area_um2 > 0 ? config.area_um2
                                    : table.mac_area_um2(p, p) * (1 + config.pass_energy_overhead);
  }

  PeThroughput at(const Format& a, const Format& b) const override {
    if (a.is_float() || b.is_float())
      throw InputError(fmt::format(
          "pe.type multi_pass cannot run {} x {}: it takes integer (fixed-point) operands of "
          "1..{} bits",
          a.name(), b.name(), kMaxBits));
    const int slices_a = (a.bits + pass_bits_ - 1) / pass_bits_;
    const int slices_b = (b.bits + pass_bits_ - 1) / pass_bits_;
    const int passes = slices_a * slices_b;
    PeThroughput t;
    t.macs_per_cycle = 1.0 / passes;
    t.run_a = Format::integer(slices_a * pass_bits_);
    t.run_b = Format::integer(slices_b * pass_bits_);
    t.energy_pj_per_mac = passes * pass_pj_;
    return t;
  }

  double area_um2() const override { return area_um2_; }

 private:
  int pass_bits_;
  double pass_pj_ = 0;
  double area_um2_ = 0;
};

}  // namespace

// pe.pass_bits and pe.pass_energy_overhead (docs/architecture.md, "pe").
namespace schema {

namespace {

PeKeys own_keys() {
  PeKeys keys;
  keys.push_back(integer("pass_bits", &PeConfig::pass_bits, 2, kMaxBits,
                         {.unit = "bits", .doc = "the MAC's native width", .default_text = "16"}));
  keys.push_back(number("pass_energy_overhead", &PeConfig::pass_energy_overhead, 0, false, 1,
                        {.unit = "fraction",
                         .doc = "energy and area of the multi-precision control, over the "
                                "`pass_bits` MAC",
                         .default_text = "0.1"}));
  return keys;
}

}  // namespace

PeType multi_pass_pe_type() { return {"multi_pass", &make_model<MultiPassPe>, &own_keys}; }

}  // namespace schema

}  // namespace lpsim
