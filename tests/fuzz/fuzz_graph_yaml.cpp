// libFuzzer target: graph files in YAML (graph_from_yaml), then the network's
// statistics (MACs, parameters).
#include "fuzz_common.h"
#include "models/graph_io.h"
#include "models/training_step.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  lpsim::fuzz::expect_input_error_only([&] {
    lpsim::Graph g = lpsim::graph_from_yaml(text, "fuzz.yaml");
    (void)lpsim::network_stats(g);
  });
  return 0;
}
