// Runs a shell command line for the end-to-end tests, capturing its exit code,
// stdout and stderr (the CLI's error contract is checked on stderr).
#pragma once

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace lpsim::test {

struct ShellResult {
  int code = -1;    // exit code; -1 when killed by a signal
  std::string out;  // stdout
  std::string err;  // stderr
};

// AddressSanitizer's warning when SystemC switches coroutine stacks
// (google/sanitizers#189): three lines on stderr in the `asan` build only,
// "==PID==WARNING: ASan is ignoring requested __asan_handle_no_return: ...",
// "False positive error reports may follow", "For details see ...issues/189".
// Removed from captured stderr so the error contract (exactly one line, or
// none for valid input) is checked the same under ASan as in release.
inline std::string without_asan_stack_warning(const std::string& err) {
  std::string out;
  std::size_t pos = 0;
  while (pos < err.size()) {
    std::size_t end = err.find('\n', pos);
    end = end == std::string::npos ? err.size() : end + 1;
    const std::string line = err.substr(pos, end - pos);
    const bool warning =
        line.find("WARNING: ASan is ignoring requested __asan_handle_no_return") !=
            std::string::npos ||
        line.rfind("False positive error reports may follow", 0) == 0 ||
        line.rfind("For details see https://github.com/google/sanitizers/issues/189", 0) == 0;
    if (!warning) out += line;
    pos = end;
  }
  return out;
}

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
  r.err = without_asan_stack_warning(
      std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()));
  std::filesystem::remove(err_file);
  return r;
}

// The bytes of a file ("" if it cannot be read), and the lines of a text.
inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}
inline int count_lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

struct MeasuredResult {
  int code = -1;        // exit code; -1 when killed by a signal
  std::string err;      // stderr
  long max_rss_kb = 0;  // peak resident memory of the child (getrusage ru_maxrss)
};

// Runs `argv` (no shell) with `env` added to the environment, stdout to
// /dev/null, and measures the child's peak resident memory with wait4.
inline MeasuredResult run_measured(const std::vector<std::string>& argv,
                                   const std::vector<std::string>& env = {}) {
  static int counter = 0;
  const std::filesystem::path err_file =
      std::filesystem::temp_directory_path() /
      ("lpsim_test_measured_" + std::to_string(getpid()) + "_" + std::to_string(counter++));
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const int null = open("/dev/null", O_WRONLY);
    const int err = open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (null < 0 || err < 0) _exit(126);
    dup2(null, 1);
    dup2(err, 2);
    for (const auto& e : env) putenv(const_cast<char*>(e.c_str()));
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  struct rusage usage {};
  REQUIRE(wait4(pid, &status, 0, &usage) == pid);
  MeasuredResult r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.max_rss_kb = usage.ru_maxrss;
  std::ifstream in(err_file);
  r.err = without_asan_stack_warning(
      std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()));
  std::filesystem::remove(err_file);
  return r;
}

}  // namespace lpsim::test
