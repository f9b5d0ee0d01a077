// libFuzzer target: energy-table YAML files (load_energy_table over the
// built-in Horowitz 45 nm table).
#include "fuzz_common.h"
#include "power/energy_table.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = lpsim::fuzz::scratch_path("_energy.yaml");
  lpsim::fuzz::write_bytes(path, data, size);
  lpsim::fuzz::expect_input_error_only([&] { (void)lpsim::load_energy_table(path); });
  return 0;
}
