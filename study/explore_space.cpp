// Design-space files: read, validate every key once, enumerate and sample points.
#include "study/explore_space.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "core/config_check.h"
#include "core/input_file.h"
#include "core/error.h"

namespace lpsim::explore {

namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kTopKeys = {"name", "base", "axes", "constraints", "objectives"};
const std::vector<std::string> kConstraintKeys = {"max_area_mm2", "max_power_w"};
const std::vector<std::string> kRangeKeys = {"values", "from", "to", "step", "factor"};
const std::vector<std::string> kObjectiveNames = {"energy", "latency", "edp", "area", "power"};

// Exact integers when from and step are integers, else doubles printed with
// 12 significant digits (so 0.1 + 2 x 0.1 reads 0.3, not 0.30000000000000004).
bool is_integer_text(const YAML::Node& node) {
  long long v = 0;
  return node.IsScalar() && YAML::convert<long long>::decode(node, v);
}

std::string number_text(double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e15) return fmt::format("{}", static_cast<long long>(v));
  return fmt::format("{:.12g}", v);
}

std::vector<std::string> range_values(const Checker& c, const YAML::Node& node,
                                      const std::string& path, std::int64_t max_values) {
  const bool has_step = node["step"].IsDefined(), has_factor = node["factor"].IsDefined();
  const std::string shape = "a range is {from, to, step} or {from, to, factor}";
  if (!node["from"].IsDefined()) c.fail(path + ".from", node["from"], "required: " + shape);
  if (!node["to"].IsDefined()) c.fail(path + ".to", node["to"], "required: " + shape);
  if (has_step == has_factor)
    c.fail(path, node, "give exactly one of step (> 0) or factor (> 1): " + shape);
  const double from = c.number(node["from"], path + ".from", "must be a number");
  const double to = c.number(node["to"], path + ".to", "must be a number >= from");
  if (to < from) c.fail(path + ".to", node["to"], fmt::format("must be >= from ({})", show(node["from"])));
  std::vector<std::string> out;
  auto too_many = [&] {
    c.fail(path, node, fmt::format("the range gives more than {} values", max_values));
  };
  if (has_step) {
    const double step = c.number(node["step"], path + ".step", "must be a number > 0");
    if (step <= 0) c.fail(path + ".step", node["step"], "must be a number > 0");
    // The values are from + i step for i = 0 .. floor(span) (span nudged up so
    // that 0.5..0.7 step 0.1 reaches 0.7); floor(span) + 1 <= max_values.
    const double span = (to - from) / step * (1 + 1e-12);
    if (!(span < double(max_values))) too_many();
    const auto count = static_cast<std::int64_t>(std::floor(span)) + 1;
    const bool integers = is_integer_text(node["from"]) && is_integer_text(node["step"]);
    for (std::int64_t i = 0; i < count; ++i) {
      if (!integers) {
        out.push_back(number_text(from + double(i) * step));
        continue;
      }
      // from + i x step can pass 2^63 although the count, taken in doubles,
      // is small (from near 2^63, or a step near it).
      long long v = 0;
      if (__builtin_mul_overflow(static_cast<long long>(i), node["step"].as<long long>(), &v) ||
          __builtin_add_overflow(node["from"].as<long long>(), v, &v))
        c.fail(path, node, "an integer range's values must lie in -2^63..2^63-1");
      out.push_back(fmt::format("{}", v));
    }
  } else {
    const double factor = c.number(node["factor"], path + ".factor", "must be a number > 1");
    if (factor <= 1) c.fail(path + ".factor", node["factor"], "must be a number > 1");
    if (from <= 0) c.fail(path + ".from", node["from"], "must be > 0 with factor");
    double v = from;
    for (std::int64_t i = 0; v <= to * (1 + 1e-12); ++i, v = from * std::pow(factor, double(i))) {
      if (i >= max_values) too_many();
      out.push_back(number_text(v));
    }
  }
  return out;
}

std::vector<std::string> axis_values(const Checker& c, const YAML::Node& node,
                                     const std::string& path, std::int64_t max_values) {
  const std::string shape =
      "must be a non-empty list of values, {values: [...]}, {from, to, step} or {from, to, factor}";
  YAML::Node list;
  if (node.IsSequence()) {
    list = node;
  } else if (node.IsMap()) {
    c.check_map(node, path, kRangeKeys, shape);
    if (node["values"].IsDefined()) {
      if (node.size() != 1) c.fail(path, node, "values cannot be combined with from/to/step/factor");
      list = node["values"];
      if (!list.IsSequence()) c.fail(path + ".values", list, shape);
    } else {
      return range_values(c, node, path, max_values);
    }
  } else {
    c.fail(path, node, shape);
  }
  if (list.size() == 0) c.fail(path, list, shape);
  if (std::int64_t(list.size()) > max_values)
    c.fail(path, list, fmt::format("at most {} values", max_values));
  std::vector<std::string> out;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string where = fmt::format("{}.{}", path, i);
    if (!list[i].IsDefined() || list[i].IsNull()) c.fail(where, list[i], "must be a value");
    out.push_back(show(list[i]));
  }
  return out;
}

std::string resolve_base(const std::string& base, const fs::path& space_dir) {
  const fs::path p(base);
  if (p.parent_path().empty() && p.extension() != ".yaml") return resolve_arch_path(base);
  if (p.is_relative() && !space_dir.empty()) return (space_dir / p).lexically_normal().string();
  return base;
}

// splitmix64 (Steele, Lea, Flood, OOPSLA 2014): the same numbers on every
// platform, unlike std::uniform_int_distribution.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n), by rejection (no modulo bias).
  std::uint64_t below(std::uint64_t n) {
    const std::uint64_t threshold = (0 - n) % n;
    for (;;) {
      const std::uint64_t r = next();
      if (r >= threshold) return r % n;
    }
  }
  double unit() { return double(next() >> 11) * 0x1.0p-53; }

 private:
  std::uint64_t state_;
};

}  // namespace

const char* objective_name(Objective o) {
  return kObjectiveNames[static_cast<std::size_t>(o)].c_str();
}

std::int64_t DesignSpace::size() const {
  std::int64_t n = 1;
  for (const auto& a : axes) {
    if (n > kMaxPoints / std::int64_t(a.values.size()))
      throw InputError(fmt::format("{}: axes: more than {} points in the full product", file,
                                   kMaxPoints));
    n *= std::int64_t(a.values.size());
  }
  return n;
}

std::vector<std::size_t> DesignSpace::coordinates(std::int64_t id) const {
  std::vector<std::size_t> c(axes.size());
  for (std::size_t i = axes.size(); i-- > 0;) {
    const auto n = std::int64_t(axes[i].values.size());
    c[i] = std::size_t(id % n);
    id /= n;
  }
  return c;
}

std::int64_t DesignSpace::id_of(const std::vector<std::size_t>& c) const {
  std::int64_t id = 0;
  for (std::size_t i = 0; i < axes.size(); ++i)
    id = id * std::int64_t(axes[i].values.size()) + std::int64_t(c[i]);
  return id;
}

std::vector<std::string> DesignSpace::overrides(std::int64_t id) const {
  const auto c = coordinates(id);
  std::vector<std::string> out;
  for (std::size_t i = 0; i < axes.size(); ++i)
    out.push_back(axes[i].key + "=" + axes[i].values[c[i]]);
  return out;
}

ArchConfig DesignSpace::arch(std::int64_t id) const {
  const auto sets = overrides(id);
  try {
    return load_arch(base_path, sets);
  } catch (const InputError& e) {
    throw InputError(fmt::format("{}: point {} ({}): {}", file, id, join(sets, ", "), e.what()));
  }
}

DesignSpace load_space(const std::string& path, std::int64_t max_axis_values) {
  const Checker c(path);
  std::error_code ec;
  if (!fs::exists(path, ec)) throw InputError(fmt::format("{}: design-space file not found", path));
  if (fs::is_directory(path, ec))
    throw InputError(fmt::format("{}: is a directory, expected a design-space YAML file", path));
  YAML::Node root;
  try {
    root = YAML::Load(read_input_file(path));
  } catch (const YAML::Exception& e) {
    throw InputError(fmt::format("{}: line {}: not valid YAML: {}", path, e.mark.line + 1, e.msg));
  }
  c.check_map(root, "", kTopKeys, "a mapping with keys " + join(kTopKeys));

  DesignSpace s;
  s.file = path;
  s.name = fs::path(path).stem().string();
  if (const YAML::Node n = root["name"]; n.IsDefined()) {
    if (!n.IsScalar() || n.Scalar().empty()) c.fail("name", n, "must be a non-empty name");
    s.name = n.Scalar();
  }

  const YAML::Node base = root["base"];
  if (!base.IsDefined() || !base.IsScalar() || base.Scalar().empty())
    c.fail("base", base,
           "required: a shipped design point (" + join(shipped_arch_names()) +
               ") or an architecture file path");
  s.base_path = resolve_base(base.Scalar(), fs::path(path).parent_path());
  check_input_caps(s.base_path);
  std::optional<ArchTemplate> base_arch;  // parsed once: every axis value is tried on it
  try {
    base_arch.emplace(s.base_path);
    (void)base_arch->with();
  } catch (const InputError& e) {
    c.fail("base", base, e.what());
  }

  const YAML::Node axes = root["axes"];
  const std::string axes_shape =
      "required: a mapping of architecture key paths (as --set takes them, e.g. array.rows) to "
      "their values";
  if (!axes.IsDefined() || !axes.IsMap() || axes.size() == 0) c.fail("axes", axes, axes_shape);
  c.check_map(axes, "axes", {}, axes_shape);
  std::int64_t values_in_all = 0;  // each one is validated on the base: bounded in total too
  for (const auto& kv : axes) {
    Axis a;
    a.key = kv.first.IsScalar() ? kv.first.Scalar() : show_short(kv.first);
    const std::string where = "axes." + a.key;
    if (a.key.empty() || a.key.find('=') != std::string::npos)
      c.fail(where, kv.second, "an axis key is an architecture key path, e.g. array.rows");
    for (const auto& other : s.axes)
      if (a.key.rfind(other.key + ".", 0) == 0 || other.key.rfind(a.key + ".", 0) == 0)
        c.fail(where, kv.second,
               fmt::format("overlaps axis '{}': sweep a key or its parent, not both", other.key));
    a.values = axis_values(c, kv.second, where, max_axis_values);
    values_in_all += static_cast<std::int64_t>(a.values.size());
    if (values_in_all > max_axis_values)
      c.fail(where, kv.second,
             fmt::format("the axes give more than {} values in all", max_axis_values));
    std::set<std::string> seen;
    for (std::size_t i = 0; i < a.values.size(); ++i) {
      if (!seen.insert(a.values[i]).second)
        c.fail(fmt::format("{}.{}", where, i), a.values[i], "each value at most once");
      // Each value must make a valid design point on the base by itself, so
      // a bad value is named here rather than half-way through a sweep.
      try {
        (void)base_arch->with({a.key + "=" + a.values[i]});
      } catch (const InputError& e) {
        c.fail(fmt::format("{}.{}", where, i), a.values[i], e.what());
      }
    }
    s.axes.push_back(std::move(a));
  }
  (void)s.size();  // refuse a product past kMaxPoints now

  if (const YAML::Node n = root["constraints"]; n.IsDefined() && !n.IsNull()) {
    c.check_map(n, "constraints", kConstraintKeys,
                "a mapping with keys " + join(kConstraintKeys));
    auto positive = [&](const char* key) -> std::optional<double> {
      const YAML::Node v = n[key];
      if (!v.IsDefined() || v.IsNull()) return std::nullopt;
      const std::string where = std::string("constraints.") + key;
      double x = c.number(v, where, "must be a number > 0");
      if (x <= 0) c.fail(where, v, "must be a number > 0");
      return x;
    };
    s.max_area_mm2 = positive("max_area_mm2");
    s.max_power_w = positive("max_power_w");
  }

  if (const YAML::Node n = root["objectives"]; n.IsDefined()) {
    const std::string range = "must be a non-empty list of " + join(kObjectiveNames, " | ");
    if (!n.IsSequence() || n.size() == 0) c.fail("objectives", n, range);
    for (std::size_t i = 0; i < n.size(); ++i) {
      const std::string where = fmt::format("objectives.{}", i);
      const auto it = n[i].IsScalar()
                          ? std::find(kObjectiveNames.begin(), kObjectiveNames.end(), n[i].Scalar())
                          : kObjectiveNames.end();
      if (it == kObjectiveNames.end())
        c.fail(where, n[i], "must be one of " + join(kObjectiveNames, " | "));
      const auto o = static_cast<Objective>(it - kObjectiveNames.begin());
      if (std::find(s.objectives.begin(), s.objectives.end(), o) != s.objectives.end())
        c.fail(where, n[i], "each objective at most once");
      s.objectives.push_back(o);
    }
  } else {
    s.objectives = {Objective::Energy, Objective::Latency};
  }
  return s;
}

std::vector<std::int64_t> select_points(const DesignSpace& space, Sampling sampling,
                                        std::int64_t samples, std::uint64_t seed) {
  const std::int64_t n = space.size();
  std::vector<std::int64_t> ids;
  if (sampling == Sampling::All || (sampling == Sampling::Random && samples >= n)) {
    if (n > kMaxEnumerated)
      throw InputError(fmt::format(
          "{}: axes: {} points: more than {} to enumerate; draw some with --samples K", space.file,
          n, kMaxEnumerated));
    ids.resize(std::size_t(n));
    for (std::int64_t i = 0; i < n; ++i) ids[std::size_t(i)] = i;
    return ids;
  }
  if (samples < 1 || samples > kMaxEnumerated)
    throw InputError(fmt::format("--samples = {}: must be 1..{}", samples, kMaxEnumerated));
  Rng rng(seed);
  if (sampling == Sampling::Random) {
    // Floyd's algorithm (Bentley, CACM 1987): `samples` distinct ids.
    std::set<std::int64_t> chosen;
    for (std::int64_t j = n - samples; j < n; ++j) {
      const auto t = std::int64_t(rng.below(std::uint64_t(j) + 1));
      if (!chosen.insert(t).second) chosen.insert(j);
    }
    ids.assign(chosen.begin(), chosen.end());
    return ids;
  }
  // Latin hypercube (McKay, Beckman, Conover 1979) over each axis' value index.
  const auto k = std::size_t(samples);
  std::vector<std::vector<std::size_t>> coords(k, std::vector<std::size_t>(space.axes.size()));
  for (std::size_t a = 0; a < space.axes.size(); ++a) {
    std::vector<std::size_t> perm(k);
    for (std::size_t i = 0; i < k; ++i) perm[i] = i;
    for (std::size_t i = k; i-- > 1;) std::swap(perm[i], perm[rng.below(i + 1)]);
    const double values = double(space.axes[a].values.size());
    for (std::size_t i = 0; i < k; ++i) {
      const double u = (double(perm[i]) + rng.unit()) / double(k);
      coords[i][a] = std::min(std::size_t(u * values), space.axes[a].values.size() - 1);
    }
  }
  std::set<std::int64_t> chosen;
  for (const auto& c : coords) chosen.insert(space.id_of(c));
  ids.assign(chosen.begin(), chosen.end());
  return ids;
}

}  // namespace lpsim::explore
