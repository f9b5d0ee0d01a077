// A trainer run with bf16 master weights: its trace makes the simulator
// cost the weight update's master-weight traffic at 16 bits, not at W's 8.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>

#include "models/zoo.h"
#include "sim/arch.h"
#include "sim/replay.h"
#include "traces/trace.h"
#include "trainer/trainer.h"

using namespace lpsim;

TEST_CASE("a bf16-master run's trace costs the update at 16 bits") {
  trainer::TrainOptions o;
  o.model = "lenet5";
  o.schedule = "static:8/8";  // int8 GEMMs: the default design point (tpu_int8) runs them
  o.epochs = 1;
  o.batch = 50;
  o.train_limit = 100;  // 2 iterations
  o.test_limit = 50;
  o.master_weights = "bf16";
  const Trace bf16 = trainer::train(o).trace;
  // Through the file format and back: the key survives.
  const auto dir = std::filesystem::temp_directory_path() /
                   ("lpsim_fp8_trace_cost_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "bf16.lpt").string();
  write_trace(path, bf16);
  const Trace read = read_trace(path);
  std::filesystem::remove_all(dir);
  REQUIRE(read.segments.front().precision.master == Format::floating(8, 7));

  Trace w8 = read;  // the same trace as a version without the key is costed
  for (Segment& s : w8.segments) s.precision.master.reset();

  const Graph g = make_model("lenet5", "fashion-mnist");
  double params = 0;
  for (int i = 0; i < g.size(); ++i) params += static_cast<double>(g.layer(i).parameters());
  const ArchConfig arch = default_arch();
  CostCache cache;
  const auto update = static_cast<int>(Phase::Update);
  const Totals a = simulate_trace(read, g, arch, energy_table_for(arch), {&cache, Timing::Analytic})
                       .by_phase[update];
  const Totals b = simulate_trace(w8, g, arch, energy_table_for(arch), {&cache, Timing::Analytic})
                       .by_phase[update];
  // Per step and parameter the update reads W, G (int8) and the
  // momentum (Opt, bf16) and writes W and the momentum. W at the master's
  // 16 bits: reads 16 + 8 + 16, writes 16 + 16; at W's 8 bits (no key):
  // reads 8 + 8 + 16, writes 8 + 16. Two steps.
  CHECK(a.dram_read_bits == 2 * params * (16 + 8 + 16));
  CHECK(a.dram_write_bits == 2 * params * (16 + 16));
  CHECK(b.dram_read_bits == 2 * params * (8 + 8 + 16));
  CHECK(b.dram_write_bits == 2 * params * (8 + 16));
  CHECK(a.energy_pj() > b.energy_pj());
}
