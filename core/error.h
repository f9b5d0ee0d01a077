// The error contract: bad user input throws InputError (exit 2), broken
// internal invariants throw InternalError (exit 1). Caught once, in main.
#pragma once

#include <stdexcept>
#include <string>

namespace lpsim {

// Bad input: the message names the file, the field and the allowed range,
// e.g. "arch.yaml: dram.bandwidth_gbps = -4: must be > 0".
class InputError : public std::runtime_error {
 public:
  explicit InputError(const std::string& what) : std::runtime_error(what) {}
};

// The error contract's one line, as the command line and the Python module
// print it: a name or value quoted from the input may hold a newline or
// another control byte; it is written escaped (\n, \r, \xNN).
std::string one_line(const char* message);

// A bug in lpsim, never the user's fault.
class InternalError : public std::logic_error {
 public:
  explicit InternalError(const std::string& what) : std::logic_error(what) {}
};

}  // namespace lpsim
