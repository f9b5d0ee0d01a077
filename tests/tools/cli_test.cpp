// End-to-end tests of the lpsim command line: exit codes, one-line errors,
// and that the subcommands agree with each other.
#include <catch2/catch.hpp>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "support/shell.h"

namespace fs = std::filesystem;

namespace {

using Result = lpsim::test::ShellResult;

// Runs `lpsim <args>` through the shell, capturing stdout and stderr.
Result run(const std::string& args) {
  return lpsim::test::run_shell(std::string(LPSIM_BINARY) + " " + args);
}

int lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

// One scratch directory per process: ctest runs test cases in parallel.
fs::path scratch() {
  fs::path d = fs::temp_directory_path() / ("lpsim_cli_test_" + std::to_string(getpid()));
  fs::create_directories(d);
  return d;
}

}  // namespace

TEST_CASE("an unknown model is one line on stderr and exit code 2") {
  Result r = run("synth --model resnet9000 --epochs 1 -o " + (scratch() / "x.lpt").string());
  CHECK(r.code == 2);
  CHECK(lines(r.err) == 1);
  CHECK_THAT(r.err, Catch::Contains("resnet9000"));
}

TEST_CASE("malformed schedule strings are one-line errors with exit code 2") {
  for (const char* spec : {"cyclic:9-3/8", "static:0/8", "static:65/8", "cyclic:3-8", "warp:8/8"}) {
    INFO(spec);
    Result r = run(std::string("synth --model resnet20 --dataset cifar10 --schedule ") + spec +
                   " -o " + (scratch() / "x.lpt").string());
    CHECK(r.code == 2);
    CHECK(lines(r.err) == 1);
    CHECK_THAT(r.err, Catch::Contains(spec));
  }
}

TEST_CASE("a truncated, corrupted or future-version trace is refused with file and line") {
  fs::path good = scratch() / "good.lpt";
  REQUIRE(run("synth --model resnet20 --dataset cifar10 --epochs 2 --schedule cyclic:3-8/8 -q -o " +
              good.string())
              .code == 0);
  std::ifstream in(good);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  REQUIRE(lines(text) > 3);

  fs::path truncated = scratch() / "truncated.lpt";
  std::ofstream(truncated) << text.substr(0, text.size() / 2);
  fs::path corrupted = scratch() / "corrupted.lpt";
  std::string bad = text;
  bad[bad.find('\n') + 2] = '#';  // break the second line's JSON
  std::ofstream(corrupted) << bad;
  fs::path future = scratch() / "future.lpt";
  std::string fut = text;
  fut.replace(fut.find("\"lpsim_trace\":1"), 15, "\"lpsim_trace\":99");
  std::ofstream(future) << fut;

  for (const fs::path& p : {truncated, corrupted, future, scratch() / "missing.lpt"}) {
    INFO(p);
    Result r = run("bitops " + p.string());
    CHECK(r.code == 2);
    CHECK(lines(r.err) == 1);
    CHECK_THAT(r.err, Catch::Contains(p.filename().string()));
  }
  CHECK_THAT(run("bitops " + corrupted.string()).err, Catch::Contains("corrupted.lpt:2"));
  CHECK_THAT(run("bitops " + future.string()).err, Catch::Contains("99"));
}

TEST_CASE("every subcommand answers --help with an example and exit code 0") {
  for (const char* sub : {"models", "synth", "bitops", "compare", "simulate", "energy-table"}) {
    INFO(sub);
    Result r = run(std::string(sub) + " --help");
    CHECK(r.code == 0);
    CHECK_THAT(r.out, Catch::Contains("Example"));
  }
}

TEST_CASE("compare --json reports the same GBitOPs as bitops on the synthesized trace") {
  fs::path t = scratch() / "r20.lpt";
  REQUIRE(run("synth --model resnet20 --dataset cifar10 --epochs 3 --schedule cyclic:3-8/8 -q -o " +
              t.string())
              .code == 0);
  Result b = run("bitops --json " + t.string());
  REQUIRE(b.code == 0);
  Result c = run("compare --bitops-only --json --model resnet20 --dataset cifar10 --epochs 3 "
                 "--schedules static:8/8,cyclic:3-8/8");
  REQUIRE(c.code == 0);
  auto bj = nlohmann::json::parse(b.out);
  auto cj = nlohmann::json::parse(c.out);
  REQUIRE(cj.size() == 2);
  CHECK_THAT(cj[1]["schedule"].get<std::string>(), Catch::StartsWith("cyclic:3-8/8"));
  CHECK(cj[1]["total_gbitops"].get<double>() == bj["total_gbitops"].get<double>());
  // Static 8/8 is the ceiling of a 3..8-bit cycle with the same BW.
  CHECK(cj[0]["total_gbitops"].get<double>() > cj[1]["total_gbitops"].get<double>());
}
