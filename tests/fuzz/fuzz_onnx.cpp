// libFuzzer target: ONNX models (import_onnx), then the graph's statistics
// and its round trip through the graph format. ONNX's own shape inference is
// off: this tests lpsim's reader, not libonnx (which an op lpsim cannot cost
// would call).
#include "fuzz_common.h"
#include "models/graph_io.h"
#include "models/onnx/onnx_import.h"
#include "models/training_step.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  lpsim::fuzz::expect_input_error_only([&] {
    lpsim::OnnxImportOptions options;
    options.onnx_shape_inference = false;
    lpsim::OnnxImport r = lpsim::import_onnx(bytes, "fuzz.onnx", options);
    (void)lpsim::network_stats(r.graph);
    (void)r.uncosted_text();
    try {
      (void)lpsim::graph_from_json(lpsim::graph_to_json(r.graph), "again.json");
      (void)lpsim::graph_from_yaml(lpsim::graph_to_yaml(r.graph), "again.yaml");
    } catch (const lpsim::InputError&) {
      __builtin_trap();  // what was imported must write back readable
    }
  });
  return 0;
}
