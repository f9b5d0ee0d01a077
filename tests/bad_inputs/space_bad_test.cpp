// Bad design-space files (docs/explore.md), each fed to `lpsim explore`. The
// space is read before the traces, so the refused cases name a trace that
// does not exist: reaching it would fail them with the wrong message.
#include <catch2/catch.hpp>

#include <string>

#include "bad_inputs/runner.h"

using namespace lpsim::bad_inputs;

namespace {

std::string explore(const std::string& space, const std::string& trace) {
  return "explore " + space + " --trace " + trace + " -o " + path_of("explore_out.csv");
}

}  // namespace

TEST_CASE("the catalogue's valid design-space file is accepted") {
  const std::string trace = path_of("space_good.lpt");
  // One iteration of LeNet-5: the one-point sweep below simulates in moments.
  REQUIRE(run("synth -q --model lenet5 --epochs 1 --batch 60000 -o " + trace).code == 0);
  const auto space = write("space_good.yaml",
                           "base: tpu_int8\n"
                           "axes:\n"
                           "  dram.latency_ns: {from: 100, to: 100, step: 1}\n");
  const Result r = run(explore(space, trace));
  CHECK(r.code == 0);
  CHECK(r.err.empty());
}

TEST_CASE("bad design space: an integer range whose values pass 2^63") {
  // Found by reading the code while writing fuzz_space: from + i x step
  // overflowed (UBSan) where the count, taken in doubles, is small.
  const auto p = write("space_overflow.yaml",
                       "base: tpu_int8\n"
                       "axes:\n"
                       "  dram.latency_ns: {from: -9000000000000000000, to: 9000000000000000000,"
                       " step: 9000000000000000000}\n");
  expect_refused(explore(p, path_of("absent.lpt")), {p, "axes.dram.latency_ns", "-2^63..2^63-1"});
}

TEST_CASE("bad design space: a value holding a newline is still one line") {
  // The value is quoted twice (the axis and the architecture's message); the
  // newline is printed escaped, as \n.
  const auto p = write("space_newline.yaml",
                       "base: tpu_int8\n"
                       "axes:\n"
                       "  dram.bandwidth_gbps: [\"4\\n-5\"]\n");
  expect_refused(explore(p, path_of("absent.lpt")),
                 {p, "axes.dram.bandwidth_gbps.0 = 4\\n-5", "must be a number > 0"});
}
