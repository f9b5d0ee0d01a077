// libFuzzer target: SCALE-Sim topology CSVs (read_topology_csv), then the
// network's statistics.
#include "fuzz_common.h"
#include "models/graph_io.h"
#include "models/training_step.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = lpsim::fuzz::scratch_path("_topology.csv");
  lpsim::fuzz::write_bytes(path, data, size);
  lpsim::fuzz::expect_input_error_only([&] {
    lpsim::Graph g = lpsim::read_topology_csv(path);
    (void)lpsim::network_stats(g);
  });
  return 0;
}
