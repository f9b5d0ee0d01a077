// Architecture files: the shipped design points, --set overrides, and one
// clear error (file, key, allowed range) for each kind of bad input.
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "sim/arch.h"

using namespace lpsim;
using Catch::Matchers::Contains;

namespace fs = std::filesystem;

namespace {

// A valid file every bad case below breaks in one place.
const std::string kGood = R"(name: good
clock_ghz: 1.0
pe:
  type: fixed
  native_formats: [8, 16]
array: {rows: 16, cols: 32}
dataflow: ws
buffers:
  - name: act
    capacity_kb: 64
    banks: 4
    port_bits: 64
    holds: [A, E]
  - name: wgt
    capacity_bytes: 32768
    holds: [W, G, Opt]
dram:
  bandwidth_gbps: 25.6
  latency_ns: 80
double_buffering: true
node_nm: 45
)";

class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() /
            ("lpsim_arch_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string write(const std::string& name, const std::string& text) const {
    const fs::path p = path_ / name;
    std::ofstream(p) << text;
    return p.string();
  }
  const fs::path& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  fs::path path_;
};

// kGood with `from` replaced by `to` (which must occur exactly once).
std::string with(const std::string& from, const std::string& to) {
  const auto pos = kGood.find(from);
  REQUIRE(pos != std::string::npos);
  REQUIRE(kGood.find(from, pos + 1) == std::string::npos);
  std::string s = kGood;
  s.replace(pos, from.size(), to);
  return s;
}

// The one-line error of loading `text` as bad.yaml.
std::string error_of(const std::string& text, const std::vector<std::string>& overrides = {}) {
  TempDir dir;
  const std::string path = dir.write("bad.yaml", text);
  try {
    load_arch(path, overrides);
  } catch (const InputError& e) {
    const std::string msg = e.what();
    CHECK(msg.find('\n') == std::string::npos);
    CHECK_THAT(msg, Contains(path));
    return msg;
  }
  FAIL("no InputError for:\n" << text);
  return "";
}

// The five points `compare` puts side by side: one scale and one memory system,
// so that they differ in the PE (docs/architecture.md, "The shipped design points").
const char* const kComparePoints[] = {"tpu_int8", "stripes_bit_serial", "bit_fusion",
                                      "multi_pass_16_32", "gpu_tensor_core"};
// Published machines as their papers and simulators configure them, to check
// lpsim against (docs/architecture.md, "Validation design points").
const char* const kValidationPoints[] = {"bitfusion_isca18", "eyeriss_isca16"};

}  // namespace

// ---- shipped design points ---------------------------------------------------

TEST_CASE("the five compare points and the two validation points are shipped, in sorted order",
          "[arch]") {
  const auto names = shipped_arch_names();
  CHECK(std::is_sorted(names.begin(), names.end()));
  for (const char* required : kComparePoints)
    CHECK(std::find(names.begin(), names.end(), required) != names.end());
  for (const char* required : kValidationPoints)
    CHECK(std::find(names.begin(), names.end(), required) != names.end());
}

TEST_CASE("every shipped architecture file loads and is named after its file", "[arch]") {
  for (const auto& name : shipped_arch_names()) {
    INFO(name);
    const std::string path = resolve_arch_path(name);
    CHECK(path == std::string(LPSIM_ARCH_DIR) + "/" + name + ".yaml");
    const ArchConfig a = load_arch(path);
    CHECK(a.name == name);
    CHECK(a.source == path);
    CHECK(a.clock_ghz > 0);
    CHECK(a.array.pes() > 0);
    // Every role has a home, and read/write bandwidths are resolved.
    for (const auto& b : a.buffers) {
      CHECK(b.read_bits_per_cycle > 0);
      CHECK(b.write_bits_per_cycle > 0);
    }
  }
}

TEST_CASE("the compare points cover the four PE types", "[arch]") {
  CHECK(load_arch(resolve_arch_path("tpu_int8")).pe.type == "fixed");
  CHECK(load_arch(resolve_arch_path("gpu_tensor_core")).pe.type == "fixed");
  CHECK(load_arch(resolve_arch_path("stripes_bit_serial")).pe.type == "bit_serial");
  CHECK(load_arch(resolve_arch_path("bit_fusion")).pe.type == "bit_fusion");
  CHECK(load_arch(resolve_arch_path("multi_pass_16_32")).pe.type == "multi_pass");
  // The validation points: Bit Fusion's own array and Eyeriss's 16-bit fixed MACs.
  CHECK(load_arch(resolve_arch_path("bitfusion_isca18")).pe.type == "bit_fusion");
  CHECK(load_arch(resolve_arch_path("eyeriss_isca16")).pe.type == "fixed");
}

TEST_CASE("tpu_int8 is one TPUv2 TensorCore with INT8 MACs and TPU-style accumulators", "[arch]") {
  const ArchConfig a = load_arch(resolve_arch_path("tpu_int8"));
  // Jouppi et al. CACM 2020: one 128x128 MXU per TensorCore, 700 MHz, HBM
  // 700 GB/s per chip of 2 TensorCores, 32 MiB on chip (16 MiB a core).
  CHECK(a.array.rows == 128);
  CHECK(a.array.cols == 128);
  CHECK(a.clock_ghz == 0.7);
  CHECK(a.dram.bandwidth_gbps == 700.0 / 2);
  std::int64_t on_chip = 0;
  for (const auto& b : a.buffers) on_chip += b.capacity_bytes;
  CHECK(on_chip == (std::int64_t{32} << 20) / 2);
  CHECK(a.dataflow == Dataflow::WeightStationary);
  CHECK(a.pe.native_formats == std::vector<Format>{Format::integer(8)});
  // Jouppi et al. ISCA 2017: 4096 32-bit accumulators per array column.
  REQUIRE(a.accumulators.present);
  CHECK(a.accumulators.storage.capacity_bytes == 4096 * a.array.cols * 4);
  CHECK(a.accumulators.storage.write_bits_per_cycle == double(a.array.cols * 32));
}

TEST_CASE("every compare point shares tpu_int8's memory system", "[arch]") {
  const ArchConfig t = load_arch(resolve_arch_path("tpu_int8"));
  for (const std::string name : kComparePoints) {
    INFO(name);
    const ArchConfig a = load_arch(resolve_arch_path(name));
    CHECK(a.dram == t.dram);
    CHECK(a.vector == t.vector);
    REQUIRE(a.buffers.size() == t.buffers.size());
    for (std::size_t i = 0; i < a.buffers.size(); ++i) {
      CHECK(a.buffers[i].capacity_bytes == t.buffers[i].capacity_bytes);
      CHECK(a.buffers[i].read_bits_per_cycle == t.buffers[i].read_bits_per_cycle);
      CHECK(a.buffers[i].holds == t.buffers[i].holds);
    }
    // The same accumulator depth (4096 32-bit sums) beside each column.
    REQUIRE(a.accumulators.present);
    CHECK(a.accumulators.storage.capacity_bytes == 4096 * a.array.cols * 4);
    CHECK(a.accumulators.storage.banks == a.array.cols);
  }
}

TEST_CASE("bitfusion_isca18 is Bit Fusion's bf_e_conf.ini configuration", "[arch]") {
  const ArchConfig a = load_arch(resolve_arch_path("bitfusion_isca18"));
  // bf_e_conf.ini (github hsharma35/bitfusion): a = 16, c = 32, 500 MHz, high_prec 8,
  // low_prec 2, Wgt/Act/Out_SRAM 65536/32768/16384 bytes, if_width 192 bits per cycle.
  CHECK(a.array.rows == 16);
  CHECK(a.array.cols == 32);
  CHECK(a.clock_ghz == 0.5);
  CHECK(a.pe.type == "bit_fusion");
  CHECK(a.pe.brick_bits == 2);
  CHECK(a.pe.fusion_bits == 8);
  REQUIRE(a.buffers.size() == 2);
  CHECK(a.buffers[0].capacity_bytes == 32768);  // input buffer: A, E
  CHECK(a.buffers[0].holds == std::vector<Role>{Role::A, Role::E});
  CHECK(a.buffers[1].capacity_bytes == 65536);  // weight buffer: W, G, Opt
  CHECK(a.buffers[1].holds == std::vector<Role>{Role::W, Role::G, Role::Opt});
  REQUIRE(a.accumulators.present);  // the 32-bit output buffer
  CHECK(a.accumulators.storage.capacity_bytes == 16384);
  // simulator.py's banking: WBUF one bank per unit (N * M), IBUF N, OBUF M; 32-bit words.
  CHECK(a.buffers[1].banks == 16 * 32);
  CHECK(a.buffers[0].banks == 16);
  CHECK(a.accumulators.storage.banks == 32);
  CHECK(a.accumulators.storage.read_bits_per_cycle == 32.0 * 32);
  // 192 bits per cycle at 500 MHz, in GB/s; no DRAM latency, 15 pJ per bit (stats.py).
  CHECK(a.dram.bandwidth_gbps == Approx(192 * 0.5 / 8));
  CHECK(a.dram.latency_ns == 0);
  CHECK(a.dram.pj_per_bit == 15);
  CHECK(a.buffering == 2);
  CHECK(a.node_nm == 45);
}

TEST_CASE("eyeriss_isca16 is the Eyeriss chip's array, buffer, word width, clock and node",
          "[arch]") {
  const ArchConfig a = load_arch(resolve_arch_path("eyeriss_isca16"));
  // Chen et al., JSSC 2017: 168 PEs in 12 rows x 14 columns, a 108 KB global buffer,
  // 16-bit fixed point, 200 MHz, 65 nm; a 224 x 16-bit filter scratch pad per PE.
  CHECK(a.array.rows == 12);
  CHECK(a.array.cols == 14);
  CHECK(a.array.pes() == 168);
  CHECK(a.clock_ghz == 0.2);
  CHECK(a.pe.type == "fixed");
  CHECK(a.pe.native_formats == std::vector<Format>{Format::integer(16)});
  REQUIRE(a.buffers.size() == 2);
  CHECK(a.buffers[0].capacity_bytes == 108 * 1024);
  CHECK(a.buffers[0].holds == std::vector<Role>{Role::A, Role::E});
  CHECK(a.buffers[1].capacity_bytes == 168 * 224 * 2);
  CHECK(a.buffers[1].banks == 168);
  CHECK(a.buffers[1].holds == std::vector<Role>{Role::W, Role::G, Role::Opt});
  CHECK_FALSE(a.accumulators.present);  // partial sums leave the array through the GLB
  // A 64-bit link at a 90 MHz link clock.
  CHECK(a.dram.bandwidth_gbps == Approx(64 * 0.09 / 8));
  CHECK(a.node_nm == 65);
}

TEST_CASE("the default design point is tpu_int8.yaml", "[arch]") {
  ArchConfig shipped = load_arch(resolve_arch_path("tpu_int8"));
  ArchConfig def = default_arch();
  CHECK(def.source == "built-in default");
  shipped.source = def.source;
  CHECK(def == shipped);
}

TEST_CASE("arch_to_yaml writes a file that loads back to the same design point", "[arch]") {
  TempDir dir;
  for (const auto& name : shipped_arch_names()) {
    INFO(name);
    ArchConfig a = load_arch(resolve_arch_path(name));
    const std::string path = dir.write(name + ".yaml", arch_to_yaml(a));
    ArchConfig b = load_arch(path);
    b.source = a.source;
    CHECK(a == b);
  }
}

TEST_CASE("resolve_arch_path leaves paths alone and maps shipped names into sim/arch", "[arch]") {
  CHECK(resolve_arch_path("bit_fusion") == std::string(LPSIM_ARCH_DIR) + "/bit_fusion.yaml");
  CHECK(resolve_arch_path("some/dir/x.yaml") == "some/dir/x.yaml");
  CHECK(resolve_arch_path("no_such_design") == "no_such_design");
}

TEST_CASE("optional keys take their documented defaults", "[arch]") {
  TempDir dir;
  const ArchConfig a = load_arch(dir.write("good.yaml", kGood));
  CHECK(a.vector.lanes == 32);                      // = array.cols
  CHECK(a.buffers[0].capacity_bytes == 64 * 1024);  // capacity_kb is KiB
  CHECK(a.buffers[0].read_bits_per_cycle == 4 * 64);
  CHECK(a.buffers[1].banks == 1);
  CHECK(a.buffers[1].port_bits == 64);
  CHECK(a.buffers[1].write_bits_per_cycle == 64);
  CHECK(a.dram.pj_per_bit == 0);  // from the energy table
  CHECK(a.pe.pass_energy_overhead == 0.10);
  const ArchConfig b = load_arch(dir.write("nolat.yaml", with("  latency_ns: 80\n", "")));
  CHECK(b.dram.latency_ns == 100);
  CHECK(a.buffering == 2);  // double_buffering: true
  CHECK_FALSE(a.ideal_memory);
}

TEST_CASE("buffering gives the tile slots, double_buffering true and false mean 2 and 1",
          "[arch]") {
  TempDir dir;
  CHECK(load_arch(dir.write("db.yaml", with("double_buffering: true", "double_buffering: false")))
            .buffering == 1);
  CHECK(load_arch(dir.write("b3.yaml", with("double_buffering: true", "buffering: 3")))
            .buffering == 3);
  CHECK(load_arch(dir.write("b4.yaml", kGood), {"buffering=4"}).buffering == 4);
  CHECK(load_arch(dir.write("ideal.yaml", kGood), {"ideal_memory=true"}).ideal_memory);
  // Both keys, in agreement, are fine; in contradiction, an error.
  CHECK(load_arch(dir.write("both.yaml", with("double_buffering: true",
                                              "double_buffering: true\nbuffering: 4")))
            .buffering == 4);
  CHECK_THAT(error_of(with("double_buffering: true", "double_buffering: true\nbuffering: 1")),
             Contains("buffering = 1: must be >= 2 with double_buffering: true"));
  CHECK_THAT(error_of(kGood, {"buffering=17"}), Contains("buffering = 17: must be an integer 1..16"));
}

// ---- --set -------------------------------------------------------------------

TEST_CASE("set overrides (--set) scalars, nested keys and list entries before validation",
          "[arch]") {
  TempDir dir;
  const std::string path = dir.write("good.yaml", kGood);
  const ArchConfig a =
      load_arch(path, {"array.rows=32", "dram.bandwidth_gbps=12.8", "pe.type=bit_serial",
                       "buffers.0.capacity_kb=256", "dataflow=os", "vector.lanes=8",
                       "pe.packing.4=2", "pe.native_formats.1=fp16", "buffers.1.holds=[W, G]",
                       "buffers.0.holds.2=Opt", "name=swept"});
  CHECK(a.array.rows == 32);
  CHECK(a.array.cols == 16 * 2);
  CHECK(a.dram.bandwidth_gbps == 12.8);
  CHECK(a.pe.type == "bit_serial");
  CHECK(a.buffers[0].capacity_bytes == 256 * 1024);
  CHECK(a.dataflow == Dataflow::OutputStationary);
  CHECK(a.vector.lanes == 8);
  REQUIRE(a.pe.packed_rates.size() == 1);
  CHECK(a.pe.packed_rates[0].first == Format::integer(4));
  CHECK(a.pe.packed_rates[0].second == 2);
  CHECK(a.pe.native_formats[1] == Format::floating(5, 10));
  CHECK(a.buffers[0].holds == std::vector<Role>{Role::A, Role::E, Role::Opt});
  CHECK(a.name == "swept");
}

TEST_CASE("set overrides (--set) apply to the default design point too", "[arch]") {
  const ArchConfig a = default_arch({"array.rows=32", "array.cols=32", "clock_ghz=1"});
  CHECK(a.array.pes() == 32 * 32);
  CHECK(a.clock_ghz == 1.0);
  CHECK(a.source == "built-in default");
  CHECK_THROWS_WITH(default_arch({"array.rows=-1"}),
                    Contains("built-in default") && Contains("array.rows = -1"));
}

TEST_CASE("a value set by --set is validated like one in the file", "[arch]") {
  const std::string msg = error_of(kGood, {"dram.bandwidth_gbps=-4"});
  CHECK_THAT(msg, Contains("dram.bandwidth_gbps = -4") && Contains("must be a number > 0"));
}

TEST_CASE("a malformed or unknown --set is an error naming the override", "[arch]") {
  TempDir dir;
  const std::string path = dir.write("good.yaml", kGood);
  auto err = [&](const std::string& o) {
    try {
      load_arch(path, {o});
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  CHECK_THAT(err("array.rows"), Contains("--set array.rows:") && Contains("key.path=value"));
  CHECK_THAT(err("=5"), Contains("--set =5"));
  CHECK_THAT(err("array.rowz=5"),
             Contains("--set array.rowz=5") && Contains("unknown key") && Contains("rows, cols"));
  CHECK_THAT(err("clock=1"), Contains("--set clock=1") && Contains("clock_ghz"));
  CHECK_THAT(err("array..rows=5"), Contains("--set array..rows=5") && Contains("empty"));
  CHECK_THAT(err("array.rows="), Contains("--set array.rows=") && Contains("empty value"));
  CHECK_THAT(err("buffers.7.banks=2"), Contains("--set buffers.7.banks=2") &&
                                           Contains("out of range") && Contains("2 entries"));
  CHECK_THAT(err("buffers.x.banks=2"), Contains("--set buffers.x.banks=2") && Contains("index"));
  CHECK_THAT(err("clock_ghz.x=1"), Contains("--set clock_ghz.x=1") && Contains("no sub-keys"));
  CHECK_THAT(err("array.rows=[1"), Contains("--set array.rows=[1") && Contains("not valid YAML"));
}

// ---- bad files: each error names file, key and allowed range ------------------

TEST_CASE("an unknown key is an error at every level", "[arch]") {
  CHECK_THAT(error_of(with("clock_ghz: 1.0", "clok_ghz: 1.0")),
             Contains("clok_ghz = 1.0: unknown key") && Contains("clock_ghz"));
  CHECK_THAT(error_of(with("  type: fixed\n", "  type: fixed\n  lanes: 4\n")),
             Contains("pe.lanes = 4: unknown key") && Contains("native_formats"));
  CHECK_THAT(
      error_of(with("    capacity_bytes: 32768\n", "    capacity_bytes: 32768\n    size: 1\n")),
      Contains("buffers.1.size = 1: unknown key") && Contains("capacity_kb"));
  CHECK_THAT(error_of(with("  latency_ns: 80\n", "  latency_ns: 80\n  channels: 2\n")),
             Contains("dram.channels = 2: unknown key") && Contains("bandwidth_gbps"));
}

TEST_CASE("a key given twice is an error rather than a silent choice", "[arch]") {
  CHECK_THAT(error_of(with("rows: 16, cols: 32", "rows: 16, rows: 64, cols: 32")),
             Contains("array.rows = 64: key given twice"));
  CHECK_THAT(error_of(kGood + "clock_ghz: 2.0\n"), Contains("clock_ghz = 2.0: key given twice"));
}

TEST_CASE("a missing required key is an error saying it is required", "[arch]") {
  CHECK_THAT(error_of(with("clock_ghz: 1.0\n", "")),
             Contains("clock_ghz = (missing): required: a number > 0 and <= 10"));
  CHECK_THAT(error_of(with("array: {rows: 16, cols: 32}", "array: {cols: 32}")),
             Contains("array.rows = (missing): required: an integer 1..1048576"));
  CHECK_THAT(error_of(with("  bandwidth_gbps: 25.6\n", "")),
             Contains("dram.bandwidth_gbps = (missing): required"));
  CHECK_THAT(error_of(with("  type: fixed\n", "")),
             Contains("pe.type = (missing): required: one of fixed | bit_serial | bit_fusion | "
                      "multi_pass"));
  CHECK_THAT(error_of(with("  native_formats: [8, 16]\n", "")),
             Contains("pe.native_formats = (missing): required for pe.type fixed"));
}

TEST_CASE("a negative DRAM bandwidth is an error with the allowed range", "[arch]") {
  CHECK_THAT(error_of(with("bandwidth_gbps: 25.6", "bandwidth_gbps: -4")),
             Contains("dram.bandwidth_gbps = -4: must be a number > 0 and <= 100000"));
  CHECK_THAT(error_of(with("bandwidth_gbps: 25.6", "bandwidth_gbps: 0")),
             Contains("dram.bandwidth_gbps = 0: must be a number > 0"));
}

TEST_CASE("a zero or absurd buffer capacity is an error with the allowed range", "[arch]") {
  CHECK_THAT(error_of(with("capacity_kb: 64", "capacity_kb: 0")),
             Contains("buffers.0.capacity_kb = 0: must be a number > 0"));
  // 2^41 bytes, over the 2^40-byte (1 TiB) limit
  CHECK_THAT(error_of(with("capacity_bytes: 32768", "capacity_bytes: 2199023255552")),
             Contains("buffers.1.capacity_bytes = 2199023255552: must be an integer "
                      "1..1099511627776"));
  CHECK_THAT(error_of(with("capacity_kb: 64", "capacity_kb: 0.1")),
             Contains("buffers.0.capacity_kb = 0.1: must be a whole number of bytes"));
}

TEST_CASE("a NaN or infinite clock is an error", "[arch]") {
  CHECK_THAT(error_of(with("clock_ghz: 1.0", "clock_ghz: .nan")),
             Contains("clock_ghz = .nan: must be a number > 0 and <= 10"));
  CHECK_THAT(error_of(with("clock_ghz: 1.0", "clock_ghz: .inf")), Contains("clock_ghz = .inf"));
}

TEST_CASE("a value of the wrong type is an error naming the expected type", "[arch]") {
  CHECK_THAT(error_of(with("rows: 16", "rows: sixteen")),
             Contains("array.rows = sixteen: must be an integer 1..1048576"));
  CHECK_THAT(error_of(with("rows: 16", "rows: 1.5")),
             Contains("array.rows = 1.5: must be an integer"));
  CHECK_THAT(error_of(with("double_buffering: true", "double_buffering: maybe")),
             Contains("double_buffering = maybe: must be true or false"));
  CHECK_THAT(error_of(with("array: {rows: 16, cols: 32}", "array: 512")),
             Contains("array = 512: must be a mapping with keys rows, cols"));
}

TEST_CASE("more PEs than 2^20 is an error", "[arch]") {
  CHECK_THAT(error_of(with("rows: 16, cols: 32", "rows: 2048, cols: 1024")),
             Contains("array.rows x array.cols = 2048 x 1024: at most 1048576 PEs"));
}

TEST_CASE("an unsupported width or format is an error naming the list entry", "[arch]") {
  CHECK_THAT(error_of(with("[8, 16]", "[8, 65]")),
             Contains("pe.native_formats.1 = 65: must be an integer width 1..64"));
  CHECK_THAT(error_of(with("[8, 16]", "[8, fp13]")), Contains("pe.native_formats.1 = fp13"));
  CHECK_THAT(error_of(with("  type: fixed\n", "  type: fixed\n  packing: {4: 0}\n")),
             Contains("pe.packing.4 = 0: must be a number > 0 and <= 64"));
  CHECK_THAT(error_of(with("  type: fixed\n", "  type: fixed\n  serial_max_bits: 0\n")),
             Contains("pe.serial_max_bits = 0: must be an integer 1..64"));
  CHECK_THAT(error_of(with("  type: fixed\n", "  type: fixed\n  fusion_bits: 6\n")),
             Contains("pe.fusion_bits = 6: must be pe.brick_bits (2) times a power of two"));
}

TEST_CASE("an unknown PE type or dataflow lists the allowed names", "[arch]") {
  CHECK_THAT(error_of(with("type: fixed", "type: systolic")),
             Contains("pe.type = systolic: must be one of fixed | bit_serial | bit_fusion | "
                      "multi_pass"));
  CHECK_THAT(error_of(with("dataflow: ws", "dataflow: rs")),
             Contains("dataflow = rs: must be one of ws | os | is"));
  CHECK_THAT(error_of(with("  type: fixed\n", "  type: fixed\n  serial_operand: E\n")),
             Contains("pe.serial_operand = E: must be A or W"));
}

TEST_CASE("every operand role must be held by some buffer", "[arch]") {
  CHECK_THAT(error_of(with("[W, G, Opt]", "[W, G]")),
             Contains("buffers.*.holds = no buffer holds Opt") &&
                 Contains("every role W, A, E, G, Opt must be held by at least one buffer"));
  CHECK_THAT(error_of(with("[W, G, Opt]", "[W, G, X]")),
             Contains("buffers.1.holds.2 = X: must be one of W, A, E, G, Opt"));
  CHECK_THAT(error_of(with("name: wgt", "name: act")),
             Contains("buffers.1.name = act: must be unique"));
}

TEST_CASE("an energy table the file names must exist beside it", "[arch]") {
  CHECK_THAT(error_of(kGood + "energy_table: tables/none.yaml\n"),
             Contains("energy_table = tables/none.yaml: must name a readable energy-table file"));
  TempDir dir;
  dir.write("my_table.yaml", "int_mul_8: 0.25\n");
  const ArchConfig a = load_arch(dir.write("good.yaml", kGood + "energy_table: my_table.yaml\n"));
  CHECK(a.energy_table == (dir.path() / "my_table.yaml").string());
}

TEST_CASE("a missing file, a directory or broken YAML is an error naming the file", "[arch]") {
  TempDir dir;
  const std::string missing = (dir.path() / "nope.yaml").string();
  CHECK_THROWS_WITH(load_arch(missing), Contains(missing) && Contains("not found"));
  CHECK_THROWS_WITH(load_arch(dir.path().string()),
                    Contains(dir.path().string()) && Contains("is a directory"));
  CHECK_THAT(error_of("clock_ghz: [1.0\n"),
             Contains("bad.yaml: line") && Contains("not valid YAML"));
  CHECK_THAT(error_of(""), Contains("(top level)") && Contains("must be a mapping"));
  CHECK_THAT(error_of("- 1\n- 2\n"), Contains("(top level)") && Contains("must be a mapping"));
  // A bare name that is no shipped design point lists the shipped ones.
  CHECK_THROWS_WITH(load_arch("no_such_design"),
                    Contains("no_such_design") && Contains("tpu_int8"));
}

// ---- accumulators --------------------------------------------------------------

TEST_CASE("an accumulators section is optional and read with the buffer keys", "[arch]") {
  TempDir dir;
  const ArchConfig none = load_arch(dir.write("good.yaml", kGood));
  CHECK_FALSE(none.accumulators.present);
  const ArchConfig a = load_arch(dir.write(
      "acc.yaml", kGood + "accumulators:\n  capacity_kb: 64\n  banks: 32\n  port_bits: 32\n"));
  REQUIRE(a.accumulators.present);
  CHECK(a.accumulators.storage.name == "accumulators");
  CHECK(a.accumulators.storage.capacity_bytes == 64 * 1024);
  CHECK(a.accumulators.storage.read_bits_per_cycle == 32 * 32);
  CHECK(a.accumulators.storage.write_bits_per_cycle == 32 * 32);
  CHECK(a.accumulators.storage.holds.empty());
  // --set creates the section on a file without one.
  const ArchConfig s = load_arch(dir.write("good2.yaml", kGood), {"accumulators.capacity_kb=128"});
  REQUIRE(s.accumulators.present);
  CHECK(s.accumulators.storage.capacity_bytes == 128 * 1024);
  CHECK(s.accumulators.storage.write_bits_per_cycle == 64);  // 1 bank x 64 bits, the defaults
}

TEST_CASE("a bad accumulators section is an error naming the key and the allowed range", "[arch]") {
  CHECK_THAT(error_of(kGood + "accumulators: 5\n"),
             Contains("accumulators = 5: must be a mapping with keys") && Contains("capacity_kb"));
  CHECK_THAT(error_of(kGood + "accumulators:\n  banks: 4\n"),
             Contains("accumulators.capacity_bytes = (missing): required (or capacity_kb)"));
  CHECK_THAT(error_of(kGood + "accumulators:\n  capacity_kb: 0\n"),
             Contains("accumulators.capacity_kb = 0: must be a number > 0"));
  CHECK_THAT(error_of(kGood + "accumulators:\n  capacity_kb: 64\n  port_bits: 0\n"),
             Contains("accumulators.port_bits = 0: must be an integer 1..65536"));
  CHECK_THAT(error_of(kGood + "accumulators:\n  capacity_kb: 64\n  write_bits_per_cycle: -1\n"),
             Contains("accumulators.write_bits_per_cycle = -1: must be a number > 0"));
  CHECK_THAT(error_of(kGood + "accumulators:\n  capacity_kb: 64\n  holds: [A]\n"),
             Contains("accumulators.holds = [A]: unknown key") && Contains("port_bits"));
  CHECK_THAT(error_of(kGood + "accumulators:\n  name: act\n  capacity_kb: 64\n"),
             Contains("accumulators.name = act: must differ from every buffer's name"));
  CHECK_THROWS_WITH(default_arch({"accumulators.depth=4"}),
                    Contains("--set accumulators.depth=4: unknown key") && Contains("capacity_kb"));
}

TEST_CASE("an ArchTemplate builds what load_arch builds, variant after variant") {
  for (const std::string& name : shipped_arch_names()) {
    const std::string path = resolve_arch_path(name);
    const ArchTemplate t(path);
    CHECK(t.with() == load_arch(path));
    // Overrides must not leak from one variant into the next (each gets its own tree).
    CHECK(t.with({"array.rows=7"}) == load_arch(path, {"array.rows=7"}));
    CHECK(t.with({"clock_ghz=1.5", "dram.bandwidth_gbps=100"}) ==
          load_arch(path, {"clock_ghz=1.5", "dram.bandwidth_gbps=100"}));
    CHECK(t.with() == load_arch(path));
    CHECK(t.with().source == path);
  }
  CHECK_THROWS_AS(ArchTemplate("/nonexistent/arch.yaml"), InputError);
  const ArchTemplate t(resolve_arch_path("tpu_int8"));
  CHECK_THROWS_WITH(t.with({"array.rows=-1"}), Contains("array.rows"));
}
