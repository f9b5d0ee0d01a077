// libFuzzer target: architecture YAML files (load_arch), parsed and validated.
#include "fuzz_common.h"
#include "sim/arch.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = lpsim::fuzz::scratch_path("_arch.yaml");
  lpsim::fuzz::write_bytes(path, data, size);
  lpsim::fuzz::expect_input_error_only([&] {
    lpsim::ArchConfig a = lpsim::load_arch(path);
    // What load_arch accepts, arch_to_yaml must write back loadable.
    const std::string again = lpsim::fuzz::scratch_path("_arch_again.yaml");
    const std::string text = lpsim::arch_to_yaml(a);
    lpsim::fuzz::write_bytes(again, reinterpret_cast<const std::uint8_t*>(text.data()),
                             text.size());
    try {
      (void)lpsim::load_arch(again);
    } catch (const lpsim::InputError&) {
      __builtin_trap();  // a round-trip failure is a bug, not bad input
    }
  });
  return 0;
}
