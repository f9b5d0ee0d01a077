// libFuzzer target: IDX dataset files (read_idx), plain or gzipped.
#include "fuzz_common.h"
#include "trainer/idx.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = lpsim::fuzz::scratch_path(".idx");
  lpsim::fuzz::write_bytes(path, data, size);
  lpsim::fuzz::expect_input_error_only([&] { (void)lpsim::trainer::read_idx(path); });
  return 0;
}
