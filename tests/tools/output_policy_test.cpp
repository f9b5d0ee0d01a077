// End-to-end tests of the output-path policy (core/atomic_file.h,
// docs/reliability.md "Output paths"): -o - is standard output, devices are
// streams, and ENOSPC or EIO while writing each kind of output (trace,
// checkpoint, report directory, explore CSV, JSON on stdout) ends with a
// message, exit 2, and the previous file intact or --resume finishing.
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "support/shell.h"

namespace fs = std::filesystem;
using lpsim::test::run_shell;
using lpsim::test::ShellResult;
using lpsim::test::slurp;

namespace {

fs::path scratch() {
  fs::path d = fs::temp_directory_path() / ("lpsim_output_policy_" + std::to_string(getpid()));
  fs::create_directories(d);
  return d;
}

ShellResult run_lpsim(const std::string& args, const std::string& env = "") {
  return run_shell(env + (env.empty() ? "" : " ") + "timeout -s KILL 120 " +
                   std::string(LPSIM_BINARY) + " " + args);
}

// The error contract for a failed write: exit 2, one line naming `what` and
// `reason`, and no success message anywhere.
void expect_write_failure(const ShellResult& r, const std::string& what,
                          const std::string& reason) {
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  CHECK(r.code == 2);
  CHECK(lpsim::test::count_lines(r.err) == 1);
  CHECK_THAT(r.err,
             Catch::StartsWith("lpsim: ") && Catch::Contains(what) && Catch::Contains(reason));
  CHECK_THAT(r.out + r.err, !Catch::Contains("wrote"));
}

const char* kSynth = "synth --model lenet5 --epochs 2 --schedule cyclic:3-8/8";

bool have_fashion_mnist() {
  return fs::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz");
}

}  // namespace

TEST_CASE("synth -o - writes the trace on standard output and the summary on stderr") {
  const fs::path file = scratch() / "file.lpt";
  REQUIRE(run_lpsim(std::string(kSynth) + " -q -o " + file.string()).code == 0);
  const ShellResult r = run_lpsim(std::string(kSynth) + " -o -");
  REQUIRE(r.code == 0);
  CHECK(r.out == slurp(file));
  CHECK_THAT(r.err, Catch::StartsWith("wrote standard output"));
  const ShellResult j = run_lpsim(std::string(kSynth) + " -o - --json");
  REQUIRE(j.code == 0);
  CHECK(j.out == slurp(file));
  CHECK(nlohmann::json::parse(j.err)["output"] == "-");
  // The trace on stdout reads back through a pipe's file name.
  const ShellResult b = run_shell(std::string(LPSIM_BINARY) + " " + kSynth + " -q -o - | " +
                                  LPSIM_BINARY + " bitops /dev/stdin --json");
  CHECK(b.code == 0);
}

TEST_CASE(
    "a device given as -o or behind stdout is written, never replaced, and ENOSPC is exit 2") {
  const fs::path d = scratch() / "dev";
  fs::create_directories(d);
  const fs::path full = d / "full";
  fs::remove(full);
  if (::mknod(full.c_str(), S_IFCHR | 0666, ::makedev(1, 7)) != 0) {
    WARN("mknod not permitted here (not root): device cases skipped");
    return;
  }
  expect_write_failure(run_lpsim(std::string(kSynth) + " -o " + full.string()), full.string(),
                       std::strerror(ENOSPC));
  // JSON on a stdout that is the full device.
  const fs::path trace = scratch() / "for_json.lpt";
  REQUIRE(run_lpsim(std::string(kSynth) + " -q -o " + trace.string()).code == 0);
  expect_write_failure(run_lpsim("bitops --json " + trace.string() + " > " + full.string()),
                       "standard output", std::strerror(ENOSPC));
  expect_write_failure(run_lpsim(std::string(kSynth) + " -o - > " + full.string()),
                       "standard output", std::strerror(ENOSPC));
  struct stat st {};
  REQUIRE(::lstat(full.c_str(), &st) == 0);
  CHECK(S_ISCHR(st.st_mode));
}

TEST_CASE("a failing write of a trace keeps the old trace: ENOSPC and EIO") {
  const fs::path out = scratch() / "kept.lpt";
  REQUIRE(run_lpsim("synth --model lenet5 --epochs 1 -q -o " + out.string()).code == 0);
  const std::string before = slurp(out);
  for (const char* mode : {"enospc", "eio"}) {
    INFO(mode);
    const ShellResult r = run_lpsim(std::string(kSynth) + " -o " + out.string(),
                                    std::string("LPSIM_FAULT_WRITE=") + mode);
    expect_write_failure(r, out.string(), std::strerror(std::string(mode) == "eio" ? EIO : ENOSPC));
    CHECK(slurp(out) == before);
    CHECK(std::distance(fs::directory_iterator(scratch()), fs::directory_iterator()) > 0);
    for (const auto& e : fs::directory_iterator(scratch()))
      CHECK_THAT(e.path().filename().string(), !Catch::Contains(".tmp."));
  }
}

TEST_CASE("a failing write of a checkpoint keeps the old one, and --resume finishes the run") {
  if (!have_fashion_mnist()) {
    WARN("Fashion-MNIST not installed: skipped");
    return;
  }
  const fs::path dir = scratch() / "ckpt";
  fs::create_directories(dir);
  const std::string run =
      "train --model mlp --epochs 2 --batch 64 --train-limit 1024 "
      "--test-limit 256 --seed 3 -q -o " +
      (dir / "run.lpt").string();
  const fs::path whole = scratch() / "ckpt_whole.lpt";
  REQUIRE(run_lpsim("train --model mlp --epochs 2 --batch 64 --train-limit 1024 --test-limit 256 "
                    "--seed 3 -q -o " +
                    whole.string())
              .code == 0);
  // Epoch 1's checkpoint is written; epoch 2's hits a full disk.
  REQUIRE(run_lpsim(run + " --stop-after 1").code == 0);
  const std::string ckpt = slurp(dir / "run.lpt.ckpt");
  REQUIRE(!ckpt.empty());
  const ShellResult r = run_lpsim(run + " --resume", "LPSIM_FAULT_WRITE=enospc");
  expect_write_failure(r, "run.lpt.ckpt", std::strerror(ENOSPC));
  CHECK(slurp(dir / "run.lpt.ckpt") == ckpt);
  CHECK_FALSE(fs::exists(dir / "run.lpt"));
  REQUIRE(run_lpsim(run + " --resume").code == 0);
  // Equal but for the wall-clock seconds (docs/reliability.md, Determinism).
  const std::regex wall("\"wall_s\":[0-9.e+-]+");
  CHECK(std::regex_replace(slurp(dir / "run.lpt"), wall, "") ==
        std::regex_replace(slurp(whole), wall, ""));
}

TEST_CASE(
    "a failing write of a report keeps the previous report, and an empty directory is accepted") {
  const fs::path rep = scratch() / "report";
  fs::remove_all(rep);
  fs::create_directories(rep);  // mkdir out && lpsim compare --report out
  const std::string args =
      "compare --model resnet20 --dataset cifar10 --epochs 1 --schedules "
      "static:8/8,static:4/4 --bitops-only -q --report " +
      rep.string();
  const ShellResult first = run_lpsim(args);
  if (first.code == 2 && first.err.find("gnuplot") != std::string::npos) {
    WARN("gnuplot not installed: report cases skipped");
    return;
  }
  REQUIRE(first.code == 0);
  const std::string json = slurp(rep / "report.json");
  REQUIRE(!json.empty());
  for (const char* mode : {"enospc", "eio"}) {
    INFO(mode);
    const ShellResult r = run_lpsim(args, std::string("LPSIM_FAULT_WRITE=") + mode);
    expect_write_failure(r, "report", std::strerror(std::string(mode) == "eio" ? EIO : ENOSPC));
    CHECK(slurp(rep / "report.json") == json);
  }
  // No temporary report directory is left beside it.
  for (const auto& e : fs::directory_iterator(scratch()))
    CHECK_THAT(e.path().filename().string(), !Catch::StartsWith(".report."));
}

TEST_CASE("a failing write of explore results stops with a message, and --resume finishes") {
  const fs::path d = scratch() / "explore";
  fs::create_directories(d);
  const fs::path trace = d / "r20.lpt";
  REQUIRE(run_lpsim("synth --model resnet20 --dataset cifar10 --epochs 1 -q -o " + trace.string())
              .code == 0);
  const fs::path space = d / "space.yaml";
  std::ofstream(space) << "base: tpu_int8\naxes:\n  array.rows: [16, 32, 64, 128]\n";
  const std::string base = "explore " + space.string() + " --trace " + trace.string() + " -o ";
  const fs::path whole = d / "whole.csv", csv = d / "cut.csv";
  REQUIRE(run_lpsim(base + whole.string() + " -q --jobs 1").code == 0);
  const std::string header = slurp(whole).substr(0, slurp(whole).find('\n') + 1);
  for (const char* mode : {"enospc", "eio"}) {
    INFO(mode);
    fs::remove(csv);
    // The header and part of the first row get through, then the disk fills.
    const ShellResult r =
        run_lpsim(base + csv.string() + " -q --jobs 1",
                  std::string("LPSIM_FAULT_WRITE=") + mode +
                      " LPSIM_FAULT_WRITE_AFTER=" + std::to_string(header.size() + 20));
    expect_write_failure(r, csv.string(), std::strerror(std::string(mode) == "eio" ? EIO : ENOSPC));
    const ShellResult resumed = run_lpsim(base + csv.string() + " -q --jobs 1 --resume");
    INFO(resumed.err);
    REQUIRE(resumed.code == 0);
    CHECK(slurp(csv) == slurp(whole));
  }
  // -o - gives the same CSV on standard output, and --resume needs a file.
  const ShellResult s = run_lpsim(base + "- -q --jobs 1");
  REQUIRE(s.code == 0);
  CHECK(s.out == slurp(whole));
  const ShellResult refused = run_lpsim(base + "- -q --resume");
  CHECK(refused.code == 2);
  CHECK_THAT(refused.err, Catch::Contains("--resume"));
}

TEST_CASE("two runs writing one trace at once leave one of the two whole traces") {
  const fs::path d = scratch() / "race";
  fs::create_directories(d);
  const fs::path a = d / "a.lpt", b = d / "b.lpt", both = d / "both.lpt";
  const std::string big =
      "synth --model resnet20 --dataset cifar10 --epochs 40 -q "
      "--schedule cyclic:3-8/8,cycles=";
  REQUIRE(run_lpsim(big + "2000 -o " + a.string()).code == 0);
  REQUIRE(run_lpsim(big + "1999 -o " + b.string()).code == 0);
  REQUIRE(slurp(a) != slurp(b));
  for (int round = 0; round < 4; ++round) {
    const ShellResult r =
        run_shell(std::string(LPSIM_BINARY) + " " + big + "2000 -o " + both.string() + " & " +
                  LPSIM_BINARY + " " + big + "1999 -o " + both.string() + "; wait");
    CHECK(r.code == 0);
    const std::string got = slurp(both);
    CHECK((got == slurp(a) || got == slurp(b)));
  }
}
