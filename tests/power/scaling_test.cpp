// Tests for power/scaling.h and scale_to_node: factors recomputed here from
// Stillmaker & Baas 2017, Table 5 (energy fit a2 V^2 + a1 V + a0) and their
// area table, at each node's nominal PTM supply.
#include "power/scaling.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "power/energy_table.h"

using namespace lpsim;

namespace {

// Stillmaker & Baas 2017, Table 5: HP 45 nm at its nominal 1.0 V
double e45() { return 1.018 * 1.0 * 1.0 - 0.3107 * 1.0 + 0.1539; }
// HP 7 nm (PTM-MG) at 0.7 V
double e7() { return 0.1776 * 0.7 * 0.7 - 0.09097 * 0.7 + 0.02447; }
// HP 32 nm at 0.9 V
double e32() { return 0.8367 * 0.9 * 0.9 - 0.4341 * 0.9 + 0.1701; }
// HP 20 nm at 0.9 V
double e20() { return 0.373 * 0.9 * 0.9 - 0.1582 * 0.9 + 0.04104; }

}  // namespace

TEST_CASE("the node scaling factor at 45 nm is 1 and leaves the table as it is") {
  CHECK(node_energy_factor(45, 45) == 1.0);
  CHECK(node_area_factor(45, 45) == 1.0);
  CHECK(node_scaling(45).energy_factor == 1.0);
  const EnergyTable t = horowitz45();
  const EnergyTable s = scale_to_node(t, 45);
  CHECK(s.entries == t.entries);
  CHECK(s.voltage_v == t.voltage_v);
}

TEST_CASE("scaling to 7 nm multiplies energies by the Stillmaker & Baas factor") {
  const double f = e7() / e45();
  CHECK(node_energy_factor(45, 7) == Approx(f));
  const EnergyTable s = scale_to_node(horowitz45(), 7);
  CHECK(s.node_nm == 7);
  CHECK(s.int_mul_pj(8, 8) == Approx(0.2 * f));
  CHECK(s.fp_add_pj(Format::fp32()) == Approx(0.9 * f));
  CHECK(s.sram_pj_per_bit(8 * 1024) == Approx(10.0 / 64 * f));
  // supply keeps its ratio to nominal: 0.9 V of 1.0 V at 45 nm -> 0.9 x 0.7 V at 7 nm
  CHECK(s.voltage_v == Approx(0.9 * 0.7 / 1.0));
  CHECK(s.entry_sources.at("int_mul_8").find("Stillmaker") != std::string::npos);
}

TEST_CASE("scaling to 32 nm uses the 32 nm row the authors' corrigendum spells out") {
  CHECK(node_energy_factor(45, 32) == Approx(e32() / e45()));
  CHECK(stillmaker_energy_fit(32, 0.9) == Approx(0.4571).epsilon(1e-3));  // corrigendum value
  CHECK(node_energy_factor(32, 45) == Approx(e45() / e32()));
}

TEST_CASE("areas scale by the Stillmaker & Baas area factor, DRAM and leakage do not scale") {
  const EnergyTable s = scale_to_node(horowitz45(), 7);
  CHECK(s.entry("int_mul_8_um2") == Approx(282 * 0.059));  // area 45 -> 7 nm: 0.059
  CHECK(s.dram_pj_per_bit() == 1300.0 / 64);
  CHECK(s.leakage_mw_per_mm2() == horowitz45().leakage_mw_per_mm2());
}

TEST_CASE("a node between listed nodes interpolates the factor in log-log") {
  // 28 nm between 32 and 20 nm
  const double w = std::log(28.0 / 20) / std::log(32.0 / 20);
  const double f20 = e20() / e45(), f32 = e32() / e45();
  const double expected = std::exp(std::log(f20) + w * (std::log(f32) - std::log(f20)));
  CHECK(node_energy_factor(45, 28) == Approx(expected));
  CHECK(node_energy_factor(45, 28) < f32);
  CHECK(node_energy_factor(45, 28) > f20);
}

TEST_CASE("every listed smaller node costs less energy per operation than the one before") {
  const auto& t = node_scaling_table();
  REQUIRE(t.size() == 11);
  for (std::size_t i = 1; i < t.size(); ++i) {
    CHECK(t[i].node_nm < t[i - 1].node_nm);
    CHECK(t[i].energy_factor < t[i - 1].energy_factor);
    CHECK(t[i].area_factor < t[i - 1].area_factor);
  }
}

TEST_CASE("nodes outside 7..180 nm are input errors") {
  const EnergyTable t = horowitz45();
  CHECK_THROWS_AS(scale_to_node(t, 5), InputError);
  CHECK_THROWS_AS(scale_to_node(t, 250), InputError);
  CHECK_THROWS_AS(scale_to_node(t, 0), InputError);
  CHECK_THROWS_AS(scale_to_node(t, std::numeric_limits<double>::quiet_NaN()), InputError);
  EnergyTable odd = t;
  odd.node_nm = 3;
  CHECK_THROWS_AS(scale_to_node(odd, 3), InputError);
  CHECK_THROWS_WITH(scale_to_node(t, 5), Catch::Contains("must be 7..180 nm"));
}
