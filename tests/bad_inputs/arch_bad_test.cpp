// Bad architecture files and --set overrides (docs/architecture.md), each fed
// to `lpsim energy-table --arch`.
#include <catch2/catch.hpp>

#include <string>

#include "bad_inputs/runner.h"

using namespace lpsim::bad_inputs;

namespace {

// A complete design point; each case changes one line.
const std::string kArch = R"(name: catalogue
clock_ghz: 0.7
pe:
  type: fixed
  native_formats: [8]
array: {rows: 16, cols: 16}
dataflow: ws
buffers:
  - name: unified_buffer
    capacity_kb: 256
    banks: 4
    port_bits: 64
    holds: [A, E]
  - name: weight_buffer
    capacity_kb: 128
    banks: 4
    port_bits: 64
    holds: [W, G, Opt]
dram:
  bandwidth_gbps: 34
  latency_ns: 100
vector:
  lanes: 16
double_buffering: true
node_nm: 45
)";

std::string arch_with(const std::string& from, const std::string& to) {
  std::string a = kArch;
  const auto at = a.find(from);
  REQUIRE(at != std::string::npos);
  return a.replace(at, from.size(), to);
}

std::string arch_file(const std::string& name, const std::string& text) {
  return write(name, text);
}

}  // namespace

TEST_CASE("the catalogue's valid architecture file is accepted") {
  const Result r = run("energy-table --arch " + arch_file("good.yaml", kArch));
  CHECK(r.code == 0);
  CHECK(r.err.empty());
}

TEST_CASE("bad architecture: an empty file") {
  const auto p = arch_file("empty.yaml", "");
  expect_refused("energy-table --arch " + p, {p, "mapping"});
}

TEST_CASE("bad architecture: YAML cut off mid-file") {
  const auto p = arch_file("cut.yaml", kArch.substr(0, kArch.find("holds: [W") + 10));
  expect_refused("energy-table --arch " + p, {p, "line"});
}

TEST_CASE("bad architecture: binary garbage") {
  std::string bytes = "\x01\x02\xff\xfe[{\x00\x7f}:";
  bytes += std::string(64, '\x9c');
  const auto p = arch_file("garbage.yaml", bytes);
  expect_refused("energy-table --arch " + p, {p});
}

TEST_CASE("bad architecture: a negative DRAM bandwidth") {
  const auto p = arch_file("negative_bw.yaml", arch_with("bandwidth_gbps: 34", "bandwidth_gbps: -4"));
  expect_refused("energy-table --arch " + p, {p, "dram.bandwidth_gbps", "-4", "> 0"});
}

TEST_CASE("bad architecture: zero array rows") {
  const auto p = arch_file("zero_rows.yaml", arch_with("rows: 16", "rows: 0"));
  expect_refused("energy-table --arch " + p, {p, "array.rows", "0"});
}

TEST_CASE("bad architecture: a 10^12-PE array") {
  const auto p = arch_file("huge_array.yaml", arch_with("{rows: 16, cols: 16}", "{rows: 1000000, cols: 1000000}"));
  expect_refused("energy-table --arch " + p, {p, "array.", "at most"});
}

TEST_CASE("bad architecture: a buffer of 2^40 + 1 bytes") {
  const auto p = arch_file("huge_buffer.yaml", arch_with("capacity_kb: 256", "capacity_bytes: 1099511627777"));
  expect_refused("energy-table --arch " + p, {p, "buffers.0.capacity_bytes", "1099511627777", "1099511627776"});
}

TEST_CASE("bad architecture: a 2^50-byte buffer given in KiB") {
  const auto p = arch_file("huge_buffer_kb.yaml", arch_with("capacity_kb: 256", "capacity_kb: 1099511627776"));
  expect_refused("energy-table --arch " + p, {p, "buffers.0.capacity_kb"});
}

TEST_CASE("bad architecture: a NaN clock") {
  const auto p = arch_file("nan_clock.yaml", arch_with("clock_ghz: 0.7", "clock_ghz: .nan"));
  expect_refused("energy-table --arch " + p, {p, "clock_ghz"});
}

TEST_CASE("bad architecture: an infinite DRAM bandwidth") {
  const auto p = arch_file("inf_bw.yaml", arch_with("bandwidth_gbps: 34", "bandwidth_gbps: .inf"));
  expect_refused("energy-table --arch " + p, {p, "dram.bandwidth_gbps"});
}

TEST_CASE("bad architecture: a number given as a list") {
  const auto p = arch_file("list_lanes.yaml", arch_with("lanes: 16", "lanes: [16, 32]"));
  expect_refused("energy-table --arch " + p, {p, "vector.lanes"});
}

TEST_CASE("bad architecture: a word where a number belongs") {
  const auto p = arch_file("word_latency.yaml", arch_with("latency_ns: 100", "latency_ns: soon"));
  expect_refused("energy-table --arch " + p, {p, "dram.latency_ns", "soon"});
}

TEST_CASE("bad architecture: an unknown key") {
  const auto p = arch_file("unknown_key.yaml", arch_with("node_nm: 45", "node_nm: 45\nturbo: true"));
  expect_refused("energy-table --arch " + p, {p, "turbo"});
}

TEST_CASE("bad architecture: a key given twice") {
  const auto p = arch_file("duplicate_key.yaml", arch_with("node_nm: 45", "node_nm: 45\nclock_ghz: 1.0"));
  expect_refused("energy-table --arch " + p, {p, "clock_ghz", "twice"});
}

TEST_CASE("bad architecture: an unknown PE type") {
  const auto p = arch_file("pe_type.yaml", arch_with("type: fixed", "type: quantum"));
  expect_refused("energy-table --arch " + p, {p, "pe.type", "quantum", "bit_serial"});
}

TEST_CASE("bad architecture: a missing file") {
  const auto p = path_of("no_such_arch.yaml");
  expect_refused("energy-table --arch " + p, {p, "not found"});
}

TEST_CASE("bad architecture: a directory where the file belongs") {
  const auto p = path_of("arch_dir.yaml");
  fs::create_directories(p);
  expect_refused("energy-table --arch " + p, {p, "directory"});
}

TEST_CASE("bad override: --set of an unknown key") {
  expect_refused("energy-table --arch tpu_int8 --set array.depth=4", {"array.depth"});
}

TEST_CASE("bad override: --set without a value") {
  expect_refused("energy-table --arch tpu_int8 --set array.rows", {"array.rows", "="});
}

TEST_CASE("bad override: --set of a negative latency") {
  expect_refused("energy-table --arch tpu_int8 --set dram.latency_ns=-1", {"dram.latency_ns", "-1"});
}

TEST_CASE("bad architecture: zero tile slots of buffering") {
  const auto p =
      arch_file("buffering0.yaml", arch_with("double_buffering: true", "buffering: 0"));
  expect_refused("energy-table --arch " + p, {p, "buffering = 0", "1..16"});
}

TEST_CASE("bad architecture: zero output slots") {
  const auto p = arch_file("output_buffering0.yaml",
                           arch_with("double_buffering: true", "double_buffering: true\noutput_buffering: 0"));
  expect_refused("energy-table --arch " + p, {p, "output_buffering = 0", "1..16"});
}

TEST_CASE("bad architecture: buffering that contradicts double_buffering") {
  const auto p = arch_file("buffering_conflict.yaml",
                           arch_with("double_buffering: true", "double_buffering: false\nbuffering: 3"));
  expect_refused("energy-table --arch " + p, {p, "buffering = 3", "double_buffering"});
}

TEST_CASE("bad architecture: ideal_memory that is not a boolean") {
  const auto p = arch_file("ideal_maybe.yaml",
                           arch_with("double_buffering: true", "ideal_memory: maybe"));
  expect_refused("energy-table --arch " + p, {p, "ideal_memory = maybe", "true or false"});
}

namespace {
std::string one_conv_topology() {
  return write("one_conv.csv",
               "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
               "Num Filter, Strides,\nconv1, 34, 34, 3, 3, 16, 16, 1,\n");
}
TEST_CASE("bad architecture: an unknown convolution mapping") {
  const auto p = arch_file("conv_mapping.yaml", arch_with("array: {rows: 16, cols: 16}",
                                                          "array: {rows: 16, cols: 16, conv_mapping: rows}"));
  expect_refused("energy-table --arch " + p, {p, "array.conv_mapping = rows", "window | channels"});
}

TEST_CASE("bad architecture: a partial-sum width of 0 bits") {
  const auto p = arch_file("psum_bits.yaml", arch_with("type: fixed", "type: fixed\n  psum_bits: 0"));
  expect_refused("energy-table --arch " + p, {p, "pe.psum_bits = 0", "1"});
}

TEST_CASE("bad architecture: an unknown kind of DRAM output traffic") {
  const auto p = arch_file("dram_outputs.yaml", arch_with("bandwidth_gbps: 34",
                                                          "bandwidth_gbps: 34\n  outputs: partial"));
  expect_refused("energy-table --arch " + p, {p, "dram.outputs = partial", "final | psum"});
}

TEST_CASE("bad architecture: register-file accesses per MAC out of range") {
  for (const char* n : {"-1", "65", "2.5"}) {
    const auto p = arch_file("rf.yaml", arch_with("type: fixed", std::string("type: fixed\n  rf_accesses_per_mac: ") + n));
    expect_refused("energy-table --arch " + p,
                   {p, std::string("pe.rf_accesses_per_mac = ") + n, "0..64"});
  }
}

}  // namespace

TEST_CASE("bad architecture: a buffer too small to hold one tile") {
  // A 16 x 16 ws array pins a 16 x 16 block of 8-bit weights (256 bytes); two
  // slots need 512 bytes, the weight buffer has 64.
  const auto p = arch_file("tiny_buffer.yaml",
                           arch_with("capacity_kb: 128", "capacity_bytes: 64"));
  expect_refused("simulate --topology " + one_conv_topology() + " --arch " + p,
                 {p, "weight_buffer", "cannot hold one tile", "buffering 2"});
}

TEST_CASE("bad architecture: a DRAM bandwidth so low that the time arithmetic overflows") {
  const auto p = arch_file("slow_dram.yaml",
                           arch_with("bandwidth_gbps: 34", "bandwidth_gbps: 1e-300"));
  expect_refused("simulate --topology " + one_conv_topology() + " --arch " + p,
                 {p, "dram.bandwidth_gbps", "2^53 cycles"});
}

TEST_CASE("bad architecture: an unknown logic cell type for leakage") {
  const auto p = arch_file("leakage_logic.yaml",
                           arch_with("double_buffering: true", "double_buffering: true\nleakage: {logic: fast}"));
  expect_refused("energy-table --arch " + p, {p, "leakage.logic = fast", "lp | hp"});
}

TEST_CASE("bad architecture: an unknown SRAM cell type for one buffer") {
  const auto p = arch_file("buffer_cells.yaml", arch_with("    holds: [A, E]", "    holds: [A, E]\n    cells: ulp"));
  expect_refused("energy-table --arch " + p, {p, "buffers.0.cells = ulp", "lstp | hp"});
}

TEST_CASE("bad architecture: fusion that is not a boolean") {
  const auto p = arch_file("fusion_sometimes.yaml",
                           arch_with("double_buffering: true", "double_buffering: true\nfusion: sometimes"));
  expect_refused("energy-table --arch " + p, {p, "fusion = sometimes", "true or false"});
}
