// Architecture files: read the YAML, apply --set overrides to the tree, then
// validate every key once into an ArchConfig. Each key is declared once below
// (name, type, unit, range, doc line, how it is read and written back; the
// PE types' own keys in impl/pe_<type>.cpp); parsing, --set, arch_to_yaml and
// the docs' schema tables all follow the declarations. Schema:
// docs/architecture.md.
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "core/error.h"
#include "sim/arch.h"
#include "sim/impl/arch_schema.h"

namespace lpsim {

namespace fs = std::filesystem;

namespace {

using schema::Key;
using schema::KeyInfo;
using schema::Need;
using schema::Section;
using schema::SectionInfo;
using schema::Shape;
using schema::Write;

// Absurd-size limits: far beyond any chip, small enough to keep products of
// sizes exact in 64-bit integers and doubles.
constexpr std::int64_t kMaxPes = std::int64_t{1} << 20;
constexpr std::int64_t kMaxBufferBytes = std::int64_t{1} << 40;
constexpr std::int64_t kMaxBuffers = 64;
constexpr std::int64_t kMaxBanks = 1 << 16;
constexpr std::int64_t kMaxPortBits = 1 << 16;
constexpr double kMaxBitsPerCycle = double(std::int64_t{1} << 32);
constexpr double kMaxClockGhz = 10;
constexpr double kMaxDramGbps = 1e5;  // 100 TB/s
constexpr double kMaxDramLatencyNs = 1e6;
constexpr double kMaxDramPjPerBit = 1e4;
constexpr std::int64_t kMaxRfAccesses = 64;  // per MAC; a PE with more is not a MAC array
constexpr double kMaxMacPj = 1e4;
constexpr double kMaxPeAreaUm2 = 1e8;  // 100 mm^2 for one PE
// power/scaling.h: Stillmaker & Baas cover 180 nm .. 7 nm.
constexpr double kMinNodeNm = 7;
constexpr double kMaxNodeNm = 180;
constexpr double kDefaultLatencyNs = 100;   // docs/architecture.md: DRAM defaults
constexpr std::int64_t kMaxBuffering = 16;  // tile slots per buffer

// ---- pe ----------------------------------------------------------------------

const Section<PeConfig>& pe_section() {
  static const Section<PeConfig> section = [] {
    Section<PeConfig> s;
    Key<PeConfig> type{{.name = "type",
                        .type = "string",
                        .range = "`" + join(pe_type_names(), "`, `") + "`",
                        .doc = "the PE model (see [The PE models](#the-pe-models))",
                        .read_by = "all"}};
    type.parse = [](const Checker& c, const YAML::Node& n, const std::string& path, PeConfig& pe,
                    const ArchConfig&) {
      pe.type = c.req_choice(n, "type", path, pe_type_names());
    };
    type.emit = [](YAML::Emitter& out, const PeConfig& pe) {
      out << YAML::Key << "type" << YAML::Value << pe.type;
    };
    s.keys.push_back(std::move(type));
    for (const auto& pe_type : schema::pe_types())
      for (auto& k : pe_type.keys()) {
        k.info.read_by = pe_type.name;
        s.keys.push_back(std::move(k));
      }
    s.keys.push_back(schema::number("energy_pj_per_mac", &PeConfig::energy_pj_per_mac, 0, true,
                                    kMaxMacPj,
                                    {.unit = "pJ",
                                     .doc = "one MAC at the native or widest width",
                                     .default_text = "from the energy table (see each PE model)",
                                     .read_by = "all"},
                                    Need::Optional, Write::IfNotDefault));
    s.keys.push_back(schema::number("area_um2", &PeConfig::area_um2, 0, true, kMaxPeAreaUm2,
                                    {.unit = "um^2",
                                     .doc = "one PE",
                                     .default_text = "from the energy table",
                                     .read_by = "all"},
                                    Need::Optional, Write::IfNotDefault));
    s.keys.push_back(schema::integer(
        "psum_bits", &PeConfig::psum_bits, 1, kMaxBits,
        {.unit = "bits",
         .doc = "the width a partial sum keeps between folds, in the accumulators or the output "
                "buffer (Eyeriss keeps 16-bit partial sums)",
         .default_text = "the energy table's accumulator width (integer: a + b + 8, or its "
                         "`int_accumulator_bits`)",
         .read_by = "all"},
        Need::Optional, Write::IfNotDefault));
    s.keys.push_back(schema::integer(
        "rf_accesses_per_mac", &PeConfig::rf_accesses_per_mac, 0, kMaxRfAccesses,
        {.unit = "accesses",
         .doc = "accesses of a PE-local register file (scratch pads) per MAC, each priced as one "
                "MAC at the same formats (Chen et al., ISCA 2016: register file 1, MAC 1); "
                "Eyeriss's row-stationary PEs make 4 (ifmap, filter and partial-sum reads, the "
                "partial-sum write); the PE's energy per MAC becomes (1 + n) x the MAC's",
         .default_text = "0 (no PE-local storage)",
         .read_by = "all"},
        Need::Optional, Write::IfNotDefault));
    return s;
  }();
  return section;
}

// ---- array -------------------------------------------------------------------

const Section<ArrayConfig>& array_section() {
  static const Section<ArrayConfig> section = [] {
    Section<ArrayConfig> s;
    s.flow = true;
    s.keys.push_back(
        schema::integer("rows", &ArrayConfig::rows, 1, kMaxPes, {.unit = "PEs"}, Need::Required));
    s.keys.push_back(
        schema::integer("cols", &ArrayConfig::cols, 1, kMaxPes, {.unit = "PEs"}, Need::Required));
    s.keys.push_back(schema::boolean(
        "pipelined_folds", &ArrayConfig::pipelined_folds,
        {.doc = "`true`: every PE loads its next stationary operand from its own buffer while the "
                "current fold streams (Bit Fusion's per-unit weight buffers), so a tile of f folds "
                "takes f x T + rows + cols - 2 cycles instead of f x (2 x rows + cols + T - 2) "
                "(docs/simulator.md)",
         .default_text = "`false`"},
        Write::IfNotDefault));
    s.keys.push_back(schema::choice(
        "conv_mapping", &ArrayConfig::conv_mapping,
        {{"window", ConvMapping::Window}, {"channels", ConvMapping::Channels}},
        {.doc = "what a fold's rows take of a convolution's window (ws and is): `window`, "
                "consecutive entries of the whole im2col window `channels x kh x kw`; `channels`, "
                "the input channels at one kernel position with the positions in turn (Bit "
                "Fusion's hardware), so each position's channels are padded to whole folds, and "
                "the layer that reads the network's input gets it im2col-expanded from the host "
                "(docs/simulator.md, \"Convolution mapping\")",
         .default_text = "`window`"},
        Need::Optional, Write::IfNotDefault));
    return s;
  }();
  return section;
}

// ---- buffers and accumulators --------------------------------------------------

// Capacity and ports: the same keys and ranges in a buffer and in the accumulators.
std::vector<Key<BufferConfig>> storage_keys() {
  std::vector<Key<BufferConfig>> keys;
  Key<BufferConfig> bytes{{.name = "capacity_bytes",
                           .type = "integer",
                           .unit = "bytes",
                           .range = schema::int_range(1, kMaxBufferBytes),
                           .default_text = "— (this or `capacity_kb`)"}};
  bytes.parse = [](const Checker& c, const YAML::Node& b, const std::string& path,
                   BufferConfig& buf, const ArchConfig&) {
    const bool has_bytes = given(b["capacity_bytes"]);
    const bool has_kb = given(b["capacity_kb"]);
    if (has_bytes && has_kb)
      c.fail(path + ".capacity_kb", b["capacity_kb"],
             "give capacity_bytes or capacity_kb, not both");
    if (has_bytes) {
      buf.capacity_bytes = c.req_int(b, "capacity_bytes", path, 1, kMaxBufferBytes);
    } else if (has_kb) {
      const double max_kb = double(kMaxBufferBytes / 1024);
      double kb = c.req_double(b, "capacity_kb", path, 0, true, max_kb);
      const double whole = kb * 1024;
      if (whole != std::floor(whole))
        c.fail(path + ".capacity_kb", b["capacity_kb"],
               fmt::format("must be a whole number of bytes (KiB x 1024), > 0 and <= {}",
                           config_number(max_kb)));
      buf.capacity_bytes = std::int64_t(whole);
    } else {
      c.fail(path + ".capacity_bytes", b["capacity_bytes"],
             fmt::format("required (or capacity_kb): an integer 1..{} bytes", kMaxBufferBytes));
    }
  };
  bytes.emit = schema::emitter("capacity_bytes", &BufferConfig::capacity_bytes, Write::Always);
  keys.push_back(std::move(bytes));
  // Read by capacity_bytes's parse, never written back (capacity_bytes is).
  keys.push_back(
      {{.name = "capacity_kb",
        .type = "number",
        .unit = "KiB (1024 bytes)",
        .range = "> 0, a whole number of bytes, <= " +
                 schema::number_range(0, false, double(kMaxBufferBytes / 1024)).substr(3),
        .default_text = "— (this or `capacity_bytes`, not both)"}});
  keys.push_back(
      schema::integer("banks", &BufferConfig::banks, 1, kMaxBanks, {.default_text = "1"}));
  keys.push_back(schema::integer("port_bits", &BufferConfig::port_bits, 1, kMaxPortBits,
                                 {.unit = "bits per bank per cycle", .default_text = "64"}));
  for (const char* name : {"read_bits_per_cycle", "write_bits_per_cycle"}) {
    double BufferConfig::*field =
        name[0] == 'r' ? &BufferConfig::read_bits_per_cycle : &BufferConfig::write_bits_per_cycle;
    Key<BufferConfig> k =
        schema::number(name, field, 0, true, kMaxBitsPerCycle,
                       {.unit = "bits/cycle", .default_text = "`banks x port_bits`"},
                       Need::Optional, Write::IfNotDefault);
    k.parse = [name, field](const Checker& c, const YAML::Node& b, const std::string& path,
                            BufferConfig& buf, const ArchConfig&) {
      buf.*field = c.opt_double(b, name, path, 0, true, kMaxBitsPerCycle)
                       .value_or(double(buf.banks * buf.port_bits));
    };
    keys.push_back(std::move(k));
  }
  return keys;
}

Key<BufferConfig> cells_key() {
  return schema::choice(
      "cells", &BufferConfig::cells,
      {{"lstp", SramCells::LowStandby}, {"hp", SramCells::HighPerformance}},
      {.doc = "the SRAM cells this storage leaks at (docs/energy.md, \"Leakage\")",
       .default_text = "`leakage.sram`"},
      Need::Optional, Write::IfNotDefault);
}

Role parse_role(const Checker& c, const YAML::Node& node, const std::string& where) {
  const std::string range = "must be one of W, A, E, G, Opt";
  if (!node.IsScalar()) c.fail(where, node, range);
  for (int r = 0; r < kNumRoles; ++r)
    if (node.Scalar() == role_name(static_cast<Role>(r))) return static_cast<Role>(r);
  c.fail(where, node, range);
}

const Section<BufferConfig>& buffer_section() {
  static const Section<BufferConfig> section = [] {
    Section<BufferConfig> s;
    Key<BufferConfig> name{{.name = "name", .type = "string", .range = "non-empty, unique"}};
    name.parse = [](const Checker& c, const YAML::Node& b, const std::string& path,
                    BufferConfig& buf, const ArchConfig& so_far) {
      auto n = c.opt_string(b, "name", path, "must be a non-empty name");
      if (!n) c.fail(path + ".name", b["name"], "required: a non-empty name, unique");
      for (const BufferConfig& other : so_far.buffers)
        if (other.name == *n) c.fail(path + ".name", b["name"], "must be unique");
      buf.name = *n;
    };
    name.emit = schema::emitter("name", &BufferConfig::name, Write::Always);
    s.keys.push_back(std::move(name));
    for (auto& k : storage_keys()) s.keys.push_back(std::move(k));
    Key<BufferConfig> holds{{.name = "holds",
                             .type = "list of roles",
                             .range = "non-empty, each of `W`, `A`, `E`, `G`, `Opt` at most once",
                             .doc = "the operand roles it stages",
                             .shape = Shape::List}};
    holds.parse = [](const Checker& c, const YAML::Node& b, const std::string& path,
                     BufferConfig& buf, const ArchConfig&) {
      const YAML::Node list = b["holds"];
      if (!list.IsDefined() || !list.IsSequence() || list.size() == 0)
        c.fail(path + ".holds", list, "required: a non-empty list of roles W, A, E, G, Opt");
      for (std::size_t j = 0; j < list.size(); ++j) {
        const std::string where = fmt::format("{}.holds.{}", path, j);
        Role r = parse_role(c, list[j], where);
        if (std::find(buf.holds.begin(), buf.holds.end(), r) != buf.holds.end())
          c.fail(where, list[j], "each role at most once per buffer");
        buf.holds.push_back(r);
      }
    };
    holds.emit = [](YAML::Emitter& out, const BufferConfig& b) {
      out << YAML::Key << "holds" << YAML::Value << YAML::Flow << YAML::BeginSeq;
      for (Role r : b.holds) out << std::string(role_name(r));
      out << YAML::EndSeq;
    };
    holds.late = true;  // read after cells, as it always was
    s.keys.push_back(std::move(holds));
    s.keys.push_back(cells_key());
    return s;
  }();
  return section;
}

const Section<BufferConfig>& accumulator_section() {
  static const Section<BufferConfig> section = [] {
    Section<BufferConfig> s;
    Key<BufferConfig> name{{.name = "name",
                            .type = "string",
                            .range = "non-empty, different from every buffer's name",
                            .default_text = "`accumulators`"}};
    name.parse = [](const Checker& c, const YAML::Node& n, const std::string& path,
                    BufferConfig& acc, const ArchConfig& so_far) {
      acc.name = c.opt_string(n, "name", path, "must be a non-empty name").value_or("accumulators");
      for (const auto& b : so_far.buffers)
        if (b.name == acc.name)
          c.fail("accumulators.name", acc.name,
                 "must differ from every buffer's name (it is reported as its own SRAM)");
    };
    name.emit = schema::emitter("name", &BufferConfig::name, Write::Always);
    s.keys.push_back(std::move(name));
    for (auto& k : storage_keys()) s.keys.push_back(std::move(k));
    s.keys.push_back(cells_key());
    return s;
  }();
  return section;
}

Key<ArchConfig> buffers_key() {
  Key<ArchConfig> k{{.name = "buffers",
                     .type = "list",
                     .range = fmt::format("1..{} buffers, see [buffers](#buffers)", kMaxBuffers),
                     .shape = Shape::List,
                     .item = Shape::Map,
                     .section = &buffer_section()}};
  k.parse = [](const Checker& c, const YAML::Node& root, const std::string&, ArchConfig& a,
               const ArchConfig&) {
    const YAML::Node list = root["buffers"];
    const std::string range =
        fmt::format("required: a list of 1..{} buffers, each a mapping with keys {}", kMaxBuffers,
                    join(buffer_section().names()));
    // IsDefined first: a missing key is an invalid node, and IsSequence() on it throws.
    if (!list.IsDefined() || !list.IsSequence() || list.size() == 0 ||
        std::int64_t(list.size()) > kMaxBuffers)
      c.fail("buffers", list, range);
    for (std::size_t i = 0; i < list.size(); ++i) {
      BufferConfig buf;
      buffer_section().parse(c, list[i], fmt::format("buffers.{}", i), buf, a);
      a.buffers.push_back(std::move(buf));
    }
    for (int r = 0; r < kNumRoles; ++r) {
      const Role role = static_cast<Role>(r);
      const bool held = std::any_of(a.buffers.begin(), a.buffers.end(), [&](const BufferConfig& b) {
        return std::find(b.holds.begin(), b.holds.end(), role) != b.holds.end();
      });
      if (!held)
        c.fail("buffers.*.holds", fmt::format("no buffer holds {}", role_name(role)),
               "every role W, A, E, G, Opt must be held by at least one buffer");
    }
  };
  k.emit = [](YAML::Emitter& out, const ArchConfig& a) {
    out << YAML::Key << "buffers" << YAML::Value << YAML::BeginSeq;
    for (const auto& b : a.buffers) buffer_section().emit(out, b);
    out << YAML::EndSeq;
  };
  return k;
}

// ---- dram, vector, leakage -----------------------------------------------------

const Section<DramConfig>& dram_section() {
  static const Section<DramConfig> section = [] {
    Section<DramConfig> s;
    s.flow = true;
    s.keys.push_back(schema::number("bandwidth_gbps", &DramConfig::bandwidth_gbps, 0, true,
                                    kMaxDramGbps, {.unit = "GB/s (10^9 bytes/s)"}, Need::Required));
    s.keys.push_back(
        schema::number("latency_ns", &DramConfig::latency_ns, 0, false, kMaxDramLatencyNs,
                       {.unit = "ns", .default_text = "100 (a typical DDR3/DDR4 random access)"},
                       Need::Optional, Write::Always, kDefaultLatencyNs));
    s.keys.push_back(schema::number(
        "pj_per_bit", &DramConfig::pj_per_bit, 0, true, kMaxDramPjPerBit,
        {.unit = "pJ/bit", .default_text = "0 = from the energy table (`dram_pj_per_bit`)"},
        Need::Optional, Write::IfNotDefault));
    s.keys.push_back(schema::choice(
        "outputs", &DramConfig::outputs,
        {{"final", OutputTraffic::Final}, {"psum", OutputTraffic::Psum}},
        {.doc = "what a GEMM's outputs cost on the DRAM link: `final`, each output written once, "
                "complete, in the format its consumer reads; `psum`, each output tile loaded "
                "before its first k-block and stored after its last as partial sums at "
                "`pe.psum_bits` (or the accumulator width), padded to whole column groups (Bit "
                "Fusion's output buffer in its simulator; docs/simulator.md, \"Output traffic\")",
         .default_text = "`final`"},
        Need::Optional, Write::IfNotDefault));
    return s;
  }();
  return section;
}

const Section<VectorUnitConfig>& vector_section() {
  static const Section<VectorUnitConfig> section = [] {
    Section<VectorUnitConfig> s;
    s.flow = true;
    s.keys.push_back(
        schema::integer("lanes", &VectorUnitConfig::lanes, 1, kMaxPes,
                        {.unit = "element ops/cycle", .default_text = "`array.cols`"}));
    return s;
  }();
  return section;
}

const Section<LeakageConfig>& leakage_section() {
  static const Section<LeakageConfig> section = [] {
    Section<LeakageConfig> s;
    s.flow = true;
    s.keys.push_back(schema::choice(
        "logic", &LeakageConfig::logic,
        {{"lp", LogicCells::LowPower}, {"hp", LogicCells::HighPerformance}},
        {.doc = "low-power or high-performance devices for the MAC array and the vector unit",
         .default_text = "`lp`"}));
    s.keys.push_back(schema::choice(
        "sram", &LeakageConfig::sram,
        {{"lstp", SramCells::LowStandby}, {"hp", SramCells::HighPerformance}},
        {.doc = "low-standby-power or high-performance cells for every buffer without its own "
                "`cells`",
         .default_text = "`lstp`"}));
    return s;
  }();
  return section;
}

// ---- the top level -------------------------------------------------------------

// A section under the top level: `pe: {...}`. `missing`: the range a missing
// required section reports (empty: the section is optional).
template <class S>
Key<ArchConfig> section_key(const char* name, S ArchConfig::*field, const Section<S>& section,
                            KeyInfo info, std::function<std::string()> missing) {
  info.name = name;
  info.type = "mapping";
  info.shape = Shape::Map;
  info.section = &section;
  Key<ArchConfig> k{std::move(info)};
  k.parse = [name, field, &section, missing](const Checker& c, const YAML::Node& root,
                                             const std::string&, ArchConfig& a, const ArchConfig&) {
    const YAML::Node node = root[name];
    if (!given(node)) {
      if (missing) c.fail(name, node, missing());
      return;
    }
    section.parse(c, node, name, a.*field, a);
  };
  k.emit = [name, field, &section](YAML::Emitter& out, const ArchConfig& a) {
    out << YAML::Key << name << YAML::Value;
    section.emit(out, a.*field);
  };
  return k;
}

const Section<ArchConfig>& top_section() {
  static const Section<ArchConfig> section = [] {
    Section<ArchConfig> s;
    Key<ArchConfig> name{{.name = "name",
                          .type = "string",
                          .range = "non-empty",
                          .default_text = "the file name without `.yaml`"}};
    name.parse = [](const Checker& c, const YAML::Node& root, const std::string&, ArchConfig& a,
                    const ArchConfig&) {
      if (auto v = c.opt_string(root, "name", "", "must be a non-empty name")) a.name = *v;
    };
    name.emit = schema::emitter("name", &ArchConfig::name, Write::Always);
    s.keys.push_back(std::move(name));
    s.keys.push_back(schema::number("clock_ghz", &ArchConfig::clock_ghz, 0, true, kMaxClockGhz,
                                    {.unit = "GHz"}, Need::Required));
    s.keys.push_back(
        section_key("pe", &ArchConfig::pe, pe_section(), {.range = "see [pe](#pe)"},
                    [] { return "required: a mapping with keys " + join(pe_section().names()); }));
    Key<ArchConfig> array =
        section_key("array", &ArchConfig::array, array_section(), {.range = "see [array](#array)"},
                    [] { return std::string("required: a mapping with keys rows, cols"); });
    array.parse = [parse = array.parse](const Checker& c, const YAML::Node& root,
                                        const std::string& path, ArchConfig& a,
                                        const ArchConfig& so_far) {
      parse(c, root, path, a, so_far);
      if (a.array.rows * a.array.cols > kMaxPes)
        c.fail("array.rows x array.cols", fmt::format("{} x {}", a.array.rows, a.array.cols),
               fmt::format("at most {} PEs", kMaxPes));
    };
    s.keys.push_back(std::move(array));
    s.keys.push_back(schema::choice("dataflow", &ArchConfig::dataflow,
                                    {{"ws", Dataflow::WeightStationary},
                                     {"os", Dataflow::OutputStationary},
                                     {"is", Dataflow::InputStationary}},
                                    {.doc = "weight-, output- or input-stationary"},
                                    Need::Required));
    s.keys.push_back(buffers_key());
    Key<ArchConfig> acc{{.name = "accumulators",
                         .type = "mapping",
                         .range = "see [accumulators](#accumulators)",
                         .default_text = "none: partial sums go through the output role's buffer",
                         .shape = Shape::Map,
                         .section = &accumulator_section()}};
    acc.parse = [](const Checker& c, const YAML::Node& root, const std::string&, ArchConfig& a,
                   const ArchConfig&) {
      const YAML::Node node = root["accumulators"];
      if (!given(node)) return;
      a.accumulators.present = true;
      accumulator_section().parse(c, node, "accumulators", a.accumulators.storage, a);
    };
    acc.emit = [](YAML::Emitter& out, const ArchConfig& a) {
      if (!a.accumulators.present) return;
      out << YAML::Key << "accumulators" << YAML::Value;
      accumulator_section().emit(out, a.accumulators.storage);
    };
    s.keys.push_back(std::move(acc));
    s.keys.push_back(section_key(
        "dram", &ArchConfig::dram, dram_section(), {.range = "see [dram](#dram)"},
        [] { return "required: a mapping with keys " + join(dram_section().names()); }));
    Key<ArchConfig> vector = section_key(
        "vector", &ArchConfig::vector, vector_section(),
        {.range = "see [vector](#vector)", .default_text = "`lanes` = `array.cols`"}, nullptr);
    vector.parse = [parse = vector.parse](const Checker& c, const YAML::Node& root,
                                          const std::string& path, ArchConfig& a,
                                          const ArchConfig& so_far) {
      a.vector.lanes = a.array.cols;
      parse(c, root, path, a, so_far);
    };
    vector.emit = [emit = vector.emit](YAML::Emitter& out, const ArchConfig& a) {
      if (a.vector.lanes > 0) emit(out, a);
    };
    s.keys.push_back(std::move(vector));
    Key<ArchConfig> buffering = schema::integer(
        "buffering", &ArchConfig::buffering, 1, kMaxBuffering,
        {.unit = "tiles",
         .doc = "tile slots of every buffer (the mapper fits `buffering` tiles; the SystemC model "
                "lets that many be loaded, computed and stored at once: docs/simulator.md)",
         .default_text = "from `double_buffering`"});
    buffering.parse = [](const Checker& c, const YAML::Node& root, const std::string&,
                         ArchConfig& a, const ArchConfig&) {
      const auto double_buffering = c.opt_bool(root, "double_buffering", "");
      const auto slots = c.opt_int(root, "buffering", "", 1, kMaxBuffering);
      a.buffering = slots.value_or(double_buffering.value_or(true) ? 2 : 1);
      if (double_buffering && slots && *double_buffering != (*slots >= 2))
        c.fail(
            "buffering", root["buffering"],
            fmt::format("must be {} with double_buffering: {} (or give only one of the two keys)",
                        *double_buffering ? ">= 2" : "1", *double_buffering));
    };
    s.keys.push_back(std::move(buffering));
    s.keys.push_back(schema::integer(
        "output_buffering", &ArchConfig::output_buffering, 1, kMaxBuffering,
        {.unit = "tiles",
         .doc = "tile slots of a tile's outputs (a GEMM's partial sums, in the accumulators or "
                "the output role's buffer): the mapper fits that many output tiles (two with 1, "
                "for a tile that loads its partial sums ahead); with 1 a tile computes only after "
                "the previous tile's stores have left (docs/simulator.md, \"Output slots\")",
         .default_text = "`buffering`"},
        Need::Optional, Write::IfNotDefault));
    // Read by buffering's parse; written back as `buffering`.
    s.keys.push_back({{.name = "double_buffering",
                       .type = "bool",
                       .range = "`true` (= `buffering: 2`) or `false` (= `buffering: 1`)",
                       .doc = "given with `buffering`, the two must agree",
                       .default_text = "`true`"}});
    s.keys.push_back(schema::boolean(
        "ideal_memory", &ArchConfig::ideal_memory,
        {.doc = "`true`: DRAM of zero latency and unbounded bandwidth, buffers of unbounded "
                "capacity and ports (a layer is one tile; bits are still counted and priced), for "
                "comparing with compute-only tools (docs/simulator.md, \"Ideal memory\")",
         .default_text = "`false`"}));
    Key<ArchConfig> fusion = schema::boolean(
        "fusion", &ArchConfig::fusion,
        {.doc = "`true`: an element-wise op (batch norm, activation, residual add, pooling, "
                "quantization, the update) that reads the tensor the op before it wrote takes it "
                "from that op's output path instead of DRAM (docs/simulator.md, \"Fusion\")",
         .default_text = "`false`"});
    fusion.late = true;  // read after leakage, as it always was
    s.keys.push_back(std::move(fusion));
    s.keys.push_back(section_key(
        "leakage", &ArchConfig::leakage, leakage_section(),
        {.range = "see [leakage](#leakage)", .default_text = "`{logic: lp, sram: lstp}`"},
        nullptr));
    Key<ArchConfig> node = schema::number(
        "node_nm", &ArchConfig::node_nm, kMinNodeNm, false, kMaxNodeNm,
        {.unit = "nm",
         .doc = "the technology node (the range of the node scaling in docs/energy.md)",
         .default_text = "45"});
    node.late = true;
    s.keys.push_back(std::move(node));
    Key<ArchConfig> table{
        {.name = "energy_table",
         .type = "string",
         .unit = "path",
         .range = "an existing energy-table YAML file, relative to the architecture file's "
                  "folder (or absolute)",
         .doc = "schema in docs/energy.md",
         .default_text = "the built-in Horowitz 45 nm table"}};
    table.parse = [](const Checker& c, const YAML::Node& root, const std::string&, ArchConfig& a,
                     const ArchConfig&) {
      auto t =
          c.opt_string(root, "energy_table", "", "must be the path of an energy-table YAML file");
      if (!t) return;
      fs::path p(*t);
      if (p.is_relative()) p = fs::path(c.dir()) / p;
      std::error_code ec;
      if (!fs::is_regular_file(p, ec))
        c.fail("energy_table", root["energy_table"],
               fmt::format("must name a readable energy-table file (looked for {})", p.string()));
      a.energy_table = p.lexically_normal().string();
    };
    table.emit = [](YAML::Emitter& out, const ArchConfig& a) {
      if (!a.energy_table.empty())
        out << YAML::Key << "energy_table" << YAML::Value << a.energy_table;
    };
    table.late = true;
    s.keys.push_back(std::move(table));
    return s;
  }();
  return section;
}

ArchConfig parse_arch(const Checker& c, const YAML::Node& root, const std::string& default_name) {
  if (!root.IsDefined() || root.IsNull() || !root.IsMap())
    c.fail("(top level)", root, "must be a mapping with keys " + join(top_section().names()));
  ArchConfig a;
  a.name = default_name;
  top_section().parse(c, root, "", a, a);
  return a;
}

// ---- --set overrides -------------------------------------------------------

// What the schema has at a key path (list indices as "#"): a section's keys,
// a list, a map with free keys (pe.packing), or a leaf.
struct SchemaNode {
  Shape shape = Shape::Leaf;
  const SectionInfo* section = nullptr;
  Shape item = Shape::Leaf;
};

SchemaNode schema_of(const std::vector<std::string>& prefix) {
  SchemaNode node{Shape::Map, &top_section(), Shape::Leaf};
  for (const std::string& part : prefix) {
    if (node.shape == Shape::List) {
      node = {node.item, node.section, Shape::Leaf};
    } else if (node.shape == Shape::Map) {
      const KeyInfo* k = node.section->find(part);
      if (!k) return {};
      node = {k->shape, k->section, k->item};
    } else {
      return {};
    }
  }
  return node;
}

bool parse_index(const std::string& s, std::size_t& out) {
  if (s.empty() || s.size() > 6 ||
      !std::all_of(s.begin(), s.end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
    return false;
  out = std::stoul(s);
  return true;
}

void apply_override(YAML::Node& root, const std::string& text) {
  auto bad = [&](const std::string& why) -> InputError {
    return InputError(fmt::format("--set {}: {}", text, why));
  };
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0)
    throw bad("expected key.path=value, e.g. array.rows=32 or buffers.0.capacity_kb=256");
  const std::string key = text.substr(0, eq);
  const std::string value = text.substr(eq + 1);
  std::vector<std::string> parts;
  {
    std::string part;
    std::istringstream in(key);
    while (std::getline(in, part, '.')) parts.push_back(part);
    if (key.back() == '.') parts.push_back("");
  }
  for (const auto& p : parts)
    if (p.empty()) throw bad("empty component in key path '" + key + "'");

  YAML::Node new_value;
  try {
    new_value = YAML::Load(value);
  } catch (const YAML::Exception& e) {
    throw bad("value is not valid YAML: " + e.msg);
  }
  if (!new_value.IsDefined() || new_value.IsNull())
    throw bad("empty value; to set a key give key=value");

  if (!root.IsMap()) throw bad("the architecture file is not a mapping");
  YAML::Node cur = root;
  std::vector<std::string> schema_path;
  std::string so_far;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const std::string& part = parts[i];
    const bool last = i + 1 == parts.size();
    const SchemaNode shape = schema_of(schema_path);
    const std::string here = so_far.empty() ? part : so_far + "." + part;
    std::size_t index = 0;
    if (shape.shape == Shape::Leaf)
      throw bad(fmt::format("unknown key '{}': {} has no sub-keys", here, so_far));
    if (shape.shape == Shape::Map && !shape.section->find(part))
      throw bad(fmt::format("unknown key '{}'; allowed after '{}': {}", here,
                            so_far.empty() ? "(top level)" : so_far, join(shape.section->names())));
    if (shape.shape == Shape::List && !parse_index(part, index))
      throw bad(fmt::format("'{}' must be a list index (0, 1, ...)", here));
    schema_path.push_back(shape.shape == Shape::List ? "#" : part);

    // What the next level should be, should it have to be created.
    const SchemaNode next_shape = schema_of(schema_path);
    auto fresh = [&] {
      return YAML::Node(next_shape.shape == Shape::List ? YAML::NodeType::Sequence
                                                        : YAML::NodeType::Map);
    };

    if (shape.shape == Shape::List) {
      if (!cur.IsSequence()) throw bad(fmt::format("'{}' is not a list in the file", so_far));
      if (index > cur.size())
        throw bad(
            fmt::format("index {} is out of range: '{}' has {} entries (an index equal to "
                        "the count appends one)",
                        index, so_far, cur.size()));
      if (last) {
        if (index == cur.size())
          cur.push_back(new_value);
        else
          cur[index] = new_value;
        return;
      }
      if (index == cur.size()) cur.push_back(fresh());
      YAML::Node next = cur[index];
      cur.reset(next);
    } else {
      if (!cur.IsMap()) throw bad(fmt::format("'{}' is not a mapping in the file", so_far));
      if (last) {
        cur[part] = new_value;
        return;
      }
      if (!cur[part].IsDefined() || cur[part].IsNull()) cur[part] = fresh();
      YAML::Node next = cur[part];
      cur.reset(next);
    }
    so_far = here;
  }
}

YAML::Node read_yaml_file(const std::string& path) {
  std::error_code ec;
  const fs::path p(path);
  if (!fs::exists(p, ec)) {
    std::string hint;
    if (p.parent_path().empty() && p.extension() != ".yaml")
      hint = "; shipped design points: " + join(shipped_arch_names());
    throw InputError(fmt::format("{}: architecture file not found{}", path, hint));
  }
  if (fs::is_directory(p, ec))
    throw InputError(fmt::format("{}: is a directory, expected an architecture YAML file", path));
  std::ifstream in(p);
  if (!in) throw InputError(fmt::format("{}: cannot read the architecture file", path));
  try {
    return YAML::Load(in);
  } catch (const YAML::Exception& e) {
    throw InputError(fmt::format("{}: line {}: not valid YAML: {}", path, e.mark.line + 1, e.msg));
  }
}

ArchConfig build(const std::string& file, YAML::Node root, const std::string& default_name,
                 const fs::path& base_dir, const std::vector<std::string>& overrides) {
  if (root.IsDefined() && root.IsMap())
    for (const auto& o : overrides) apply_override(root, o);
  else if (!overrides.empty())
    Checker(file, base_dir.string())
        .fail("(top level)", root, "must be a mapping with keys " + join(top_section().names()));
  return parse_arch(Checker(file, base_dir.string()), root, default_name);
}

// The documented default design point: tpu_int8.yaml's values
// (docs/architecture.md, "The default design point"); a test checks they agree.
ArchConfig builtin_default() {
  ArchConfig a;
  a.name = "tpu_int8";
  a.clock_ghz = 0.7;
  a.pe.type = "fixed";
  a.pe.native_formats = {Format::integer(8)};
  a.pe.packed_rates = {{Format::integer(16), 0.25}};
  a.array = {128, 128};
  a.dataflow = Dataflow::WeightStationary;
  BufferConfig ub;
  ub.name = "unified_buffer";
  ub.capacity_bytes = std::int64_t{12} << 20;
  ub.banks = 32;
  ub.port_bits = 128;
  ub.read_bits_per_cycle = ub.write_bits_per_cycle = 4096;
  ub.holds = {Role::A, Role::E};
  BufferConfig wb = ub;
  wb.name = "weight_buffer";
  wb.capacity_bytes = std::int64_t{4} << 20;
  wb.holds = {Role::W, Role::G, Role::Opt};
  a.buffers = {ub, wb};
  a.accumulators.present = true;
  a.accumulators.storage.name = "accumulators";
  a.accumulators.storage.capacity_bytes = std::int64_t{2} << 20;
  a.accumulators.storage.banks = 128;
  a.accumulators.storage.port_bits = 32;
  a.accumulators.storage.read_bits_per_cycle = a.accumulators.storage.write_bits_per_cycle = 4096;
  a.dram = {350, 100, 3.9};
  a.vector.lanes = 1024;
  a.buffering = 2;
  a.fusion = true;
  a.node_nm = 45;
  return a;
}

}  // namespace

std::string_view logic_cells_name(LogicCells c) {
  return c == LogicCells::HighPerformance ? "hp" : "lp";
}
std::string_view sram_cells_name(SramCells c) {
  return c == SramCells::HighPerformance ? "hp" : "lstp";
}

std::string_view dataflow_name(Dataflow d) {
  switch (d) {
    case Dataflow::WeightStationary:
      return "ws";
    case Dataflow::OutputStationary:
      return "os";
    case Dataflow::InputStationary:
      return "is";
  }
  return "?";
}

ArchConfig load_arch(const std::string& path, const std::vector<std::string>& overrides) {
  return ArchTemplate(path).with(overrides);
}

ArchTemplate::ArchTemplate(const std::string& path)
    : path_(path), root_(std::make_shared<const YAML::Node>(read_yaml_file(path))) {}

ArchConfig ArchTemplate::with(const std::vector<std::string>& overrides) const {
  const fs::path p(path_);
  // Overrides edit the tree in place: each variant gets its own deep copy.
  ArchConfig a = build(path_, YAML::Clone(*static_cast<const YAML::Node*>(root_.get())),
                       p.stem().string(), p.parent_path(), overrides);
  a.source = path_;
  return a;
}

ArchConfig default_arch(const std::vector<std::string>& overrides) {
  static const std::string kSource = "built-in default";
  ArchConfig a;
  if (overrides.empty()) {
    a = builtin_default();
  } else {
    YAML::Node root = YAML::Load(arch_to_yaml(builtin_default()));
    a = build(kSource, root, "tpu_int8", fs::current_path(), overrides);
  }
  a.source = kSource;
  return a;
}

std::vector<std::string> shipped_arch_names() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(LPSIM_ARCH_DIR, ec))
    if (entry.is_regular_file(ec) && entry.path().extension() == ".yaml")
      names.push_back(entry.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::string resolve_arch_path(const std::string& name_or_path) {
  const fs::path p(name_or_path);
  std::error_code ec;
  if (fs::exists(p, ec) || !p.parent_path().empty() || p.extension() == ".yaml")
    return name_or_path;
  const fs::path shipped = fs::path(LPSIM_ARCH_DIR) / (name_or_path + ".yaml");
  if (fs::is_regular_file(shipped, ec)) return shipped.string();
  return name_or_path;
}

std::string arch_to_yaml(const ArchConfig& a) {
  YAML::Emitter out;
  top_section().emit(out, a);
  return std::string(out.c_str()) + "\n";
}

std::string arch_schema_markdown(const std::string& section) {
  const std::map<std::string, const SectionInfo*> sections = {
      {"top", &top_section()},
      {"pe", &pe_section()},
      {"array", &array_section()},
      {"buffers", &buffer_section()},
      {"accumulators", &accumulator_section()},
      {"dram", &dram_section()},
      {"vector", &vector_section()},
      {"leakage", &leakage_section()}};
  const auto it = sections.find(section);
  if (it == sections.end())
    throw InternalError(fmt::format("no architecture schema section '{}'", section));
  return it->second->markdown();
}

}  // namespace lpsim
