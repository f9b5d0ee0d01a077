// Reading user input files under the input caps (docs/reliability.md,
// "Resource limits"): no file, however it is made (a gzip bomb, one line of a
// gigabyte), makes lpsim hold more than the caps in memory while reading it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace lpsim {

struct InputCaps {
  std::int64_t max_bytes;         // bytes of a file read line by line (a trace), after gunzip
  std::int64_t max_record_bytes;  // bytes of one line, and of a file parsed whole
};

constexpr std::int64_t kMiB = std::int64_t{1} << 20;
constexpr std::int64_t kDefaultMaxInputBytes = 256 * kMiB;
constexpr std::int64_t kDefaultMaxRecordBytes = 16 * kMiB;
// The most either variable may ask for (MiB): 64 GiB.
constexpr std::int64_t kMaxCapMiB = std::int64_t{1} << 16;

// The defaults above, or LPSIM_MAX_INPUT_MB / LPSIM_MAX_RECORD_MB (MiB) from
// the environment; InputError naming the variable when it is not an integer
// in 1..kMaxCapMiB.
InputCaps input_caps();

// Hands each line of `path` (without its '\n'), numbered from 1, to
// `on_line`; the file is gunzipped on the fly when `gunzip` and it starts with
// the gzip magic 1f 8b. Memory: one line and a 64 KiB buffer. InputError
// "<path>: ..." when the file cannot be opened or read, the gzip data is
// corrupt, the bytes pass max_bytes or a line passes max_record_bytes.
void for_each_line(const std::string& path, bool gunzip,
                   const std::function<void(std::string_view line, std::int64_t line_no)>& on_line);

// The whole file, for formats parsed whole (YAML, JSON, CSV, checkpoints):
// the file is one record, so max_record_bytes bounds it, and each of its
// lines (`lines` false for binary files).
std::string read_input_file(const std::string& path, bool gunzip = false, bool lines = true);

// Reads `path` through read_input_file's caps without keeping it: for a file that
// another library parses whole (architecture YAML, read by sim/). Anything
// else is left to that parser's own message.
void check_input_caps(const std::string& path);

}  // namespace lpsim
