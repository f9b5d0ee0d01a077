// file:PATH — a piecewise-constant schedule read from YAML or JSON
// (docs/schedules.md): entries starting at an epoch, an iteration or a
// fraction of training, plus optional fixed per-layer precisions.
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/input_file.h"
#include "core/error.h"
#include "traces/impl/spec_parse.h"

namespace lpsim::schedule_impl {
namespace {

constexpr std::string_view kForm = "file:PATH (a YAML or JSON schedule, docs/schedules.md)";

enum class Unit { Epoch, Iteration, Fraction };
constexpr std::string_view kUnitKeys[] = {"from_epoch", "from_iteration", "from_fraction"};

struct Entry {
  std::int64_t start = 0;  // Epoch, Iteration
  double fraction = 0;     // Fraction
  PrecisionSet precision;
};

class FileSchedule : public Schedule {
 public:
  FileSchedule(std::string path, Unit unit, std::vector<Entry> entries,
               std::vector<LayerPrecision> layers)
      : path_(std::move(path)),
        unit_(unit),
        entries_(std::move(entries)),
        layers_(std::move(layers)) {}
  std::string spec() const override { return "file:" + path_; }
  PrecisionSet at(const ScheduleContext& ctx) const override {
    // The last entry that has started; entries are strictly increasing and
    // the first starts at 0.
    for (auto it = entries_.rbegin(); it != entries_.rend(); ++it)
      if (started(*it, ctx)) return it->precision;
    return entries_.front().precision;
  }
  std::vector<LayerPrecision> layer_overrides() const override { return layers_; }

 private:
  bool started(const Entry& e, const ScheduleContext& ctx) const {
    switch (unit_) {
      case Unit::Epoch:
        return ctx.iteration >= e.start * ctx.iterations_per_epoch;
      case Unit::Iteration:
        return ctx.iteration >= e.start;
      case Unit::Fraction:
        return static_cast<double>(ctx.iteration) >=
               e.fraction * static_cast<double>(ctx.total_iterations);
    }
    return false;
  }

  std::string path_;
  Unit unit_;
  std::vector<Entry> entries_;
  std::vector<LayerPrecision> layers_;
};

[[noreturn]] void file_error(const std::string& path, const std::string& where,
                             const std::string& what) {
  throw InputError(fmt::format("{}: {}: {}", path, where, what));
}

std::string scalar(const YAML::Node& n, const std::string& path, const std::string& where) {
  if (!n.IsScalar()) file_error(path, where, "must be a number or a format name");
  return n.Scalar();
}

// {fw, bw} or {W, A, E, G[, Opt]}.
PrecisionSet parse_precision(const YAML::Node& n, const std::string& path, const std::string& where,
                             bool allow_start_keys) {
  if (!n.IsMap()) file_error(path, where, "must be a map with fw and bw, or W, A, E and G");
  bool has_fw_bw = false, has_roles = false;
  for (const auto& kv : n) {
    std::string key = kv.first.Scalar();
    if (key == "fw" || key == "bw") {
      has_fw_bw = true;
    } else if (key == "W" || key == "A" || key == "E" || key == "G" || key == "Opt") {
      has_roles = true;
    } else if (!(allow_start_keys &&
                 (key == kUnitKeys[0] || key == kUnitKeys[1] || key == kUnitKeys[2]))) {
      file_error(path, where + "." + key,
                 "unknown key; allowed: fw, bw, or W, A, E, G, Opt" +
                     std::string(allow_start_keys
                                     ? ", and one of from_epoch, from_iteration, from_fraction"
                                     : ""));
    }
  }
  if (has_fw_bw && has_roles) file_error(path, where, "give either fw and bw, or W, A, E and G");
  auto fmt_of = [&](const char* key) {
    std::string w = where + "." + key;
    if (!n[key]) file_error(path, where, fmt::format("missing {}", key));
    return parse_format(scalar(n[key], path, w), path + ": " + w);
  };
  if (has_fw_bw) return PrecisionSet::fw_bw(fmt_of("fw"), fmt_of("bw"));
  if (!has_roles) file_error(path, where, "no precision: give fw and bw, or W, A, E and G");
  PrecisionSet p;
  p[Role::W] = fmt_of("W");
  p[Role::A] = fmt_of("A");
  p[Role::E] = fmt_of("E");
  p[Role::G] = fmt_of("G");
  if (n["Opt"]) p[Role::Opt] = fmt_of("Opt");
  return p;
}

}  // namespace

std::unique_ptr<Schedule> make_file(const SpecParts& parts) {
  const std::string& path = parts.body;
  if (path.empty()) spec_error(parts.spec, "no path given", kForm);
  {
    std::ifstream in(path);
    if (!in)
      spec_error(parts.spec, fmt::format("cannot read '{}': {}", path, std::strerror(errno)),
                 kForm);
  }
  const std::string contents = read_input_file(path);
  YAML::Node root;
  try {
    root = YAML::Load(contents);
  } catch (const YAML::Exception& e) {
    throw InputError(fmt::format("{}:{}:{}: {}", path, e.mark.line + 1, e.mark.column + 1, e.msg));
  }

  // yaml-cpp nodes are references: reset() rebinds, `=` would overwrite `root`.
  YAML::Node list(root);
  YAML::Node layers;
  bool has_layers = false;
  if (root.IsMap()) {
    for (const auto& kv : root) {
      std::string key = kv.first.Scalar();
      if (key != "segments" && key != "layers")
        file_error(path, key, "unknown key; allowed: segments, layers");
    }
    const YAML::Node& croot = root;
    // A missing key is an invalid node, which reset() refuses: use a null node.
    list.reset(croot["segments"].IsDefined() ? croot["segments"] : YAML::Node());
    has_layers = static_cast<bool>(croot["layers"]);
    if (has_layers) layers.reset(croot["layers"]);
  }
  if (!list || !list.IsSequence() || list.size() == 0)
    file_error(path, "segments",
               "must be a non-empty list of {from_epoch | from_iteration | "
               "from_fraction, fw, bw} entries");

  std::vector<Entry> entries;
  Unit unit = Unit::Epoch;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const YAML::Node& n = list[i];
    std::string where = fmt::format("segments[{}]", i);
    Entry e;
    e.precision = parse_precision(n, path, where, true);
    int found = -1;
    for (int u = 0; u < 3; ++u) {
      if (!n[std::string(kUnitKeys[u])]) continue;
      if (found >= 0)
        file_error(path, where,
                   fmt::format("both {} and {}: give one", kUnitKeys[found], kUnitKeys[u]));
      found = u;
    }
    if (found < 0)
      file_error(path, where,
                 "missing its start: one of from_epoch, from_iteration, "
                 "from_fraction");
    if (i == 0) unit = static_cast<Unit>(found);
    std::string key = std::string(kUnitKeys[found]);
    std::string wk = where + "." + key;
    if (static_cast<Unit>(found) != unit)
      file_error(path, wk,
                 fmt::format("every entry must use the same start key as the first "
                             "({})",
                             kUnitKeys[static_cast<int>(unit)]));
    std::string text = scalar(n[key], path, wk);
    try {
      if (unit == Unit::Fraction) {
        e.fraction = n[key].as<double>();
        if (!(e.fraction >= 0.0 && e.fraction < 1.0))
          file_error(path, wk, fmt::format("{} is outside [0, 1)", text));
      } else {
        e.start = n[key].as<std::int64_t>();
        if (e.start < 0) file_error(path, wk, fmt::format("{} must be >= 0", text));
      }
    } catch (const YAML::Exception&) {
      file_error(
          path, wk,
          fmt::format("'{}' is not a{}", text, unit == Unit::Fraction ? " number" : "n integer"));
    }
    if (i == 0 && (e.start != 0 || e.fraction != 0.0))
      file_error(path, wk, fmt::format("{}: the first entry must start at 0", text));
    if (i > 0) {
      const Entry& prev = entries.back();
      bool increasing = unit == Unit::Fraction ? e.fraction > prev.fraction : e.start > prev.start;
      if (!increasing)
        file_error(path, wk,
                   fmt::format("{} does not come after the previous entry's start", text));
    }
    entries.push_back(e);
  }

  std::vector<LayerPrecision> overrides;
  if (has_layers) {
    if (!layers.IsMap()) file_error(path, "layers", "must be a map from layer name to precision");
    for (const auto& kv : layers) {
      std::string name = kv.first.Scalar();
      overrides.push_back({name, parse_precision(kv.second, path, "layers." + name, false)});
    }
  }
  return std::make_unique<FileSchedule>(path, unit, std::move(entries), std::move(overrides));
}

}  // namespace lpsim::schedule_impl
