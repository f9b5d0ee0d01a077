// Shared by the libFuzzer targets: a per-process scratch file for parsers that
// read paths, and the rule that InputError is the only acceptable failure.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "core/error.h"

namespace lpsim::fuzz {

// A path in /dev/shm (or /tmp) private to this process, ending in `suffix`.
inline std::string scratch_path(std::string_view suffix) {
  const char* dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  return std::string(dir) + "/lpsim_fuzz_" + std::to_string(getpid()) + std::string(suffix);
}

// Writes `size` bytes to `path` (truncating); aborts if it cannot, since that
// is the harness failing, not the parser.
inline void write_bytes(const std::string& path, const std::uint8_t* data, std::size_t size) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) __builtin_trap();
  if (size && std::fwrite(data, 1, size, f) != size) __builtin_trap();
  std::fclose(f);
}

// Runs `parse`: InputError is the documented answer to bad input; any other
// exception escapes and libFuzzer reports it (uncaught -> abort).
template <class F>
void expect_input_error_only(F&& parse) {
  try {
    parse();
  } catch (const InputError&) {
  }
}

}  // namespace lpsim::fuzz
