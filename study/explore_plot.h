// The Pareto plot of `lpsim explore --report DIR`: energy against latency,
// every evaluated point as a ring, each trace's (schedule's) front as dots;
// gnuplot script + data files, rendered to SVG when gnuplot is installed.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace lpsim::explore {

struct PlotPoint {
  std::size_t series = 0;  // index into the series names (one per trace)
  double latency_s = 0;
  double energy_j = 0;
  bool pareto = false;
};

// Writes DIR/pareto.csv (`pareto_csv`: the header and the Pareto rows),
// DIR/series<k>_all.dat and DIR/series<k>_front.dat, DIR/pareto.gp, and runs
// `gnuplot pareto.gp` in DIR for DIR/pareto.svg. Returns {"dir", "csv",
// "script", "svg"} ("svg" absent and "note" saying why when gnuplot is missing
// or fails). InputError when DIR cannot be written.
nlohmann::json write_pareto_plot(const std::string& dir, const std::string& title,
                                 const std::vector<std::string>& series,
                                 const std::vector<PlotPoint>& points,
                                 const std::string& pareto_csv);

}  // namespace lpsim::explore
