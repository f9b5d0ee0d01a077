// Runs a shell command line for the end-to-end tests, capturing its exit code,
// stdout and stderr (the CLI's error contract is checked on stderr).
#pragma once

#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace lpsim::test {

struct ShellResult {
  int code = -1;    // exit code; -1 when killed by a signal
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs `command` through the shell with stderr sent to a per-process file
// (ctest runs test cases in parallel processes).
inline ShellResult run_shell(const std::string& command) {
  static int counter = 0;
  const std::filesystem::path err_file =
      std::filesystem::temp_directory_path() /
      ("lpsim_test_stderr_" + std::to_string(getpid()) + "_" + std::to_string(counter++));
  ShellResult r;
  FILE* pipe = popen((command + " 2>" + err_file.string()).c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::array<char, 4096> buf{};
  std::size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) r.out.append(buf.data(), n);
  const int status = pclose(pipe);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(err_file);
  r.err.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  std::filesystem::remove(err_file);
  return r;
}

}  // namespace lpsim::test
