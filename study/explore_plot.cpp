// The Pareto plot of `lpsim explore --report DIR` (gnuplot, SVG).
#include "study/explore_plot.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include "core/atomic_file.h"
#include "core/error.h"

namespace lpsim::explore {

namespace fs = std::filesystem;

namespace {

// gnuplot string literal: single quotes, a quote doubled.
std::string gp_quote(const std::string& s) {
  std::string out = "'";
  for (char ch : s) out += ch == '\'' ? std::string("''") : std::string(1, ch);
  return out + "'";
}

// Runs `gnuplot pareto.gp` in `dir`; "" on success, else why not.
std::string run_gnuplot(const std::string& dir) {
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) return fmt::format("fork: {}", std::strerror(errno));
  if (pid == 0) {
    if (::chdir(dir.c_str()) != 0) ::_exit(126);
    const int null = ::open("/dev/null", O_WRONLY);
    if (null >= 0) ::dup2(null, 1);
    ::execlp("gnuplot", "gnuplot", "pareto.gp", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return "";
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
    return "gnuplot not found (Debian: gnuplot-nox); run `gnuplot pareto.gp` in the report "
           "directory to draw pareto.svg";
  return "gnuplot failed; run `gnuplot pareto.gp` in the report directory to see why";
}

}  // namespace

nlohmann::json write_pareto_plot(const std::string& dir, const std::string& title,
                                 const std::vector<std::string>& series,
                                 const std::vector<PlotPoint>& points,
                                 const std::string& pareto_csv) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir, ec))
    throw InputError(fmt::format("--report {}: cannot create the directory", dir));
  const fs::path d(dir);
  write_file_atomic((d / "pareto.csv").string(), pareto_csv);

  std::string script = fmt::format(
      "# lpsim explore: Pareto front, energy against latency (run in this directory).\n"
      "set terminal svg size 900,620 dynamic font 'sans,13'\n"
      "set output 'pareto.svg'\n"
      "set title {}\n"
      "set xlabel 'latency of the training run (s)'\n"
      "set ylabel 'energy of the training run (J)'\n"
      "set termoption noenhanced\n"
      "set logscale xy\n"
      "set grid\n"
      "set key top left opaque box\n",
      gp_quote(title));
  std::vector<std::string> plots;
  for (std::size_t k = 0; k < series.size(); ++k) {
    std::vector<PlotPoint> all, front;
    for (const auto& p : points)
      if (p.series == k) (p.pareto ? front : all).push_back(p);
    std::sort(front.begin(), front.end(), [](const PlotPoint& a, const PlotPoint& b) {
      return std::tie(a.latency_s, a.energy_j) < std::tie(b.latency_s, b.energy_j);
    });
    auto dat = [](const std::vector<PlotPoint>& ps) {
      std::string s = "# latency_s energy_j\n";
      for (const auto& p : ps) s += fmt::format("{} {}\n", p.latency_s, p.energy_j);
      return s;
    };
    const std::string all_name = fmt::format("series{}_all.dat", k);
    const std::string front_name = fmt::format("series{}_front.dat", k);
    write_file_atomic((d / all_name).string(), dat(all));
    write_file_atomic((d / front_name).string(), dat(front));
    const int color = int(k % 8) + 1;
    if (!all.empty())
      plots.push_back(fmt::format("{} using 1:2 with points pt 6 ps 0.6 lc {} notitle",
                                  gp_quote(all_name), color));
    // Points, not a line: over three objectives the front need not be monotone here.
    plots.push_back(fmt::format("{} using 1:2 with points pt 7 ps 1.1 lc {} title {}",
                                gp_quote(front_name), color,
                                gp_quote(series[k] + " (Pareto front)")));
  }
  script += "plot ";
  for (std::size_t i = 0; i < plots.size(); ++i) script += (i ? ", \\\n     " : "") + plots[i];
  script += "\n";
  write_file_atomic((d / "pareto.gp").string(), script);

  nlohmann::json j = {{"dir", dir},
                      {"csv", (d / "pareto.csv").string()},
                      {"script", (d / "pareto.gp").string()}};
  const std::string why = run_gnuplot(dir);
  if (why.empty())
    j["svg"] = (d / "pareto.svg").string();
  else
    j["note"] = why;
  return j;
}

}  // namespace lpsim::explore
