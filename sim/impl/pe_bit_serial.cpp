// Bit-serial PE (Stripes, Judd et al. MICRO 2016): the serial operand is
// streamed one bit per cycle against the other operand held in parallel at
// the datapath width, so a MAC takes as many cycles as the serial operand has
// bits. Formulas and sources: docs/architecture.md.
#include <fmt/format.h>

#include "core/error.h"
#include "sim/impl/arch_schema.h"
#include "sim/pe.h"

namespace lpsim {

namespace {

// Stripes: 16x the lanes of its bit-parallel 16-bit baseline in 1.32x the
// area (Judd et al. MICRO 2016), so one 1-bit x P-bit lane is 1.32 / P of a
// P x P MAC (P = 16 there; we apply the same ratio at any P).
constexpr double kStripesAreaRatio = 1.32;

class BitSerialPe final : public PeModel {
 public:
  BitSerialPe(const PeConfig& config, const EnergyTable& table)
      : table_(table),
        serial_is_a_(config.serial_operand != Role::W),
        max_bits_(config.serial_max_bits) {
    if (config.serial_operand != Role::A && config.serial_operand != Role::W)
      throw InputError(
          fmt::format("pe.serial_operand = {}: must be A or W", role_name(config.serial_operand)));
    if (max_bits_ < 1 || max_bits_ > kMaxBits)
      throw InputError(
          fmt::format("pe.serial_max_bits = {}: must be an integer 1..{}", max_bits_, kMaxBits));
    const double full = energy_law(max_bits_);
    energy_scale_ = config.energy_pj_per_mac > 0 ? config.energy_pj_per_mac / full : 1.0;
    const Format p = Format::integer(max_bits_);
    area_um2_ = config.area_um2 > 0 ? config.area_um2
                                    : kStripesAreaRatio * table_.mac_area_um2(p, p) / max_bits_;
  }

  PeThroughput at(const Format& a, const Format& b) const override {
    if (a.is_float() || b.is_float() || a.bits > max_bits_ || b.bits > max_bits_)
      throw InputError(fmt::format(
          "pe.type bit_serial cannot run {} x {}: it takes integer operands of 1..{} bits "
          "(pe.serial_max_bits)",
          a.name(), b.name(), max_bits_));
    const int serial_bits = serial_is_a_ ? a.bits : b.bits;
    PeThroughput t;
    t.macs_per_cycle = 1.0 / serial_bits;
    // What ran: the serial operand at its own width, the parallel one padded
    // to the datapath width.
    const Format serial = Format::integer(serial_bits);
    const Format parallel = Format::integer(max_bits_);
    t.run_a = serial_is_a_ ? serial : parallel;
    t.run_b = serial_is_a_ ? parallel : serial;
    t.energy_pj_per_mac = energy_scale_ * energy_law(serial_bits);
    return t;
  }

  double area_um2() const override { return area_um2_; }

 private:
  // Each serial bit costs one P-bit AND-and-add of the partial product
  // (int_add at the datapath width P), and the MAC ends with one add into the
  // accumulator. At P = s = 8 this is 8 x 0.03 = 0.24 pJ of multiply against
  // the table's 0.2 pJ array multiplier (Horowitz 45 nm).
  double energy_law(int serial_bits) const {
    const Format s = Format::integer(serial_bits);
    const Format p = Format::integer(max_bits_);
    return serial_bits * table_.int_add_pj(max_bits_) +
           (serial_is_a_ ? table_.accumulator_add_pj(s, p) : table_.accumulator_add_pj(p, s));
  }

  EnergyTable table_;
  bool serial_is_a_;
  int max_bits_;
  double energy_scale_ = 1;
  double area_um2_ = 0;
};

}  // namespace

// pe.serial_operand and pe.serial_max_bits (docs/architecture.md, "pe").
namespace schema {

namespace {

PeKeys own_keys() {
  Key<PeConfig> operand{{.name = "serial_operand",
                         .type = "string",
                         .range = "`A` (the GEMM's lhs operand) or `W` (its rhs)",
                         .doc = "the operand streamed a bit per cycle",
                         .default_text = "`A`"}};
  operand.parse = [](const Checker& c, const YAML::Node& node, const std::string& path,
                     PeConfig& pe, const ArchConfig&) {
    if (auto s = c.opt_string(node, "serial_operand", path, "must be A or W")) {
      if (*s == "A")
        pe.serial_operand = Role::A;
      else if (*s == "W")
        pe.serial_operand = Role::W;
      else
        c.fail("pe.serial_operand", node["serial_operand"], "must be A or W");
    }
  };
  operand.emit = [](YAML::Emitter& out, const PeConfig& pe) {
    out << YAML::Key << "serial_operand" << YAML::Value
        << std::string(role_name(pe.serial_operand));
  };
  PeKeys keys;
  keys.push_back(std::move(operand));
  keys.push_back(integer("serial_max_bits", &PeConfig::serial_max_bits, 1, kMaxBits,
                         {.unit = "bits",
                          .doc = "the widest operand, the parallel operand's datapath width",
                          .default_text = "16"}));
  return keys;
}

}  // namespace

PeType bit_serial_pe_type() { return {"bit_serial", &make_model<BitSerialPe>, &own_keys}; }

}  // namespace schema

}  // namespace lpsim
