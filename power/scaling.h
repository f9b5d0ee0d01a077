// Technology-node scaling: Stillmaker & Baas, "Scaling equations for the
// accurate prediction of CMOS device performance from 180 nm to 7 nm",
// Integration, the VLSI Journal 58 (2017) 74-81. Factors and nodes: docs/energy.md.
#pragma once

#include <vector>

namespace lpsim {

inline constexpr double kMinNodeNm = 7;  // Stillmaker & Baas cover 180 nm .. 7 nm
inline constexpr double kMaxNodeNm = 180;

// One node of the scaling table: its nominal supply, its energy-per-operation
// factor and its area factor, both relative to 45 nm.
struct NodeScaling {
  double node_nm;
  double nominal_vdd_v;
  double energy_factor;  // E(node, nominal Vdd) / E(45 nm, 1.0 V)
  double area_factor;    // area(node) / area(45 nm)
};
// The listed nodes, 180 nm first.
const std::vector<NodeScaling>& node_scaling_table();

// The node's entry; between listed nodes every field is interpolated linearly in
// log(node) (log of the factors too). InputError outside kMinNodeNm..kMaxNodeNm.
NodeScaling node_scaling(double node_nm);

// Dynamic energy per operation at `to_nm` over that at `from_nm`, each at its
// nominal supply; 1 when the nodes are equal.
double node_energy_factor(double from_nm, double to_nm);
// Area at `to_nm` over area at `from_nm`.
double node_area_factor(double from_nm, double to_nm);

// Stillmaker & Baas Table 5 energy fit at one node: a2*V^2 + a1*V + a0 (HP devices
// at 45 nm and below); InputError if the node is not one of the listed ones.
double stillmaker_energy_fit(double node_nm, double vdd_v);

}  // namespace lpsim
