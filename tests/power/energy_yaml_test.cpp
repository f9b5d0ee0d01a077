// Tests for load_energy_table: the shipped table, overrides and each bad input.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/error.h"
#include "power/energy_table.h"

using namespace lpsim;

namespace {

// A YAML file under the temp directory, removed when the test ends.
class TempYaml {
 public:
  explicit TempYaml(const std::string& text) {
    static int n = 0;
    path_ =
        (std::filesystem::temp_directory_path() /
         ("lpsim_power_test_" + std::to_string(::getpid()) + "_" + std::to_string(n++) + ".yaml"))
            .string();
    std::ofstream(path_) << text;
  }
  ~TempYaml() { std::filesystem::remove(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string error_of(const std::string& text) {
  TempYaml f(text);
  try {
    load_energy_table(f.path());
  } catch (const InputError& e) {
    std::string msg = e.what();
    // messages name the file and are one line
    CHECK(msg.rfind(f.path() + ":", 0) == 0);
    CHECK(msg.find('\n') == std::string::npos);
    return msg.substr(f.path().size());
  }
  FAIL("no InputError for: " << text);
  return "";
}

const std::string kShipped = std::string(LPSIM_POWER_TABLES_DIR) + "/horowitz45.yaml";

}  // namespace

TEST_CASE("the shipped horowitz45.yaml holds exactly the built-in table") {
  const EnergyTable builtin = horowitz45();
  const EnergyTable file = load_energy_table(kShipped, EnergyTable{});
  CHECK(file.entries == builtin.entries);
  CHECK(file.node_nm == builtin.node_nm);
  CHECK(file.voltage_v == builtin.voltage_v);
  CHECK(file.entries.size() == energy_table_keys().size());
}

TEST_CASE("a user table overrides the entries it names and keeps the rest") {
  TempYaml f("int_mul_8: 0.25\nsram_read64_1mb: 120\n");
  const EnergyTable t = load_energy_table(f.path());
  CHECK(t.entry("int_mul_8") == 0.25);
  CHECK(t.entry("sram_read64_1mb") == 120);
  CHECK(t.entry("int_mul_32") == 3.1);
  CHECK(t.entry_sources.at("int_mul_8") == f.path());
  CHECK(t.entry_sources.at("int_mul_32").find("Horowitz") != std::string::npos);
  CHECK(t.source.find(f.path()) != std::string::npos);
  // the MAC law uses the override: 0.25 pJ multiply + 24-bit add (0.05 + 0.05 * 8/16)
  CHECK(t.mac_pj(Format::integer(8), Format::integer(8)) == Approx(0.25 + 0.075));
}

TEST_CASE("a user table can set the node, supply and accumulators") {
  TempYaml f("node_nm: 28\nvoltage_v: 0.8\nint_accumulator_bits: 32\nfloat_accumulator: fp16\n");
  const EnergyTable t = load_energy_table(f.path());
  CHECK(t.node_nm == 28);
  CHECK(t.voltage_v == 0.8);
  CHECK(t.int_accumulator_bits == 32);
  CHECK(t.float_accumulator == Format::floating(5, 10));
}

TEST_CASE("an unknown key is an error naming the file and the key") {
  CHECK_THAT(error_of("int_mul_9: 1\n"), Catch::StartsWith(": unknown key 'int_mul_9'"));
}

TEST_CASE("a value that is not a positive finite number is an error") {
  CHECK(error_of("int_mul_8: abc\n") == ": int_mul_8 = abc: must be a number > 0");
  CHECK(error_of("int_mul_8: [1, 2]\n") == ": int_mul_8 = <list>: must be a number > 0");
  CHECK(error_of("int_mul_8:\n") == ": int_mul_8 = <empty>: must be a number > 0");
  CHECK(error_of("int_mul_8: nan\n") == ": int_mul_8 = nan: must be > 0");
  CHECK(error_of("int_mul_8: .nan\n") == ": int_mul_8 = .nan: must be a number > 0");
  CHECK(error_of("int_mul_8: inf\n") == ": int_mul_8 = inf: must be > 0");
  CHECK(error_of("int_mul_8: 0\n") == ": int_mul_8 = 0: must be > 0");
  CHECK(error_of("dram_read64: -4\n") == ": dram_read64 = -4: must be > 0");
  CHECK(error_of("voltage_v: 0\n") == ": voltage_v = 0: must be > 0");
}

TEST_CASE("accumulator settings outside their range are errors") {
  CHECK(error_of("int_accumulator_bits: 0\n") == ": int_accumulator_bits = 0: must be > 0");
  CHECK(error_of("int_accumulator_bits: 12.5\n") ==
        ": int_accumulator_bits = 12.5: must be an integer 1..256");
  CHECK_THAT(error_of("float_accumulator: 8\n"), Catch::Contains("must be a float format"));
  CHECK_THAT(error_of("float_accumulator: fp99\n"), Catch::Contains("not a number format"));
}

TEST_CASE("an override that makes cost fall with width is an error") {
  CHECK_THAT(error_of("int_mul_32: 0.1\n"),
             Catch::StartsWith(": int_mul_32 = 0.1: must be >= int_mul_8 = 0.2"));
  CHECK_THAT(error_of("sram_read64_8kb: 30\n"),
             Catch::StartsWith(": sram_read64_32kb = 20: must be >= sram_read64_8kb = 30"));
}

TEST_CASE("a key given twice, a non-mapping and broken YAML are errors") {
  CHECK(error_of("int_mul_8: 0.2\nint_mul_8: 0.3\n") == ": int_mul_8: key given twice");
  CHECK_THAT(error_of("- 1\n- 2\n"), Catch::Contains("expected a mapping"));
  CHECK_THAT(error_of("int_mul_8: [1, 2\n"), Catch::Contains("YAML syntax error"));
}

TEST_CASE("a missing table file is an error naming it") {
  const std::string path = "/nonexistent/lpsim/energy.yaml";
  CHECK_THROWS_AS(load_energy_table(path), InputError);
  CHECK_THROWS_WITH(load_energy_table(path), Catch::StartsWith(path + ": "));
}
