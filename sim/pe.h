// What a processing element type must answer: MACs per cycle and energy per
// MAC at a pair of operand formats. One implementation per type in impl/.
#pragma once

#include <memory>

#include "core/precision.h"
#include "power/energy_table.h"
#include "sim/arch.h"

namespace lpsim {

struct PeThroughput {
  double macs_per_cycle = 0;     // per PE, at these operand formats
  double energy_pj_per_mac = 0;  // multiply + accumulate, at these formats on this PE
  Format run_a, run_b;           // the formats the hardware actually ran (after padding)
};

class PeModel {
 public:
  virtual ~PeModel() = default;
  // lhs / rhs formats of a GEMM op; InputError if the PE cannot run them
  // (e.g. a float format on an integer-only PE), naming both formats.
  virtual PeThroughput at(const Format& a, const Format& b) const = 0;
  virtual double area_um2() const = 0;
};

// "fixed" | "bit_serial" | "bit_fusion" | "multi_pass"
std::unique_ptr<PeModel> make_pe(const PeConfig& config, const EnergyTable& table);

}  // namespace lpsim
