// Whole-or-nothing output files: write to a temporary file in the same
// directory, flush, fsync, rename into place.
#pragma once

#include <functional>
#include <ostream>
#include <string>

namespace lpsim {

// Calls `write` with a stream onto a temporary file beside `path`, then
// renames it over `path`. On any failure the temporary is removed, `path` is
// untouched, and InputError names the file.
void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& write);

// Same, for bytes already in memory.
void write_file_atomic(const std::string& path, const std::string& contents);

}  // namespace lpsim
