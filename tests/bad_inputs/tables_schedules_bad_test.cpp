// Bad energy tables (docs/energy.md, reached through an architecture file's
// energy_table key) and bad schedules (docs/schedules.md: strings and file:).
#include <catch2/catch.hpp>

#include <string>

#include "bad_inputs/runner.h"

using namespace lpsim::bad_inputs;

namespace {

// An architecture file naming `table` as its energy table.
std::string arch_using(const std::string& name, const std::string& table) {
  return write(name + "_arch.yaml",
               "name: " + name +
                   "\nclock_ghz: 0.7\npe: {type: fixed, native_formats: [8]}\n"
                   "array: {rows: 16, cols: 16}\ndataflow: ws\nbuffers:\n"
                   "  - {name: ub, capacity_kb: 256, holds: [A, E]}\n"
                   "  - {name: wb, capacity_kb: 128, holds: [W, G, Opt]}\n"
                   "dram: {bandwidth_gbps: 34, latency_ns: 100}\nvector: {lanes: 16}\n"
                   "energy_table: " + table + "\n");
}

std::string synth(const std::string& schedule) {
  return "synth --model resnet20 --dataset cifar10 --epochs 1 -q --schedule '" + schedule +
         "' -o " + path_of("schedule_out.lpt");
}

}  // namespace

TEST_CASE("the catalogue's valid energy table is accepted") {
  const auto t = write("good_table.yaml", "int_mul_8: 0.25\n");
  const Result r = run("energy-table --arch " + arch_using("good", t));
  CHECK(r.code == 0);
  CHECK(r.err.empty());
}

TEST_CASE("bad energy table: a negative energy") {
  const auto t = write("negative_table.yaml", "int_mul_8: -0.2\n");
  expect_refused("energy-table --arch " + arch_using("negative", t), {t, "int_mul_8", "> 0"});
}

TEST_CASE("bad energy table: an unknown key") {
  const auto t = write("unknown_table.yaml", "int_mul_7: 0.2\n");
  expect_refused("energy-table --arch " + arch_using("unknown", t), {t, "int_mul_7"});
}

TEST_CASE("bad energy table: a key given twice") {
  const auto t = write("twice_table.yaml", "int_mul_8: 0.2\nint_mul_8: 0.3\n");
  expect_refused("energy-table --arch " + arch_using("twice", t), {t, "int_mul_8", "twice"});
}

TEST_CASE("bad energy table: infinity") {
  const auto t = write("inf_table.yaml", "dram_read64: .inf\n");
  expect_refused("energy-table --arch " + arch_using("inf", t), {t, "dram_read64", "> 0"});
}

TEST_CASE("bad energy table: a list where a mapping belongs") {
  const auto t = write("list_table.yaml", "- 1\n- 2\n");
  expect_refused("energy-table --arch " + arch_using("list", t), {t, "mapping"});
}

TEST_CASE("bad energy table: a file that is not there") {
  const auto t = path_of("no_such_table.yaml");
  const auto a = arch_using("missing_table", t);
  expect_refused("energy-table --arch " + a, {a, "energy_table", "no_such_table.yaml"});
}

TEST_CASE("bad schedule: a cycle count of zero") {
  expect_refused(synth("cyclic:3-8/8,cycles=0"), {"cyclic:3-8/8,cycles=0", "cycles"});
}

TEST_CASE("bad schedule: an unknown option") {
  expect_refused(synth("static:8/8,speed=2"), {"static:8/8,speed=2", "speed"});
}

TEST_CASE("bad schedule: a file: schedule that is not there") {
  const auto p = path_of("no_such_schedule.yaml");
  expect_refused(synth("file:" + p), {p});
}

TEST_CASE("bad schedule: a file: schedule whose starts go backwards") {
  const auto p = write("backwards.yaml",
                       "segments:\n  - {from_epoch: 0, fw: 8, bw: 8}\n"
                       "  - {from_epoch: 5, fw: 6, bw: 8}\n  - {from_epoch: 2, fw: 4, bw: 8}\n");
  expect_refused(synth("file:" + p), {p, "segments[2]", "from_epoch"});
}

TEST_CASE("bad schedule: a file: schedule with a 0-bit precision") {
  const auto p = write("zero_bit_schedule.json", R"([{"from_fraction": 0, "fw": 0, "bw": 8}])");
  expect_refused(synth("file:" + p), {p, "fw"});
}
