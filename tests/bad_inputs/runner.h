// The bad-input catalogue's runner: runs the real `lpsim` binary and checks
// the error contract (docs/reliability.md): exit code 2 and exactly one line
// on stderr naming the file, the field and the allowed range.
#pragma once

#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>

#include "support/shell.h"

namespace lpsim::bad_inputs {

namespace fs = std::filesystem;

using Result = lpsim::test::ShellResult;

// One scratch directory per process: ctest runs test cases in parallel.
inline fs::path scratch() {
  fs::path d = fs::temp_directory_path() / ("lpsim_bad_inputs_" + std::to_string(getpid()));
  fs::create_directories(d);
  return d;
}

inline std::string path_of(const std::string& name) { return (scratch() / name).string(); }

// Writes `bytes` to scratch()/name and returns the path.
inline std::string write(const std::string& name, const std::string& bytes) {
  const std::string p = path_of(name);
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << bytes;
  REQUIRE(out.good());
  return p;
}

// Runs `lpsim <args>` (a hang is killed after 120 s and fails the case), with
// `env` ("NAME=value ...") added to its environment.
inline Result run(const std::string& args, const std::string& env = "") {
  return lpsim::test::run_shell((env.empty() ? "" : "env " + env + " ") + "timeout -s KILL 120 " +
                                std::string(LPSIM_BINARY) + " " + args);
}

inline int lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

// The contract: exit 2, one stderr line "lpsim: ..." that is not an internal
// error and contains every one of `names` (the file, the field, the range).
inline void expect_refused(const std::string& args, std::initializer_list<std::string> names,
                           const std::string& env = "") {
  const Result r = run(args, env);
  INFO(env << " lpsim " << args);
  INFO("stderr: " << r.err);
  CHECK(r.code == 2);
  CHECK(lines(r.err) == 1);
  CHECK(r.err.rfind("lpsim: ", 0) == 0);
  CHECK(r.err.find("internal error") == std::string::npos);
  for (const std::string& name : names) CHECK_THAT(r.err, Catch::Contains(name));
}

}  // namespace lpsim::bad_inputs
