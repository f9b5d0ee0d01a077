// study/sim_format.h: the per-layer CSV adds up to the run (every figure of a
// report is additive over layers and over a layer's phases, docs/simulator.md),
// and the text summary names every component and phase.
#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "models/zoo.h"
#include "sim/arch.h"
#include "sim/replay.h"
#include "study/format.h"
#include "study/sim_format.h"

using namespace lpsim;

namespace {

struct Csv {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::size_t column(const std::string& name) const {
    for (std::size_t i = 0; i < header.size(); ++i)
      if (header[i] == name) return i;
    FAIL("no column " << name);
    return 0;
  }
};

Csv parse(const std::string& text) {
  Csv csv;
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);
  csv.header = study::csv_split(line);
  while (std::getline(in, line)) csv.rows.push_back(study::csv_split(line));
  return csv;
}

SimReport lenet_step() {
  const Graph g = make_model("lenet5");
  const ArchConfig arch = default_arch();
  const auto ps = PrecisionSet::fw_bw(Format::integer(8), Format::integer(8));
  return simulate_step(g, arch, energy_table_for(arch), ps, 32, false);
}

}  // namespace

TEST_CASE("the per-layer CSV has a row per layer and per phase with work, adding up to the run") {
  const SimReport r = lenet_step();
  const Csv csv = parse(study::layers_csv(r));
  for (const auto& row : csv.rows) REQUIRE(row.size() == csv.header.size());
  const std::size_t layer = csv.column("layer"), phase = csv.column("phase"),
                    energy = csv.column("energy_pj"), stat = csv.column("energy_static_pj"),
                    dyn = csv.column("energy_dynamic_pj"), macs = csv.column("macs"),
                    dram = csv.column("dram_bytes"), dr = csv.column("dram_read_bytes"),
                    dw = csv.column("dram_write_bytes");
  std::size_t all_rows = 0;
  double energy_sum = 0, macs_sum = 0, dram_sum = 0;
  std::map<std::string, double> phase_macs, all_macs;
  for (const auto& row : csv.rows) {
    const double e = std::stod(row[energy]);
    CHECK(std::stod(row[stat]) + std::stod(row[dyn]) == Approx(e).epsilon(1e-12));
    CHECK(std::stod(row[dr]) + std::stod(row[dw]) == Approx(std::stod(row[dram])).epsilon(1e-12));
    if (row[phase] == "all") {
      ++all_rows;
      energy_sum += e;
      macs_sum += std::stod(row[macs]);
      dram_sum += std::stod(row[dram]);
      all_macs[row[layer]] = std::stod(row[macs]);
    } else {
      phase_macs[row[layer]] += std::stod(row[macs]);
    }
  }
  CHECK(all_rows == r.layers.size());
  CHECK(energy_sum == Approx(r.total.energy_pj()).epsilon(1e-9));
  CHECK(macs_sum == r.total.macs);
  CHECK(dram_sum == Approx((r.total.dram_read_bits + r.total.dram_write_bits) / 8).epsilon(1e-9));
  for (const auto& [name, m] : phase_macs) CHECK(m == all_macs[name]);
  // One energy column per component, in the report's order, units in the name.
  for (const auto& c : r.components) CHECK_NOTHROW(csv.column(c + "_energy_pj"));
}

TEST_CASE("the per-layer CSV quotes a layer name that holds a comma") {
  SimReport r = lenet_step();
  r.layers.front().name = "conv,1";
  const Csv csv = parse(study::layers_csv(r));
  CHECK(csv.rows.front()[csv.column("layer")] == "conv,1");
}

TEST_CASE("the text summary names every component, every phase and both engines") {
  const SimReport r = lenet_step();
  const std::string text = study::simulation_summary(r, "lenet5 step", default_arch());
  for (const auto& c : r.components) CHECK_THAT(text, Catch::Contains(c));
  for (const char* p : {"fwd", "bwd_data", "bwd_weight", "update", "mac_array", "vector"})
    CHECK_THAT(text, Catch::Contains(p));
  CHECK_THAT(text, Catch::Contains("(all dynamic)") && Catch::Contains("(all static)"));
}

TEST_CASE("without_input_layers keeps every layer but the inputs") {
  const SimReport r = lenet_step();
  const SimReport s = study::without_input_layers(r);
  std::size_t inputs = 0;
  for (const auto& l : r.layers) inputs += l.kind == "input";
  CHECK(inputs >= 1);
  CHECK(s.layers.size() + inputs == r.layers.size());
}
