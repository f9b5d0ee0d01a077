// `lpsim explore`: evaluate the points of a design space on training traces,
// in a pool of worker processes (or MPI ranks), appending one CSV row per
// (point, trace) as it is done; at the end the file is rewritten sorted with
// the Pareto-optimal rows marked. docs/explore.md.
#pragma once

#include "sim/replay.h"

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "study/explore_space.h"
#include "study/format.h"

namespace lpsim::explore {

struct ExploreOptions {
  std::string space_path;
  std::vector<std::string> traces;  // as given; the CSV's trace column
  std::string output;               // results CSV
  int jobs = 1;                     // worker processes (fork); ignored under MPI
  Sampling sampling = Sampling::All;
  std::int64_t samples = 0;
  std::uint64_t seed = 1;
  bool resume = false;
  std::string report_dir;  // "" = no plot
  bool mpi = false;        // ranks of MPI_COMM_WORLD share the points (lpsim-mpi only)
  bool progress = true;    // a progress line on stderr now and then
  Timing timing = Timing::SystemC;  // how each point's cycles are found (sim/replay.h)
};

struct ExploreResult {
  int exit_code = 0;  // 0, or 128 + signal when a signal stopped the sweep
  bool writer = true;  // false on MPI ranks other than 0 (they print nothing)
  nlohmann::json summary;  // {"space", "output", "points", "rows", ...}: docs/explore.md
};

ExploreResult run_explore(const ExploreOptions& options);

// Whether this binary was built with MPI (the lpsim-mpi executable).
bool mpi_built();

// CSV fields (study/format.h).
using study::csv_field;
using study::csv_split;

}  // namespace lpsim::explore
