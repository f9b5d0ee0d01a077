// libFuzzer target: --set override strings ("key.path=value"), one per input
// line, applied to the built-in default design point.
#include <vector>

#include "fuzz_common.h"
#include "sim/arch.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::string> overrides;
  std::string cur;
  for (std::size_t i = 0; i < size; ++i) {
    if (data[i] == '\n') {
      overrides.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(static_cast<char>(data[i]));
    }
  }
  overrides.push_back(cur);
  lpsim::fuzz::expect_input_error_only([&] { (void)lpsim::default_arch(overrides); });
  return 0;
}
