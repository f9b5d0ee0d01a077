// Pareto marking for `lpsim explore`: which rows no other row beats on every
// objective. Header-only so tests check it against hand-made sets.
#pragma once

#include <cstddef>
#include <vector>

namespace lpsim::explore {

// `a` dominates `b` when it is no worse on every objective (all minimised) and
// strictly better on at least one.
inline bool dominates(const std::vector<double>& a, const std::vector<double>& b) {
  bool better = false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i] > b[i]) return false;
    if (a[i] < b[i]) better = true;
  }
  return better;
}

// For each candidate (objective vectors, all minimised): true if no other
// eligible candidate dominates it. Ineligible candidates (eligible[i] false,
// e.g. over a power cap) are never optimal and never dominate. Equal vectors
// are all optimal. O(n^2 x objectives): a sweep's rows per trace are thousands.
inline std::vector<bool> pareto_mask(const std::vector<std::vector<double>>& objectives,
                                     const std::vector<bool>& eligible = {}) {
  const std::size_t n = objectives.size();
  auto ok = [&](std::size_t i) { return eligible.empty() || eligible[i]; };
  std::vector<bool> mask(n, false);
  for (std::size_t i = 0; i < n; ++i) {
    if (!ok(i)) continue;
    bool dominated = false;
    for (std::size_t j = 0; j < n && !dominated; ++j)
      dominated = j != i && ok(j) && dominates(objectives[j], objectives[i]);
    mask[i] = !dominated;
  }
  return mask;
}

}  // namespace lpsim::explore
