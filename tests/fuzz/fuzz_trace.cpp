// libFuzzer target: trace files (read_trace), the bytes written as-is, so a
// gzip-magic input takes the inflate path.
#include <filesystem>

#include "fuzz_common.h"
#include "traces/trace.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = lpsim::fuzz::scratch_path(".lpt");
  lpsim::fuzz::write_bytes(path, data, size);
  lpsim::fuzz::expect_input_error_only([&] {
    lpsim::Trace t = lpsim::read_trace(path);
    lpsim::validate_trace(t, path);  // what read_trace accepts, validate_trace must accept
  });
  return 0;
}
