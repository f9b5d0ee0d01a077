// Architecture files: read the YAML, apply --set overrides to the tree, then
// validate every key once into an ArchConfig. Schema: docs/architecture.md.
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "core/error.h"
#include "sim/arch.h"

namespace lpsim {

namespace fs = std::filesystem;

namespace {

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
constexpr double kMaxMacPj = 1e4;
constexpr double kMaxPeAreaUm2 = 1e8;  // 100 mm^2 for one PE
constexpr double kMaxPackingRate = 64;
// power/scaling.h: Stillmaker & Baas cover 180 nm .. 7 nm.
constexpr double kMinNodeNm = 7;
constexpr double kMaxNodeNm = 180;
constexpr double kDefaultLatencyNs = 100;  // docs/architecture.md: DRAM defaults
constexpr std::int64_t kMaxBuffering = 16;  // tile slots per buffer

const std::vector<std::string> kTopKeys = {
    "name",    "clock_ghz",        "pe",        "array",        "dataflow",
    "buffers", "accumulators",     "dram",      "vector",       "buffering",
    "double_buffering", "ideal_memory", "fusion", "leakage", "node_nm", "energy_table"};
const std::vector<std::string> kPeKeys = {
    "type",       "native_formats", "packing",   "serial_operand",       "serial_max_bits",
    "brick_bits", "fusion_bits",    "pass_bits", "pass_energy_overhead", "energy_pj_per_mac",
    "area_um2",   "psum_bits"};
const std::vector<std::string> kArrayKeys = {"rows", "cols", "pipelined_folds", "conv_mapping"};
const std::vector<std::string> kBufferKeys = {
    "name",      "capacity_bytes",      "capacity_kb",          "banks",
    "port_bits", "read_bits_per_cycle", "write_bits_per_cycle", "holds", "cells"};
const std::vector<std::string> kAccumulatorKeys = {
    "name",      "capacity_bytes",      "capacity_kb",          "banks",
    "port_bits", "read_bits_per_cycle", "write_bits_per_cycle", "cells"};
const std::vector<std::string> kLeakageKeys = {"logic", "sram"};
const std::vector<std::string> kDramKeys = {"bandwidth_gbps", "latency_ns", "pj_per_bit"};
const std::vector<std::string> kVectorKeys = {"lanes"};

const std::vector<std::string> kPeTypes = {"fixed", "bit_serial", "bit_fusion", "multi_pass"};

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string join(const std::vector<std::string>& v, const char* sep = ", ") {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

std::string num(double v) { return fmt::format("{:g}", v); }

// How a node reads in an error message: its scalar, or a flow-style rendering.
std::string show(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "(missing)";
  if (node.IsScalar()) return node.Scalar().empty() ? "''" : node.Scalar();
  YAML::Emitter out;
  out.SetMapFormat(YAML::Flow);
  out.SetSeqFormat(YAML::Flow);
  out << node;
  std::string s = out.c_str();
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

// Validation of one file: every failure is one line
// "<file>: <key.path> = <value>: <allowed range>".
class Checker {
 public:
  explicit Checker(std::string file) : file_(std::move(file)) {}
  const std::string& file() const { return file_; }

  [[noreturn]] void fail(const std::string& path, const std::string& value,
                         const std::string& range) const {
    throw InputError(fmt::format("{}: {} = {}: {}", file_, path, value, range));
  }
  [[noreturn]] void fail(const std::string& path, const YAML::Node& node,
                         const std::string& range) const {
    fail(path, show(node), range);
  }

  // The map at `path`; every key must be one of `allowed`.
  void check_map(const YAML::Node& node, const std::string& path,
                 const std::vector<std::string>& allowed) const {
    if (!node.IsMap()) fail(path, node, "must be a mapping with keys " + join(allowed));
    std::set<std::string> seen;
    for (const auto& kv : node) {
      const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : show(kv.first);
      if (!contains(allowed, key))
        fail(child(path, key), kv.second, "unknown key; allowed here: " + join(allowed));
      // yaml-cpp keeps both entries of a repeated key and reads the first.
      if (!seen.insert(key).second)
        fail(child(path, key), kv.second, "key given twice; give it once");
    }
  }

  static std::string child(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
  }

  std::optional<double> opt_double(const YAML::Node& parent, const std::string& key,
                                   const std::string& path, double lo, bool lo_open,
                                   double hi) const {
    const YAML::Node node = parent[key];
    if (!node.IsDefined() || node.IsNull()) return std::nullopt;
    const std::string where = child(path, key);
    const std::string range =
        fmt::format("must be a number {} {} and <= {}", lo_open ? ">" : ">=", num(lo), num(hi));
    double v = 0;
    if (!node.IsScalar() || !YAML::convert<double>::decode(node, v)) fail(where, node, range);
    if (!std::isfinite(v) || (lo_open ? v <= lo : v < lo) || v > hi) fail(where, node, range);
    return v;
  }
  double req_double(const YAML::Node& parent, const std::string& key, const std::string& path,
                    double lo, bool lo_open, double hi) const {
    auto v = opt_double(parent, key, path, lo, lo_open, hi);
    if (!v)
      fail(child(path, key), parent[key],
           fmt::format("required: a number {} {} and <= {}", lo_open ? ">" : ">=", num(lo),
                       num(hi)));
    return *v;
  }

  std::optional<std::int64_t> opt_int(const YAML::Node& parent, const std::string& key,
                                      const std::string& path, std::int64_t lo,
                                      std::int64_t hi) const {
    const YAML::Node node = parent[key];
    if (!node.IsDefined() || node.IsNull()) return std::nullopt;
    const std::string where = child(path, key);
    const std::string range = fmt::format("must be an integer {}..{}", lo, hi);
    long long v = 0;
    if (!node.IsScalar() || !YAML::convert<long long>::decode(node, v)) fail(where, node, range);
    if (v < lo || v > hi) fail(where, node, range);
    return v;
  }
  std::int64_t req_int(const YAML::Node& parent, const std::string& key, const std::string& path,
                       std::int64_t lo, std::int64_t hi) const {
    auto v = opt_int(parent, key, path, lo, hi);
    if (!v) fail(child(path, key), parent[key], fmt::format("required: an integer {}..{}", lo, hi));
    return *v;
  }

  std::optional<std::string> opt_string(const YAML::Node& parent, const std::string& key,
                                        const std::string& path, const std::string& range) const {
    const YAML::Node node = parent[key];
    if (!node.IsDefined() || node.IsNull()) return std::nullopt;
    if (!node.IsScalar() || node.Scalar().empty()) fail(child(path, key), node, range);
    return node.Scalar();
  }
  // One of `choices`.
  std::string req_choice(const YAML::Node& parent, const std::string& key, const std::string& path,
                         const std::vector<std::string>& choices) const {
    const std::string range = "must be one of " + join(choices, " | ");
    auto v = opt_string(parent, key, path, range);
    if (!v) fail(child(path, key), parent[key], "required: one of " + join(choices, " | "));
    if (!contains(choices, *v)) fail(child(path, key), parent[key], range);
    return *v;
  }

  std::optional<bool> opt_bool(const YAML::Node& parent, const std::string& key,
                               const std::string& path) const {
    const YAML::Node node = parent[key];
    if (!node.IsDefined() || node.IsNull()) return std::nullopt;
    bool v = false;
    if (!node.IsScalar() || !YAML::convert<bool>::decode(node, v))
      fail(child(path, key), node, "must be true or false");
    return v;
  }

  Format format(const YAML::Node& node, const std::string& where) const {
    const std::string range = fmt::format(
        "must be an integer width {}..{} or one of fp32, fp16, bf16, fp8-e4m3, "
        "fp8-e5m2, e<E>m<M>",
        kMinBits, kMaxBits);
    if (!node.IsScalar()) fail(where, node, range);
    try {
      return parse_format(node.Scalar(), where);
    } catch (const InputError&) {
      fail(where, node, range);
    }
  }

 private:
  std::string file_;
};

Role parse_role(const Checker& c, const YAML::Node& node, const std::string& where) {
  const std::string range = "must be one of W, A, E, G, Opt";
  if (!node.IsScalar()) c.fail(where, node, range);
  for (int r = 0; r < kNumRoles; ++r)
    if (node.Scalar() == role_name(static_cast<Role>(r))) return static_cast<Role>(r);
  c.fail(where, node, range);
}

bool is_power_of_two(std::int64_t v) { return v > 0 && (v & (v - 1)) == 0; }

PeConfig parse_pe(const Checker& c, const YAML::Node& root) {
  const YAML::Node node = root["pe"];
  if (!node.IsDefined() || node.IsNull())
    c.fail("pe", node, "required: a mapping with keys " + join(kPeKeys));
  c.check_map(node, "pe", kPeKeys);
  PeConfig pe;
  pe.type = c.req_choice(node, "type", "pe", kPeTypes);

  if (const YAML::Node list = node["native_formats"]; list.IsDefined() && !list.IsNull()) {
    const std::string range = "must be a non-empty list of formats, e.g. [8, 16, fp16, fp32]";
    if (!list.IsSequence() || list.size() == 0) c.fail("pe.native_formats", list, range);
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::string where = fmt::format("pe.native_formats.{}", i);
      Format f = c.format(list[i], where);
      if (std::find(pe.native_formats.begin(), pe.native_formats.end(), f) !=
          pe.native_formats.end())
        c.fail(where, list[i], "each format at most once");
      pe.native_formats.push_back(f);
    }
  } else if (pe.type == "fixed") {
    c.fail("pe.native_formats", list,
           "required for pe.type fixed: a non-empty list of formats, e.g. [8, 16, fp16, fp32]");
  }

  if (const YAML::Node map = node["packing"]; map.IsDefined() && !map.IsNull()) {
    if (!map.IsMap() || map.size() == 0)
      c.fail("pe.packing", map, "must be a mapping format: MACs per cycle, e.g. {4: 2}");
    for (const auto& kv : map) {
      const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : show(kv.first);
      const std::string where = "pe.packing." + key;
      Format f = c.format(kv.first, where);
      double rate = 0;
      const std::string range = fmt::format(
          "must be a number > 0 and <= {} (MACs per cycle per PE)", num(kMaxPackingRate));
      if (!kv.second.IsScalar() || !YAML::convert<double>::decode(kv.second, rate) ||
          !std::isfinite(rate) || rate <= 0 || rate > kMaxPackingRate)
        c.fail(where, kv.second, range);
      for (const auto& [g, r] : pe.packed_rates)
        if (g == f) c.fail(where, kv.second, "each format at most once");
      pe.packed_rates.emplace_back(f, rate);
    }
    std::sort(pe.packed_rates.begin(), pe.packed_rates.end());
  }

  if (auto s = c.opt_string(node, "serial_operand", "pe", "must be A or W")) {
    if (*s == "A")
      pe.serial_operand = Role::A;
    else if (*s == "W")
      pe.serial_operand = Role::W;
    else
      c.fail("pe.serial_operand", node["serial_operand"], "must be A or W");
  }
  if (auto v = c.opt_int(node, "serial_max_bits", "pe", 1, kMaxBits)) pe.serial_max_bits = int(*v);
  if (auto v = c.opt_int(node, "brick_bits", "pe", 1, 16)) pe.brick_bits = int(*v);
  if (auto v = c.opt_int(node, "fusion_bits", "pe", 1, 32)) pe.fusion_bits = int(*v);
  if (pe.fusion_bits % pe.brick_bits != 0 || !is_power_of_two(pe.fusion_bits / pe.brick_bits))
    c.fail(
        "pe.fusion_bits", std::to_string(pe.fusion_bits),
        fmt::format("must be pe.brick_bits ({}) times a power of two, at most 32", pe.brick_bits));
  if (auto v = c.opt_int(node, "pass_bits", "pe", 2, kMaxBits)) pe.pass_bits = int(*v);
  if (auto v = c.opt_double(node, "pass_energy_overhead", "pe", 0, false, 1))
    pe.pass_energy_overhead = *v;
  if (auto v = c.opt_double(node, "energy_pj_per_mac", "pe", 0, true, kMaxMacPj))
    pe.energy_pj_per_mac = *v;
  if (auto v = c.opt_double(node, "area_um2", "pe", 0, true, kMaxPeAreaUm2)) pe.area_um2 = *v;
  if (auto v = c.opt_int(node, "psum_bits", "pe", 1, kMaxBits)) pe.psum_bits = int(*v);
  return pe;
}

ArrayConfig parse_array(const Checker& c, const YAML::Node& root) {
  const YAML::Node node = root["array"];
  if (!node.IsDefined() || node.IsNull())
    c.fail("array", node, "required: a mapping with keys rows, cols");
  c.check_map(node, "array", kArrayKeys);
  ArrayConfig a;
  a.rows = c.req_int(node, "rows", "array", 1, kMaxPes);
  a.cols = c.req_int(node, "cols", "array", 1, kMaxPes);
  a.pipelined_folds = c.opt_bool(node, "pipelined_folds", "array").value_or(false);
  if (node["conv_mapping"].IsDefined() && !node["conv_mapping"].IsNull())
    a.conv_mapping = c.req_choice(node, "conv_mapping", "array", {"window", "channels"}) == "channels"
                         ? ConvMapping::Channels
                         : ConvMapping::Window;
  if (a.rows * a.cols > kMaxPes)
    c.fail("array.rows x array.cols", fmt::format("{} x {}", a.rows, a.cols),
           fmt::format("at most {} PEs", kMaxPes));
  return a;
}

// Capacity and ports of a buffer or of the accumulators (same keys, same ranges).
void parse_storage(const Checker& c, const YAML::Node& b, const std::string& path,
                   BufferConfig& buf) {
  const bool has_bytes = b["capacity_bytes"].IsDefined() && !b["capacity_bytes"].IsNull();
  const bool has_kb = b["capacity_kb"].IsDefined() && !b["capacity_kb"].IsNull();
  if (has_bytes && has_kb)
    c.fail(path + ".capacity_kb", b["capacity_kb"], "give capacity_bytes or capacity_kb, not both");
  if (has_bytes) {
    buf.capacity_bytes = c.req_int(b, "capacity_bytes", path, 1, kMaxBufferBytes);
  } else if (has_kb) {
    const double max_kb = double(kMaxBufferBytes / 1024);
    double kb = c.req_double(b, "capacity_kb", path, 0, true, max_kb);
    double bytes = kb * 1024;
    if (bytes != std::floor(bytes))
      c.fail(
          path + ".capacity_kb", b["capacity_kb"],
          fmt::format("must be a whole number of bytes (KiB x 1024), > 0 and <= {}", num(max_kb)));
    buf.capacity_bytes = std::int64_t(bytes);
  } else {
    c.fail(path + ".capacity_bytes", b["capacity_bytes"],
           fmt::format("required (or capacity_kb): an integer 1..{} bytes", kMaxBufferBytes));
  }
  if (auto v = c.opt_int(b, "banks", path, 1, kMaxBanks)) buf.banks = *v;
  if (auto v = c.opt_int(b, "port_bits", path, 1, kMaxPortBits)) buf.port_bits = *v;
  const double ports = double(buf.banks * buf.port_bits);
  buf.read_bits_per_cycle =
      c.opt_double(b, "read_bits_per_cycle", path, 0, true, kMaxBitsPerCycle).value_or(ports);
  buf.write_bits_per_cycle =
      c.opt_double(b, "write_bits_per_cycle", path, 0, true, kMaxBitsPerCycle).value_or(ports);
  if (b["cells"].IsDefined() && !b["cells"].IsNull())
    buf.cells = c.req_choice(b, "cells", path, {"lstp", "hp"}) == "hp"
                    ? SramCells::HighPerformance
                    : SramCells::LowStandby;
}

// `leakage:` (optional): the device types leakage is charged at.
LeakageConfig parse_leakage(const Checker& c, const YAML::Node& root) {
  LeakageConfig l;
  const YAML::Node node = root["leakage"];
  if (!node.IsDefined() || node.IsNull()) return l;
  c.check_map(node, "leakage", kLeakageKeys);
  if (node["logic"].IsDefined() && !node["logic"].IsNull())
    l.logic = c.req_choice(node, "logic", "leakage", {"lp", "hp"}) == "hp"
                  ? LogicCells::HighPerformance
                  : LogicCells::LowPower;
  if (node["sram"].IsDefined() && !node["sram"].IsNull())
    l.sram = c.req_choice(node, "sram", "leakage", {"lstp", "hp"}) == "hp"
                 ? SramCells::HighPerformance
                 : SramCells::LowStandby;
  return l;
}

std::vector<BufferConfig> parse_buffers(const Checker& c, const YAML::Node& root) {
  const YAML::Node list = root["buffers"];
  const std::string range =
      fmt::format("required: a list of 1..{} buffers, each a mapping with keys {}", kMaxBuffers,
                  join(kBufferKeys));
  // IsDefined first: a missing key is an invalid node, and IsSequence() on it throws.
  if (!list.IsDefined() || !list.IsSequence() || list.size() == 0 ||
      std::int64_t(list.size()) > kMaxBuffers)
    c.fail("buffers", list, range);
  std::vector<BufferConfig> out;
  std::set<std::string> names;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const YAML::Node b = list[i];
    const std::string path = fmt::format("buffers.{}", i);
    c.check_map(b, path, kBufferKeys);
    BufferConfig buf;
    buf.name = [&] {
      auto n = c.opt_string(b, "name", path, "must be a non-empty name");
      if (!n) c.fail(path + ".name", b["name"], "required: a non-empty name, unique");
      if (!names.insert(*n).second) c.fail(path + ".name", b["name"], "must be unique");
      return *n;
    }();
    parse_storage(c, b, path, buf);
    const YAML::Node holds = b["holds"];
    const std::string holds_range = "required: a non-empty list of roles W, A, E, G, Opt";
    if (!holds.IsDefined() || !holds.IsSequence() || holds.size() == 0)
      c.fail(path + ".holds", holds, holds_range);
    for (std::size_t j = 0; j < holds.size(); ++j) {
      const std::string where = fmt::format("{}.holds.{}", path, j);
      Role r = parse_role(c, holds[j], where);
      if (std::find(buf.holds.begin(), buf.holds.end(), r) != buf.holds.end())
        c.fail(where, holds[j], "each role at most once per buffer");
      buf.holds.push_back(r);
    }
    out.push_back(std::move(buf));
  }
  for (int r = 0; r < kNumRoles; ++r) {
    const Role role = static_cast<Role>(r);
    bool held = std::any_of(out.begin(), out.end(), [&](const BufferConfig& b) {
      return std::find(b.holds.begin(), b.holds.end(), role) != b.holds.end();
    });
    if (!held) {
      c.fail("buffers.*.holds", fmt::format("no buffer holds {}", role_name(role)),
             "every role W, A, E, G, Opt must be held by at least one buffer");
    }
  }
  return out;
}

// `accumulators:` (optional): partial-sum storage beside the array.
AccumulatorConfig parse_accumulators(const Checker& c, const YAML::Node& root,
                                     const std::vector<BufferConfig>& buffers) {
  AccumulatorConfig acc;
  const YAML::Node node = root["accumulators"];
  if (!node.IsDefined() || node.IsNull()) return acc;
  c.check_map(node, "accumulators", kAccumulatorKeys);
  acc.present = true;
  acc.storage.name = c.opt_string(node, "name", "accumulators", "must be a non-empty name")
                         .value_or("accumulators");
  for (const auto& b : buffers)
    if (b.name == acc.storage.name)
      c.fail("accumulators.name", acc.storage.name,
             "must differ from every buffer's name (it is reported as its own SRAM)");
  parse_storage(c, node, "accumulators", acc.storage);
  return acc;
}

DramConfig parse_dram(const Checker& c, const YAML::Node& root) {
  const YAML::Node node = root["dram"];
  if (!node.IsDefined() || node.IsNull())
    c.fail("dram", node, "required: a mapping with keys " + join(kDramKeys));
  c.check_map(node, "dram", kDramKeys);
  DramConfig d;
  d.bandwidth_gbps = c.req_double(node, "bandwidth_gbps", "dram", 0, true, kMaxDramGbps);
  d.latency_ns = c.opt_double(node, "latency_ns", "dram", 0, false, kMaxDramLatencyNs)
                     .value_or(kDefaultLatencyNs);
  if (auto v = c.opt_double(node, "pj_per_bit", "dram", 0, true, kMaxDramPjPerBit))
    d.pj_per_bit = *v;
  return d;
}

Dataflow parse_dataflow(const Checker& c, const YAML::Node& root) {
  const std::string s = c.req_choice(root, "dataflow", "", {"ws", "os", "is"});
  if (s == "os") return Dataflow::OutputStationary;
  if (s == "is") return Dataflow::InputStationary;
  return Dataflow::WeightStationary;
}

ArchConfig parse_arch(const Checker& c, const YAML::Node& root, const std::string& default_name,
                      const fs::path& base_dir) {
  if (!root.IsDefined() || root.IsNull() || !root.IsMap())
    c.fail("(top level)", root, "must be a mapping with keys " + join(kTopKeys));
  c.check_map(root, "", kTopKeys);
  ArchConfig a;
  a.name = c.opt_string(root, "name", "", "must be a non-empty name").value_or(default_name);
  a.clock_ghz = c.req_double(root, "clock_ghz", "", 0, true, kMaxClockGhz);
  a.pe = parse_pe(c, root);
  a.array = parse_array(c, root);
  a.dataflow = parse_dataflow(c, root);
  a.buffers = parse_buffers(c, root);
  a.accumulators = parse_accumulators(c, root, a.buffers);
  a.dram = parse_dram(c, root);
  a.vector.lanes = a.array.cols;
  if (const YAML::Node v = root["vector"]; v.IsDefined() && !v.IsNull()) {
    c.check_map(v, "vector", kVectorKeys);
    if (auto lanes = c.opt_int(v, "lanes", "vector", 1, kMaxPes)) a.vector.lanes = *lanes;
  }
  const auto double_buffering = c.opt_bool(root, "double_buffering", "");
  const auto buffering = c.opt_int(root, "buffering", "", 1, kMaxBuffering);
  a.buffering = buffering.value_or(double_buffering.value_or(true) ? 2 : 1);
  if (double_buffering && buffering && *double_buffering != (*buffering >= 2))
    c.fail("buffering", root["buffering"],
           fmt::format("must be {} with double_buffering: {} (or give only one of the two keys)",
                       *double_buffering ? ">= 2" : "1", *double_buffering));
  a.ideal_memory = c.opt_bool(root, "ideal_memory", "").value_or(false);
  a.leakage = parse_leakage(c, root);
  a.fusion = c.opt_bool(root, "fusion", "").value_or(false);
  a.node_nm = c.opt_double(root, "node_nm", "", kMinNodeNm, false, kMaxNodeNm).value_or(45);
  if (auto t =
          c.opt_string(root, "energy_table", "", "must be the path of an energy-table YAML file")) {
    fs::path p(*t);
    if (p.is_relative()) p = base_dir / p;
    std::error_code ec;
    if (!fs::is_regular_file(p, ec))
      c.fail("energy_table", root["energy_table"],
             fmt::format("must name a readable energy-table file (looked for {})", p.string()));
    a.energy_table = p.lexically_normal().string();
  }
  return a;
}

// ---- --set overrides -------------------------------------------------------

// Which key paths the schema has: a list (index next), a map with free keys
// (pe.packing), or a map with the listed keys; leaves are anything else.
enum class Shape { Leaf, List, FreeMap, Map };

struct SchemaNode {
  Shape shape = Shape::Leaf;
  const std::vector<std::string>* keys = nullptr;
};

SchemaNode schema_of(const std::vector<std::string>& prefix) {
  // prefix: the path down to a node (list indices replaced by "#").
  if (prefix.empty()) return {Shape::Map, &kTopKeys};
  const std::string& head = prefix[0];
  if (prefix.size() == 1) {
    if (head == "pe") return {Shape::Map, &kPeKeys};
    if (head == "array") return {Shape::Map, &kArrayKeys};
    if (head == "dram") return {Shape::Map, &kDramKeys};
    if (head == "vector") return {Shape::Map, &kVectorKeys};
    if (head == "accumulators") return {Shape::Map, &kAccumulatorKeys};
    if (head == "leakage") return {Shape::Map, &kLeakageKeys};
    if (head == "buffers") return {Shape::List, nullptr};
    return {};
  }
  if (head == "pe" && prefix.size() == 2) {
    if (prefix[1] == "native_formats") return {Shape::List, nullptr};
    if (prefix[1] == "packing") return {Shape::FreeMap, nullptr};
    return {};
  }
  if (head == "buffers") {
    if (prefix.size() == 2) return {Shape::Map, &kBufferKeys};
    if (prefix.size() == 3 && prefix[2] == "holds") return {Shape::List, nullptr};
  }
  return {};
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
    if (shape.shape == Shape::Map && !contains(*shape.keys, part))
      throw bad(fmt::format("unknown key '{}'; allowed after '{}': {}", here,
                            so_far.empty() ? "(top level)" : so_far, join(*shape.keys)));
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
    Checker(file).fail("(top level)", root, "must be a mapping with keys " + join(kTopKeys));
  return parse_arch(Checker(file), root, default_name, base_dir);
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

YAML::Node format_node(const Format& f) {
  if (f.is_float()) return YAML::Node(f.name());
  return YAML::Node(f.bits);
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

const std::vector<std::string>& pe_type_names() { return kPeTypes; }

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
  out << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << a.name;
  out << YAML::Key << "clock_ghz" << YAML::Value << a.clock_ghz;
  out << YAML::Key << "pe" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "type" << YAML::Value << a.pe.type;
  if (!a.pe.native_formats.empty()) {
    out << YAML::Key << "native_formats" << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (const auto& f : a.pe.native_formats) out << format_node(f);
    out << YAML::EndSeq;
  }
  if (!a.pe.packed_rates.empty()) {
    out << YAML::Key << "packing" << YAML::Value << YAML::Flow << YAML::BeginMap;
    for (const auto& [f, r] : a.pe.packed_rates) out << YAML::Key << f.name() << YAML::Value << r;
    out << YAML::EndMap;
  }
  out << YAML::Key << "serial_operand" << YAML::Value
      << std::string(role_name(a.pe.serial_operand));
  out << YAML::Key << "serial_max_bits" << YAML::Value << a.pe.serial_max_bits;
  out << YAML::Key << "brick_bits" << YAML::Value << a.pe.brick_bits;
  out << YAML::Key << "fusion_bits" << YAML::Value << a.pe.fusion_bits;
  out << YAML::Key << "pass_bits" << YAML::Value << a.pe.pass_bits;
  out << YAML::Key << "pass_energy_overhead" << YAML::Value << a.pe.pass_energy_overhead;
  if (a.pe.energy_pj_per_mac > 0)
    out << YAML::Key << "energy_pj_per_mac" << YAML::Value << a.pe.energy_pj_per_mac;
  if (a.pe.area_um2 > 0) out << YAML::Key << "area_um2" << YAML::Value << a.pe.area_um2;
  if (a.pe.psum_bits > 0) out << YAML::Key << "psum_bits" << YAML::Value << a.pe.psum_bits;
  out << YAML::EndMap;
  out << YAML::Key << "array" << YAML::Value << YAML::Flow << YAML::BeginMap;
  out << YAML::Key << "rows" << YAML::Value << a.array.rows;
  out << YAML::Key << "cols" << YAML::Value << a.array.cols;
  if (a.array.pipelined_folds) out << YAML::Key << "pipelined_folds" << YAML::Value << true;
  if (a.array.conv_mapping == ConvMapping::Channels)
    out << YAML::Key << "conv_mapping" << YAML::Value << "channels";
  out << YAML::EndMap;
  out << YAML::Key << "dataflow" << YAML::Value << std::string(dataflow_name(a.dataflow));
  out << YAML::Key << "buffers" << YAML::Value << YAML::BeginSeq;
  for (const auto& b : a.buffers) {
    out << YAML::BeginMap;
    out << YAML::Key << "name" << YAML::Value << b.name;
    out << YAML::Key << "capacity_bytes" << YAML::Value << b.capacity_bytes;
    out << YAML::Key << "banks" << YAML::Value << b.banks;
    out << YAML::Key << "port_bits" << YAML::Value << b.port_bits;
    if (b.read_bits_per_cycle > 0)
      out << YAML::Key << "read_bits_per_cycle" << YAML::Value << b.read_bits_per_cycle;
    if (b.write_bits_per_cycle > 0)
      out << YAML::Key << "write_bits_per_cycle" << YAML::Value << b.write_bits_per_cycle;
    out << YAML::Key << "holds" << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (Role r : b.holds) out << std::string(role_name(r));
    out << YAML::EndSeq;
    if (b.cells) out << YAML::Key << "cells" << YAML::Value << std::string(sram_cells_name(*b.cells));
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
  if (a.accumulators.present) {
    const BufferConfig& b = a.accumulators.storage;
    out << YAML::Key << "accumulators" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "name" << YAML::Value << b.name;
    out << YAML::Key << "capacity_bytes" << YAML::Value << b.capacity_bytes;
    out << YAML::Key << "banks" << YAML::Value << b.banks;
    out << YAML::Key << "port_bits" << YAML::Value << b.port_bits;
    out << YAML::Key << "read_bits_per_cycle" << YAML::Value << b.read_bits_per_cycle;
    out << YAML::Key << "write_bits_per_cycle" << YAML::Value << b.write_bits_per_cycle;
    if (b.cells) out << YAML::Key << "cells" << YAML::Value << std::string(sram_cells_name(*b.cells));
    out << YAML::EndMap;
  }
  out << YAML::Key << "dram" << YAML::Value << YAML::Flow << YAML::BeginMap;
  out << YAML::Key << "bandwidth_gbps" << YAML::Value << a.dram.bandwidth_gbps;
  out << YAML::Key << "latency_ns" << YAML::Value << a.dram.latency_ns;
  if (a.dram.pj_per_bit > 0) out << YAML::Key << "pj_per_bit" << YAML::Value << a.dram.pj_per_bit;
  out << YAML::EndMap;
  if (a.vector.lanes > 0)
    out << YAML::Key << "vector" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key
        << "lanes" << YAML::Value << a.vector.lanes << YAML::EndMap;
  out << YAML::Key << "buffering" << YAML::Value << a.buffering;
  out << YAML::Key << "ideal_memory" << YAML::Value << a.ideal_memory;
  out << YAML::Key << "fusion" << YAML::Value << a.fusion;
  out << YAML::Key << "leakage" << YAML::Value << YAML::Flow << YAML::BeginMap;
  out << YAML::Key << "logic" << YAML::Value << std::string(logic_cells_name(a.leakage.logic));
  out << YAML::Key << "sram" << YAML::Value << std::string(sram_cells_name(a.leakage.sram));
  out << YAML::EndMap;
  out << YAML::Key << "node_nm" << YAML::Value << a.node_nm;
  if (!a.energy_table.empty()) out << YAML::Key << "energy_table" << YAML::Value << a.energy_table;
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace lpsim
