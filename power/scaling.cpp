// Technology-node scaling after Stillmaker & Baas 2017 (see scaling.h).
#include "power/scaling.h"

#include <fmt/format.h>

#include <cmath>

#include "core/error.h"

namespace lpsim {

namespace {

// Stillmaker & Baas 2017, Table 5: energy-per-operation fit a2*V^2 + a1*V + a0.
// 180..65 nm: bulk PTM; 45 and 32 nm: PTM high-performance (HP); 20..7 nm:
// PTM-MG FinFET HP. The 32 nm and 65 nm rows are the ones the authors'
// corrigendum (Section 4.2.1 example) spells out. Nominal Vdd: the PTM model
// card of each node.
struct EnergyFit {
  double node_nm, nominal_vdd_v, a2, a1, a0, area_vs_45;
};
// Area factors relative to 45 nm: Stillmaker & Baas area scaling table (row 45 nm).
constexpr EnergyFit kFits[] = {
    {180, 1.8, 0.0, 24.64, -17.98, 19},         {130, 1.3, 7.171, -6.709, 2.904, 6.4},
    {90, 1.2, 4.762, -4.781, 2.092, 2.8},       {65, 1.1, 3.755, -4.398, 1.975, 1.5},
    {45, 1.0, 1.018, -0.3107, 0.1539, 1},       {32, 0.9, 0.8367, -0.4341, 0.1701, 0.46},
    {20, 0.9, 0.373, -0.1582, 0.04104, 0.21},   {16, 0.85, 0.2958, -0.1241, 0.03024, 0.19},
    {14, 0.8, 0.2363, -0.09675, 0.02239, 0.17}, {10, 0.75, 0.2068, -0.09311, 0.02375, 0.1},
    {7, 0.7, 0.1776, -0.09097, 0.02447, 0.059},
};

double fit_value(const EnergyFit& f, double v) { return f.a2 * v * v + f.a1 * v + f.a0; }

const EnergyFit& fit_at(double node_nm) {
  for (const auto& f : kFits)
    if (f.node_nm == node_nm) return f;
  throw InputError(
      fmt::format("technology node {} nm: Stillmaker & Baas list 180, 130, 90, 65, 45, 32, 20, 16, "
                  "14, 10, 7 nm",
                  node_nm));
}

std::vector<NodeScaling> build_table() {
  const EnergyFit& ref = fit_at(45);
  const double e45 = fit_value(ref, ref.nominal_vdd_v);
  std::vector<NodeScaling> t;
  for (const auto& f : kFits)
    t.push_back({f.node_nm, f.nominal_vdd_v, fit_value(f, f.nominal_vdd_v) / e45, f.area_vs_45});
  return t;
}

void check_node(double node_nm) {
  if (!(node_nm >= kMinNodeNm && node_nm <= kMaxNodeNm))
    throw InputError(
        fmt::format("technology node {} nm: must be {}..{} nm (the range of "
                    "Stillmaker & Baas 2017)",
                    node_nm, kMinNodeNm, kMaxNodeNm));
}

}  // namespace

const std::vector<NodeScaling>& node_scaling_table() {
  static const std::vector<NodeScaling> table = build_table();
  return table;
}

double stillmaker_energy_fit(double node_nm, double vdd_v) {
  return fit_value(fit_at(node_nm), vdd_v);
}

NodeScaling node_scaling(double node_nm) {
  check_node(node_nm);
  const auto& t = node_scaling_table();
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t[i].node_nm == node_nm) return t[i];
    // t is ordered from the largest node to the smallest
    if (i + 1 < t.size() && node_nm < t[i].node_nm && node_nm > t[i + 1].node_nm) {
      const NodeScaling& hi = t[i];
      const NodeScaling& lo = t[i + 1];
      const double w = std::log(node_nm / lo.node_nm) / std::log(hi.node_nm / lo.node_nm);
      auto log_lerp = [w](double y_lo, double y_hi) {
        return std::exp(std::log(y_lo) + w * (std::log(y_hi) - std::log(y_lo)));
      };
      return {node_nm, log_lerp(lo.nominal_vdd_v, hi.nominal_vdd_v),
              log_lerp(lo.energy_factor, hi.energy_factor),
              log_lerp(lo.area_factor, hi.area_factor)};
    }
  }
  throw InternalError(fmt::format("node_scaling: {} nm not bracketed by the table", node_nm));
}

double node_energy_factor(double from_nm, double to_nm) {
  if (from_nm == to_nm) {
    check_node(from_nm);
    return 1.0;
  }
  return node_scaling(to_nm).energy_factor / node_scaling(from_nm).energy_factor;
}

double node_area_factor(double from_nm, double to_nm) {
  if (from_nm == to_nm) {
    check_node(from_nm);
    return 1.0;
  }
  return node_scaling(to_nm).area_factor / node_scaling(from_nm).area_factor;
}

}  // namespace lpsim
