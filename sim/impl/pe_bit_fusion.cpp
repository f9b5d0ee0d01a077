// Bit Fusion PE (Sharma et al. ISCA 2018): a fusion unit of 2-bit BitBricks
// that fuse into one 8x8 MAC or several narrower ones per cycle; operands
// wider than the fusion width take several cycles (temporal fusion).
// Formulas and sources: docs/architecture.md.
#include <fmt/format.h>

#include <algorithm>

#include "core/error.h"
#include "sim/impl/arch_schema.h"
#include "sim/pe.h"

namespace lpsim {

namespace {

// Sharma et al. ISCA 2018, per-PE synthesis at 45 nm, 500 MHz: the fused 8/2
// unit spends about 0.69 pJ per 8x8 MAC, i.e. 0.69 / 16 per 2-bit brick
// product (0.17 per 4x4 = 4 bricks, 0.043 per 2x2 = 1 brick), in 1733 um^2.
constexpr double kFusedMac8x8Pj = 0.69;
constexpr double kFusionUnitAreaUm2 = 1733;
constexpr double kFixedPeAreaUm2 = 688;  // the paper's fixed 8/8 PE, same synthesis
constexpr int kPaperFusionBits = 8;
constexpr int kPaperBrickBits = 2;

struct Operand {
  int spatial = 1;   // MACs this operand's side fits in one fusion unit
  int passes = 1;    // cycles of temporal fusion for this operand
  int run_bits = 0;  // width the hardware actually ran
};

int floor_pow2(int v) {
  int p = 1;
  while (p * 2 <= v) p *= 2;
  return p;
}

class BitFusionPe final : public PeModel {
 public:
  BitFusionPe(const PeConfig& config, const EnergyTable& table)
      : brick_(config.brick_bits), fusion_(config.fusion_bits) {
    if (brick_ < 1 || fusion_ < brick_ || fusion_ % brick_ != 0 ||
        floor_pow2(fusion_ / brick_) != fusion_ / brick_)
      throw InputError(fmt::format(
          "pe.fusion_bits = {}: must be pe.brick_bits ({}) times a power of two", fusion_, brick_));
    const double bricks_per_unit = double(fusion_ / brick_) * (fusion_ / brick_);
    if (config.energy_pj_per_mac > 0) {
      brick_pj_ = config.energy_pj_per_mac / bricks_per_unit;
    } else {
      // The published 45 nm figure, tracking the table's 8-bit multiply relative to
      // Horowitz's (1 for the built-in table; follows node scaling and user tables).
      const double table_scale = table.int_mul_pj(8, 8) / horowitz45().int_mul_pj(8, 8);
      const double paper_brick_pj = kFusedMac8x8Pj / ((kPaperFusionBits / kPaperBrickBits) *
                                                      (kPaperFusionBits / kPaperBrickBits));
      // A b-bit brick multiplier grows as b^2 (array multiplier, REFERENCES.md).
      const double brick_ratio = double(brick_) / kPaperBrickBits;
      brick_pj_ = paper_brick_pj * brick_ratio * brick_ratio * table_scale;
    }
    if (config.area_um2 > 0) {
      area_um2_ = config.area_um2;
    } else {
      // The paper's fused unit is 1733 / 688 = 2.52x its own fixed 8/8 PE; applied
      // to the table's 8x8 MAC area so every PE type's area comes from one table.
      const Format i8 = Format::integer(8);
      const double size = double(fusion_) / kPaperFusionBits;
      area_um2_ = kFusionUnitAreaUm2 / kFixedPeAreaUm2 * table.mac_area_um2(i8, i8) * size * size;
    }
  }

  PeThroughput at(const Format& a, const Format& b) const override {
    if (a.is_float() || b.is_float())
      throw InputError(fmt::format(
          "pe.type bit_fusion cannot run {} x {}: BitBricks take integer operands of 1..{} bits",
          a.name(), b.name(), kMaxBits));
    const Operand x = operand(a.bits), y = operand(b.bits);
    PeThroughput t;
    t.macs_per_cycle = double(x.spatial) * y.spatial / (double(x.passes) * y.passes);
    t.run_a = Format::integer(x.run_bits);
    t.run_b = Format::integer(y.run_bits);
    // Energy follows the bricks a MAC occupies: (run_a / brick) x (run_b / brick).
    t.energy_pj_per_mac = brick_pj_ * (double(x.run_bits) / brick_) * (double(y.run_bits) / brick_);
    return t;
  }

  double area_um2() const override { return area_um2_; }

 private:
  // Bit Fusion's public simulator: floor(F / max(bits, brick)) MACs on this
  // operand's side (3 bits counts as 4, 5..7 as 8 for F = 8), rounded down to a
  // power of two for other F (bricks fuse in powers of two); wider than F:
  // ceil(bits / F) temporal passes at width F.
  Operand operand(int bits) const {
    Operand o;
    if (bits <= fusion_) {
      o.spatial = floor_pow2(fusion_ / std::max(bits, brick_));
      o.run_bits = fusion_ / o.spatial;
    } else {
      o.passes = (bits + fusion_ - 1) / fusion_;
      o.run_bits = o.passes * fusion_;
    }
    return o;
  }

  int brick_;
  int fusion_;
  double brick_pj_ = 0;
  double area_um2_ = 0;
};

}  // namespace

// pe.brick_bits and pe.fusion_bits (docs/architecture.md, "pe").
namespace schema {

namespace {

PeKeys own_keys() {
  PeKeys keys;
  keys.push_back(
      integer("brick_bits", &PeConfig::brick_bits, 1, 16,
              {.unit = "bits", .doc = "the width of one BitBrick", .default_text = "2"}));
  Key<PeConfig> fusion = integer("fusion_bits", &PeConfig::fusion_bits, 1, 32,
                                 {.unit = "bits",
                                  .doc = "the widest operand fused spatially: `brick_bits` x a "
                                         "power of two",
                                  .default_text = "8"});
  fusion.parse = [parse = fusion.parse](const Checker& c, const YAML::Node& node,
                                        const std::string& path, PeConfig& pe,
                                        const ArchConfig& so_far) {
    parse(c, node, path, pe, so_far);
    const int bricks = pe.fusion_bits / pe.brick_bits;
    if (pe.fusion_bits % pe.brick_bits != 0 || (bricks & (bricks - 1)) != 0 || bricks < 1)
      c.fail("pe.fusion_bits", std::to_string(pe.fusion_bits),
             fmt::format("must be pe.brick_bits ({}) times a power of two, at most 32",
                         pe.brick_bits));
  };
  keys.push_back(std::move(fusion));
  return keys;
}

}  // namespace

PeType bit_fusion_pe_type() { return {"bit_fusion", &make_model<BitFusionPe>, &own_keys}; }

}  // namespace schema

}  // namespace lpsim
