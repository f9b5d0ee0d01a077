// libFuzzer target: graph files in JSON (graph_from_json), then the network's
// statistics (MACs, parameters) and the JSON round trip.
#include "fuzz_common.h"
#include "models/graph_io.h"
#include "models/training_step.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  lpsim::fuzz::expect_input_error_only([&] {
    lpsim::Graph g = lpsim::graph_from_json(text, "fuzz.json");
    (void)lpsim::network_stats(g);
    try {
      (void)lpsim::graph_from_json(lpsim::graph_to_json(g), "again.json");
    } catch (const lpsim::InputError&) {
      __builtin_trap();  // what was read must write back readable
    }
  });
  return 0;
}
