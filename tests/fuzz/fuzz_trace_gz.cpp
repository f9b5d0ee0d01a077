// libFuzzer target: gzipped trace files through the same reader. The input is
// compressed before writing, so the JSON Lines parser sees mutated text behind
// a valid gzip stream; an input whose first byte is 0x1f is written raw to
// exercise corrupt-stream handling too.
#include "fuzz_common.h"
#include "traces/impl/gzip.h"
#include "traces/trace.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = lpsim::fuzz::scratch_path(".lpt.gz");
  std::string_view in(reinterpret_cast<const char*>(data), size);
  if (size > 0 && data[0] == 0x1f) {
    lpsim::fuzz::write_bytes(path, data, size);
  } else {
    const std::string gz = lpsim::gzip::compress(in);
    lpsim::fuzz::write_bytes(path, reinterpret_cast<const std::uint8_t*>(gz.data()), gz.size());
  }
  lpsim::fuzz::expect_input_error_only([&] { (void)lpsim::read_trace(path); });
  return 0;
}
