// Determinism (docs/reliability.md): the same inputs and seed give the same
// output files and reports byte for byte, run to run and for 1 or 2 threads.
// Wall-clock fields are the only exclusion: "wall_s" in trace metrics records
// and in `train --json`; `train --json` also echoes "threads" and "output"
// (the options given), which are blanked for the same reason.
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

namespace fs = std::filesystem;

namespace {

fs::path scratch() {
  fs::path d = fs::temp_directory_path() / ("lpsim_determinism_test_" + std::to_string(getpid()));
  fs::create_directories(d);
  return d;
}

// Runs `lpsim <args>` with `env` ("NAME=value ") before it; requires exit
// code 0 and returns stdout.
std::string run_ok(const std::string& args, const std::string& env = "") {
  const std::string cmd = env + std::string(LPSIM_BINARY) + " " + args + " 2>/dev/null";
  FILE* pipe = popen(cmd.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  std::array<char, 4096> buf{};
  std::size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), n);
  const int status = pclose(pipe);
  INFO("lpsim " << args);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  return out;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  REQUIRE(in.good());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Blanks the wall-clock fields (and `train --json`'s echo of --threads and -o).
std::string without_wall_clock(const std::string& text) {
  static const std::regex wall(R"re("wall_s"\s*:\s*[-+0-9.eE]+|"wall_s"\s*:\s*null)re");
  static const std::regex threads(R"re("threads"\s*:\s*[0-9]+)re");
  static const std::regex output(R"re("output"\s*:\s*"[^"]*")re");
  std::string s = std::regex_replace(text, wall, R"("wall_s":_)");
  s = std::regex_replace(s, threads, R"("threads":_)");
  return std::regex_replace(s, output, R"("output":_)");
}

bool have_fashion_mnist() {
  return fs::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz");
}

}  // namespace

TEST_CASE("synth writes the same trace bytes twice both plain and gzipped") {
  const fs::path d = scratch();
  for (const char* ext : {".lpt", ".lpt.gz"}) {
    INFO(ext);
    const std::string args =
        "synth --model resnet20 --dataset cifar10 --epochs 3 --schedule cyclic:3-8/8 -q -o ";
    run_ok(args + (d / (std::string("a") + ext)).string());
    run_ok(args + (d / (std::string("b") + ext)).string());
    const std::string a = slurp(d / (std::string("a") + ext));
    CHECK(a.size() > 100);
    CHECK(a == slurp(d / (std::string("b") + ext)));
  }
}

TEST_CASE("simulate prints the same JSON report twice") {
  const fs::path t = scratch() / "sim.lpt";
  run_ok("synth --model resnet20 --dataset cifar10 --epochs 2 --schedule progressive:3-8/8 -q -o " +
         t.string());
  for (const char* arch : {"tpu_int8", "bit_fusion", "stripes_bit_serial"}) {
    INFO(arch);
    const std::string args = "simulate " + t.string() + " --arch " + arch + " --json";
    const std::string a = run_ok(args);
    CHECK(a.find("energy") != std::string::npos);
    CHECK(a == run_ok(args));
  }
}

TEST_CASE("a tiny training run writes the same trace twice and with 1 or 2 threads") {
  if (!have_fashion_mnist()) {
    WARN("Fashion-MNIST not installed (dataset-fashion-mnist): case skipped");
    return;
  }
  const fs::path d = scratch();
  // ~1 s: 1024 training and 256 test images, 2 epochs of the MLP.
  auto train = [&](const std::string& name, int threads) {
    const fs::path out = d / name;
    const std::string json = run_ok(
        "train --model mlp --epochs 2 --batch 64 --train-limit 1024 --test-limit 256 "
        "--schedule cyclic:4-8/8 --seed 3 --json --threads " +
        std::to_string(threads) + " -o " + out.string());
    return std::pair{without_wall_clock(slurp(out)), without_wall_clock(json)};
  };
  const auto first = train("t1.lpt", 1);
  const auto again = train("t1_again.lpt", 1);
  const auto two = train("t2.lpt", 2);
  CHECK(first.first.find("\"epoch\"") != std::string::npos);
  CHECK(first.first == again.first);
  CHECK(first.second == again.second);
  CHECK(first.first == two.first);
  CHECK(first.second == two.second);
}

namespace {

// glibc picks its libm and string routines by CPU feature (ifunc); this
// tunable hides AVX, AVX2, FMA and AVX-512 from it, as on an older x86-64
// CPU. OpenBLAS detects its core itself: OPENBLAS_CORETYPE pins it.
const std::string kOldCpu =
    "GLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX,-AVX2,-FMA,-FMA4,-AVX512F,-AVX512VL,-AVX512DQ,"
    "-AVX512BW OPENBLAS_CORETYPE=Prescott ";

}  // namespace

TEST_CASE("simulated figures are the same bytes on another instruction path") {
  const fs::path trace = scratch() / "cpu.lpt";
  run_ok("synth --model resnet20 --dataset cifar10 --epochs 2 --schedule cyclic:3-8/8 -q -o " +
         trace.string());
  for (const char* arch : {"tpu_int8", "bit_fusion", "stripes_bit_serial"}) {
    INFO(arch);
    const std::string args = "simulate " + trace.string() + " --arch " + arch + " --json";
    CHECK(run_ok(args) == run_ok(args, kOldCpu));
  }
  CHECK(run_ok("bitops --json " + trace.string()) ==
        run_ok("bitops --json " + trace.string(), kOldCpu));
  // The build asks for no CPU-specific code: no -march / -mtune / -mavx flag.
  const fs::path commands =
      fs::path(LPSIM_BINARY).parent_path().parent_path() / "compile_commands.json";
  if (fs::exists(commands)) {
    const std::string text = slurp(commands);
    CHECK(text.find("-march") == std::string::npos);
    CHECK(text.find("-mavx") == std::string::npos);
    CHECK(text.find("-mtune") == std::string::npos);
  }
}

TEST_CASE(
    "trained results with OpenBLAS's core type pinned are the same on another instruction path") {
  if (!have_fashion_mnist()) {
    WARN("Fashion-MNIST not installed: skipped");
    return;
  }
  const fs::path a = scratch() / "pinned_a.lpt", b = scratch() / "pinned_b.lpt";
  const std::string args =
      "train --model mlp --epochs 1 --batch 64 --train-limit 1024 "
      "--test-limit 256 --schedule cyclic:3-8/8 -q -o ";
  run_ok(args + a.string(), "OPENBLAS_CORETYPE=Prescott ");
  run_ok(args + b.string(), kOldCpu);
  CHECK(without_wall_clock(slurp(a)) == without_wall_clock(slurp(b)));
}
