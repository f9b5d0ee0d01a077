// Bad output paths and inputs past the input caps (docs/reliability.md,
// "Output paths" and "Resource limits"): each refused in one line, exit 2.

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "bad_inputs/runner.h"
#include "support/gzip_zeros.h"

using namespace lpsim::bad_inputs;

namespace {

const std::string kSynth = "synth --model lenet5 --epochs 1 -q";

// A trace of about 2.6 MB (ResNet-20, 100 epochs of short cycles).
std::string big_trace() {
  const std::string p = path_of("big.lpt");
  if (!fs::exists(p))
    REQUIRE(run("synth --model resnet20 --dataset cifar10 --epochs 100 -q --schedule "
                "cyclic:3-8/8,cycles=8000 -o " +
                p)
                .code == 0);
  REQUIRE(fs::file_size(p) > (std::uintmax_t{2} << 20));
  return p;
}

}  // namespace

TEST_CASE(
    "the catalogue's valid outputs and inputs are accepted (the cases below differ in one place)") {
  const std::string out = path_of("ok.lpt");
  CHECK(run(kSynth + " -o " + out).code == 0);
  const Result r = run("bitops -q " + big_trace(), "LPSIM_MAX_INPUT_MB=3 LPSIM_MAX_RECORD_MB=1");
  CHECK(r.code == 0);
  CHECK(r.err.empty());
  fs::create_directories(path_of("empty_report"));
  const Result rep =
      run("compare --model lenet5 --dataset fashion-mnist --epochs 1 --schedules static:8/8 "
          "--bitops-only "
          "-q --report " +
          path_of("empty_report"));
  INFO(rep.err);
  CHECK((rep.code == 0 || rep.err.find("gnuplot") != std::string::npos));
}

TEST_CASE("bad output path: -o names a directory") {
  const std::string d = path_of("a_dir");
  fs::create_directories(d);
  expect_refused(kSynth + " -o " + d, {d, "is a directory"});
}

TEST_CASE("bad output path: -o in a directory that does not exist") {
  const std::string p = path_of("no/such/dir/out.lpt");
  expect_refused(kSynth + " -o " + p, {p, "does not exist"});
}

TEST_CASE("bad output path: -o is a symlink loop") {
  const std::string p = path_of("loop.lpt");
  fs::remove(p);
  fs::create_symlink("loop.lpt", p);
  expect_refused(kSynth + " -o " + p, {p, "symbolic links"});
}

TEST_CASE("bad output path: train -o names a directory, refused before training") {
  const std::string d = path_of("train_dir");
  fs::create_directories(d);
  expect_refused("train --model mlp --epochs 1 -o " + d, {d, "is a directory"});
}

TEST_CASE("bad output path: simulate --layers-csv in a directory that does not exist") {
  const std::string p = path_of("no/such/dir/layers.csv");
  expect_refused("simulate " + big_trace() + " --timing analytic --layers-csv " + p,
                 {p, "does not exist"});
}

TEST_CASE("bad output path: simulate --layers-csv names a directory") {
  const std::string d = path_of("layers_dir");
  fs::create_directories(d);
  expect_refused("simulate " + big_trace() + " --timing analytic --layers-csv " + d,
                 {d, "is a directory"});
}

TEST_CASE("bad output path: explore -o - --resume (a stream has no rows to resume)") {
  const std::string space = write("space.yaml", "base: tpu_int8\naxes:\n  array.rows: [16]\n");
  expect_refused("explore " + space + " --trace " + big_trace() + " -o - --resume",
                 {"-o -", "--resume", "regular file"});
}

TEST_CASE("bad input cap: a trace over LPSIM_MAX_INPUT_MB") {
  const std::string p = big_trace();
  expect_refused("bitops " + p, {p, "more than 1 MiB", "LPSIM_MAX_INPUT_MB"},
                 "LPSIM_MAX_INPUT_MB=1");
}

TEST_CASE("bad input cap: a trace record (line) over LPSIM_MAX_RECORD_MB") {
  const std::string p = write(
      "long_record.lpt", R"({"lpsim_trace":1,"producer":")" + std::string(3 << 20, 'x') + "\"}\n");
  expect_refused("bitops " + p, {p + ":1", "more than 2 MiB", "LPSIM_MAX_RECORD_MB"},
                 "LPSIM_MAX_RECORD_MB=2");
}

TEST_CASE("bad input cap: a gzip bomb (32 MiB of zeros in 32 kB)") {
  const std::string gz = lpsim::test::gzip_zeros(std::size_t{32} << 20);
  const std::string p = write("bomb.lpt.gz", gz);
  expect_refused("bitops " + p, {p + ":1", "16 MiB", "LPSIM_MAX_RECORD_MB"});
}

TEST_CASE("bad input cap: a 1 GiB single-line trace") {
  const std::string p = write("gigabyte_line.lpt", R"({"lpsim_trace":1,"producer":")");
  fs::resize_file(p, std::uintmax_t{1} << 30);  // sparse
  expect_refused("bitops " + p, {p + ":1", "16 MiB", "LPSIM_MAX_RECORD_MB"});
  fs::remove(p);
}

TEST_CASE("bad input cap: an architecture file over LPSIM_MAX_RECORD_MB") {
  const std::string p = write("long_arch.yaml", "# " + std::string(2 << 20, 'c') + "\nname: x\n");
  expect_refused("energy-table --arch " + p, {p, "more than 1 MiB", "LPSIM_MAX_RECORD_MB"},
                 "LPSIM_MAX_RECORD_MB=1");
}

TEST_CASE("bad input cap: a topology CSV over LPSIM_MAX_RECORD_MB") {
  std::string csv =
      "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, "
      "Channels, Num Filter, Strides,\n";
  while (csv.size() <= (std::size_t{1} << 20)) csv += "conv, 8, 8, 3, 3, 4, 4, 1,\n";
  const std::string p = write("big_topology.csv", csv);
  expect_refused("simulate --topology " + p + " --arch tpu_int8",
                 {p, "more than 1 MiB", "LPSIM_MAX_RECORD_MB"}, "LPSIM_MAX_RECORD_MB=1");
}

TEST_CASE("bad input cap: LPSIM_MAX_RECORD_MB is not a number of MiB in range") {
  expect_refused("bitops " + big_trace(), {"LPSIM_MAX_RECORD_MB", "abc", "1..65536"},
                 "LPSIM_MAX_RECORD_MB=abc");
  expect_refused("bitops " + big_trace(), {"LPSIM_MAX_INPUT_MB", "0", "1..65536"},
                 "LPSIM_MAX_INPUT_MB=0");
}
