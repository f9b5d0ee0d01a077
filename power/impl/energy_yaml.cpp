// load_energy_table: a user's YAML table overriding entries of a base table.
// Schema: docs/energy.md ("User tables").
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/input_file.h"
#include "core/error.h"
#include "power/energy_table.h"
#include "power/impl/energy_keys.h"

namespace lpsim {

namespace {

constexpr int kMaxAccumulatorBits = 256;

std::string shown(const YAML::Node& n) {
  if (n.IsScalar()) return n.Scalar();
  if (n.IsMap()) return "<mapping>";
  if (n.IsSequence()) return "<list>";
  return "<empty>";
}

// A strictly positive, finite number, or InputError "file: key = value: must be > 0".
double positive_number(const YAML::Node& n, const std::string& path, const std::string& key) {
  const std::string text = shown(n);
  double v = 0;
  bool ok = n.IsScalar() && !text.empty();
  if (ok) {
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    ok = ec == std::errc() && p == text.data() + text.size();
  }
  if (!ok) throw InputError(fmt::format("{}: {} = {}: must be a number > 0", path, key, text));
  if (!std::isfinite(v) || !(v > 0))
    throw InputError(fmt::format("{}: {} = {}: must be > 0", path, key, text));
  return v;
}

bool is_entry_key(const std::string& key) {
  for (const auto& k : energy_table_keys())
    if (k == key) return true;
  return false;
}

std::string known_keys() {
  std::string s = "node_nm, voltage_v, int_accumulator_bits, float_accumulator";
  for (const auto& k : energy_table_keys()) s += ", " + k;
  return s;
}

// The laws assume cost grows with width and capacity (docs/energy.md).
void check_order(const EnergyTable& t, const std::string& path,
                 std::initializer_list<const char*> keys) {
  const char* prev = nullptr;
  for (const char* k : keys) {
    if (!t.entries.count(k)) return;  // a partial table over an empty base: nothing to order
    if (prev && t.entry(k) < t.entry(prev))
      throw InputError(
          fmt::format("{}: {} = {}: must be >= {} = {} (cost must not fall as "
                      "width or capacity grows)",
                      path, k, t.entry(k), prev, t.entry(prev)));
    prev = k;
  }
}

}  // namespace

EnergyTable load_energy_table(const std::string& path, const EnergyTable& base) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw InputError(fmt::format("{}: energy table file not found (or not a regular file)", path));
  const std::string text = read_input_file(path);
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw InputError(fmt::format("{}:{}:{}: YAML syntax error: {}", path, e.mark.line + 1,
                                 e.mark.column + 1, e.msg));
  }
  if (!root.IsMap())
    throw InputError(
        fmt::format("{}: expected a mapping of energy-table keys to numbers "
                    "(docs/energy.md)",
                    path));

  EnergyTable t = base;
  std::set<std::string> seen;
  for (const auto& kv : root) {
    if (!kv.first.IsScalar()) throw InputError(fmt::format("{}: a key is not a plain name", path));
    const std::string key = kv.first.Scalar();
    const YAML::Node& value = kv.second;
    if (!seen.insert(key).second)
      throw InputError(fmt::format("{}: {}: key given twice", path, key));

    if (key == "node_nm") {
      t.node_nm = positive_number(value, path, key);
    } else if (key == "voltage_v") {
      t.voltage_v = positive_number(value, path, key);
    } else if (key == "int_accumulator_bits") {
      const double bits = positive_number(value, path, key);
      if (bits != std::floor(bits) || bits > kMaxAccumulatorBits)
        throw InputError(fmt::format("{}: {} = {}: must be an integer 1..{}", path, key,
                                     shown(value), kMaxAccumulatorBits));
      t.int_accumulator_bits = static_cast<int>(bits);
    } else if (key == "float_accumulator") {
      const std::string where = fmt::format("{}: {}", path, key);
      if (!value.IsScalar())
        throw InputError(
            fmt::format("{} = {}: must be a float format such as fp32", where, shown(value)));
      Format f = parse_format(value.Scalar(), where);
      if (!f.is_float())
        throw InputError(
            fmt::format("{} = {}: must be a float format (fp32, fp16, bf16, "
                        "e<E>m<M>)",
                        where, value.Scalar()));
      t.float_accumulator = f;
    } else if (is_entry_key(key)) {
      t.entries[key] = positive_number(value, path, key);
      t.entry_sources[key] = path;
    } else {
      throw InputError(
          fmt::format("{}: unknown key '{}': expected one of {}", path, key, known_keys()));
    }
  }

  check_order(t, path, {"int_add_8", "int_add_16", "int_add_32"});
  check_order(t, path, {"int_mul_8", "int_mul_32"});
  check_order(t, path, {"fp_add_16", "fp_add_32"});
  check_order(t, path, {"fp_mul_16", "fp_mul_32"});
  check_order(t, path, {"sram_read64_8kb", "sram_read64_32kb", "sram_read64_1mb"});
  check_order(t, path, {"int_add_8_um2", "int_add_16_um2", "int_add_32_um2"});
  check_order(t, path, {"int_mul_8_um2", "int_mul_32_um2"});
  check_order(t, path, {"fp_add_16_um2", "fp_add_32_um2"});
  check_order(t, path, {"fp_mul_16_um2", "fp_mul_32_um2"});

  t.source = base.source.empty() ? path : base.source + " + " + path;
  return t;
}

}  // namespace lpsim
