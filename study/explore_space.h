// Design spaces for `lpsim explore` (schema in docs/explore.md): a base
// architecture, axes of --set values, constraints and objectives; which points
// a sweep visits (every point, or a seeded random / Latin-hypercube sample).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/arch.h"

namespace lpsim::explore {

// One swept architecture key: the dotted path --set takes, and its values as
// --set value text (scalars as written, lists and mappings in YAML flow style).
struct Axis {
  std::string key;
  std::vector<std::string> values;
};

enum class Objective { Energy, Latency, Edp, Area, Power };
const char* objective_name(Objective);  // "energy" | "latency" | "edp" | "area" | "power"

struct DesignSpace {
  std::string file;       // the space file as given
  std::string name;       // `name:`, else the file's stem
  std::string base_path;  // the resolved base architecture file
  std::vector<Axis> axes;  // file order; the first axis varies slowest
  std::optional<double> max_area_mm2;
  std::optional<double> max_power_w;
  std::vector<Objective> objectives;  // default: energy, latency

  // Points in the full cartesian product (InputError past kMaxPoints).
  std::int64_t size() const;
  // Point `id` (0 <= id < size()) as one value index per axis: mixed radix,
  // the last axis varying fastest, like nested loops in file order.
  std::vector<std::size_t> coordinates(std::int64_t id) const;
  std::int64_t id_of(const std::vector<std::size_t>& coordinates) const;
  // The --set overrides of point `id`: "key=value" per axis.
  std::vector<std::string> overrides(std::int64_t id) const;
  // The architecture of point `id`, named "<base>@<id>".
  ArchConfig arch(std::int64_t id) const;
};

// Above this a space cannot be enumerated (products would overflow and no
// sweep finishes); --samples still draws from it.
inline constexpr std::int64_t kMaxPoints = std::int64_t{1} << 50;
// Above this a sweep without --samples is refused: a typo, not a plan.
inline constexpr std::int64_t kMaxEnumerated = 1'000'000;
// Values one axis may list or a range may produce.
inline constexpr std::int64_t kMaxAxisValues = 100'000;

// Reads and validates a space file: every failure is one InputError line
// "<file>: <key.path> = <value>: <allowed range>". Each axis value is tried on
// the base architecture, so a bad value names its axis here, not mid-sweep.
// `max_axis_values` bounds the values of one axis and of all axes together
// (each value is validated on the base design point; the fuzzer lowers it to
// keep one input's work short).
DesignSpace load_space(const std::string& path, std::int64_t max_axis_values = kMaxAxisValues);

enum class Sampling { All, Random, LatinHypercube };

// The point ids a sweep visits, ascending and distinct. All: every point
// (InputError past kMaxEnumerated). Random: `samples` distinct ids drawn
// uniformly with `seed` (every point if samples >= size()). LatinHypercube:
// `samples` draws, each axis cut into `samples` strata visited once each;
// draws that land on the same point count once.
std::vector<std::int64_t> select_points(const DesignSpace& space, Sampling sampling,
                                        std::int64_t samples, std::uint64_t seed);

}  // namespace lpsim::explore
