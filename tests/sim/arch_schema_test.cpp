// Tests for sim/impl/arch_schema.h: one declaration per architecture key
// drives the docs' tables, the key lists that errors and --set name, and the
// PE types' own keys.
#include "sim/impl/arch_schema.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "sim/arch.h"

using namespace lpsim;
using Catch::Matchers::Contains;

namespace {

const char* const kSections[] = {"top",          "pe",   "array",  "buffers",
                                 "accumulators", "dram", "vector", "leakage"};

std::string begin_marker(const std::string& section) {
  return "<!-- arch_schema_markdown(\"" + section +
         "\"): generated from the declarations; LPSIM_UPDATE_DOCS=1 ctest -R \"schema tables\" "
         "rewrites it -->\n";
}
const std::string kEndMarker = "<!-- end of generated table -->";

}  // namespace

// With LPSIM_UPDATE_DOCS=1 in the environment the test rewrites the tables
// (the developer's way to regenerate them after changing a declaration).
TEST_CASE("the schema tables of docs/architecture.md are the ones the declarations generate") {
  const std::string path = std::string(LPSIM_SOURCE_DIR) + "/docs/architecture.md";
  std::ifstream in(path);
  REQUIRE(in);
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string doc = buffer.str();
  const bool update = std::getenv("LPSIM_UPDATE_DOCS") != nullptr;
  for (const std::string section : kSections) {
    INFO("section " << section);
    const std::string begin = begin_marker(section);
    const auto b = doc.find(begin);
    REQUIRE(b != std::string::npos);
    const auto from = b + begin.size();
    const auto e = doc.find(kEndMarker, from);
    REQUIRE(e != std::string::npos);
    const std::string generated = arch_schema_markdown(section);
    if (update)
      doc.replace(from, e - from, generated);
    else
      CHECK(doc.substr(from, e - from) == generated);
  }
  if (update) std::ofstream(path) << doc;
}

TEST_CASE("every section's table lists its keys in the order the file's errors name them") {
  CHECK_THAT(arch_schema_markdown("array"), Contains("| `rows` | integer | PEs | 1..1048576 |"));
  CHECK_THAT(arch_schema_markdown("buffers"),
             Contains("| `capacity_bytes` | integer | bytes | 1..2^40 |"));
  CHECK_THAT(arch_schema_markdown("dram"),
             Contains("| `bandwidth_gbps` | number | GB/s (10^9 bytes/s) | > 0 and <= 100000 |"));
  CHECK_THROWS_AS(arch_schema_markdown("nope"), InternalError);
}

TEST_CASE("each PE type brings its own keys, in registry order") {
  const auto& types = schema::pe_types();
  REQUIRE(types.size() == pe_type_names().size());
  std::vector<std::string> names;
  for (std::size_t i = 0; i < types.size(); ++i) {
    CHECK(types[i].name == pe_type_names()[i]);
    for (const auto& k : types[i].keys()) names.push_back(k.info.name);
  }
  CHECK(names == std::vector<std::string>{"native_formats", "packing", "serial_operand",
                                          "serial_max_bits", "brick_bits", "fusion_bits",
                                          "pass_bits", "pass_energy_overhead"});
  // The pe table says which type reads each key.
  CHECK_THAT(arch_schema_markdown("pe"),
             Contains("| `brick_bits` | integer | bits | 1..16: the width of one BitBrick | 2 | "
                      "bit_fusion |"));
}
