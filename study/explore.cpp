// `lpsim explore`: points x traces -> CSV rows, in worker processes or MPI
// ranks (SystemC runs one kernel per process, docs/explore.md says why),
// appended whole as they finish, resumable, finally sorted with the Pareto
// front marked.
#include "study/explore.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#ifdef LPSIM_WITH_MPI
#include <mpi.h>
#endif

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/input_file.h"
#include "sim/energy_model.h"
#include "sim/pe.h"
#include "sim/replay.h"
#include "study/explore_pareto.h"
#include "study/explore_plot.h"
#include "traces/bitops.h"

namespace lpsim::explore {

namespace fs = std::filesystem;

// ---- CSV -------------------------------------------------------------------

bool mpi_built() {
#ifdef LPSIM_WITH_MPI
  return true;
#else
  return false;
#endif
}

namespace {

using Clock = std::chrono::steady_clock;

std::string num(double v) { return fmt::format("{}", v); }

struct LoadedTrace {
  std::string arg;  // as given on the command line
  Trace trace;
  Graph graph;
};

// The columns of the results file. Component energies follow the base
// architecture's energy-model components (sim/energy_model.h).
struct Layout {
  std::vector<std::string> columns;
  std::vector<std::string> components;  // as SimReport names them
  std::size_t trace_col = 0, feasible_col = 0;
  std::map<std::string, std::size_t> index;

  std::string header() const {
    std::string out;
    for (const auto& c : columns) out += (out.empty() ? "" : ",") + csv_field(c);
    return out;
  }
  std::size_t at(const std::string& name) const { return index.at(name); }
};

EnergyModel energy_model(const ArchConfig& arch, const EnergyTable& table);

Layout make_layout(const DesignSpace& space, const ArchConfig& base) {
  Layout l;
  l.columns.push_back("point");
  for (const auto& a : space.axes) l.columns.push_back(a.key);
  l.trace_col = l.columns.size();
  for (const char* c :
       {"trace", "schedule", "energy_j", "latency_s", "edp_js", "power_w", "area_mm2", "gbitops",
        "macs", "cycles", "utilization", "compute_share", "dram_bits", "sram_bits"})
    l.columns.push_back(c);
  l.components = energy_model(base, energy_table_for(base)).components;
  for (const auto& c : l.components) {
    std::string name = c;
    std::replace(name.begin(), name.end(), ':', '_');
    l.columns.push_back("energy_" + name + "_j");
  }
  l.feasible_col = l.columns.size();
  l.columns.push_back("feasible");
  l.columns.push_back("pareto");
  for (std::size_t i = 0; i < l.columns.size(); ++i) l.index[l.columns[i]] = i;
  return l;
}

// The energy model of a design point: its components (mac, sram:<buffer>...,
// dram, vector, leakage) and the area leakage is charged on.
EnergyModel energy_model(const ArchConfig& arch, const EnergyTable& table) {
  return make_energy_model(arch, table, *make_pe(arch.pe, table));
}

// PE area x PEs + SRAM bit-cell area, as the simulator charges leakage on.
double area_mm2(const ArchConfig& arch, const EnergyTable& table) {
  const EnergyModel m = energy_model(arch, table);
  return m.pe_area_mm2 + m.sram_area_mm2;
}

struct Context {
  const ExploreOptions& options;
  DesignSpace space;
  std::vector<LoadedTrace> traces;
  Layout layout;
};

// The rows of one point, one per trace, each ending in ",\n" (the pareto
// column stays empty until the final rewrite). One cost cache per point: the
// traces share their ops (a static 8/8 run's ops are a cyclic run's 8-bit ones).
std::string evaluate(const Context& ctx, std::int64_t id, const ArchConfig& arch) {
  const EnergyTable table = energy_table_for(arch);
  const double area = area_mm2(arch, table);
  const auto coords = ctx.space.coordinates(id);
  CostCache cache;
  std::string out;
  for (const auto& t : ctx.traces) {
    const SimReport r = simulate_trace(t.trace, t.graph, arch, table, SimOptions{&cache, ctx.options.timing});
    if (r.components != ctx.layout.components)
      throw InputError(fmt::format(
          "{}: point {}: its energy components differ from the base architecture's; an axis may "
          "change buffer sizes but not add, remove or rename buffers",
          ctx.space.file, id));
    // The same expressions as sim/replay.cpp's to_json, so a row equals `lpsim simulate --json`.
    const double energy_j = r.total.energy_pj() * 1e-12;
    const double latency_s = r.total.cycles / (r.clock_ghz * 1e9);
    const double power_w = latency_s > 0 ? energy_j / latency_s : 0;
    double sram_bits = 0;
    for (std::size_t b = 0; b < r.total.sram_read_bits.size(); ++b)
      sram_bits += r.total.sram_read_bits[b] + r.total.sram_write_bits[b];
    const bool feasible = !ctx.space.max_power_w || power_w <= *ctx.space.max_power_w;
    std::vector<std::string> f;
    f.push_back(std::to_string(id));
    for (std::size_t a = 0; a < coords.size(); ++a)
      f.push_back(ctx.space.axes[a].values[coords[a]]);
    f.push_back(t.arg);
    f.push_back(t.trace.header.schedule);
    f.push_back(num(energy_j));
    f.push_back(num(latency_s));
    f.push_back(num(energy_j * latency_s));
    f.push_back(num(power_w));
    f.push_back(num(area));
    f.push_back(num(r.total.bitops * 1e-9));
    f.push_back(num(r.total.macs));
    f.push_back(num(r.total.cycles));
    f.push_back(num(r.total.utilization()));
    f.push_back(num(r.total.cycles > 0 ? r.total.compute_bound_cycles / r.total.cycles : 0.0));
    f.push_back(num(r.total.dram_read_bits + r.total.dram_write_bits));
    f.push_back(num(sram_bits));
    for (std::size_t c = 0; c < r.components.size(); ++c)
      f.push_back(num(r.total.energy_pj_by_component.at(c) * 1e-12));
    f.push_back(feasible ? "1" : "0");
    for (const auto& field : f) out += csv_field(field) + ",";
    out += "\n";  // the empty pareto field
  }
  return out;
}

// ---- the results file ------------------------------------------------------

struct Row {
  std::int64_t point = 0;
  std::size_t trace = 0;  // index into the --trace list
  std::string text;       // the line without its pareto field and newline, ending in ','
  std::string pareto;     // the pareto field as read ("" while a sweep runs, else 0 / 1)
};

// Parses and checks one line of a results file against this sweep.
Row parse_row(const Context& ctx, const std::string& line, std::size_t line_no,
              const std::set<std::int64_t>& universe) {
  const std::string where = fmt::format("{}:{}", ctx.options.output, line_no);
  const auto f = csv_split(line);
  const auto& cols = ctx.layout.columns;
  if (f.size() != cols.size())
    throw InputError(
        fmt::format("{}: {} fields, expected {}: not a row of this sweep; delete "
                    "the file or write to another -o",
                    where, f.size(), cols.size()));
  Row r;
  try {
    std::size_t used = 0;
    r.point = std::stoll(f[0], &used);
    if (used != f[0].size()) throw std::invalid_argument("trailing");
  } catch (const std::exception&) {
    throw InputError(fmt::format("{}: point = {}: must be a point id", where, f[0]));
  }
  if (!universe.count(r.point))
    throw InputError(fmt::format(
        "{}: point = {}: not a point of this sweep (space, --samples, --seed or constraints "
        "changed?); delete the file or write to another -o",
        where, r.point));
  const auto coords = ctx.space.coordinates(r.point);
  for (std::size_t a = 0; a < coords.size(); ++a)
    if (f[1 + a] != ctx.space.axes[a].values[coords[a]])
      throw InputError(fmt::format(
          "{}: {} = {}: point {} has {} = {} in {} (the space changed?); delete the file or write "
          "to another -o",
          where, cols[1 + a], f[1 + a], r.point, cols[1 + a], ctx.space.axes[a].values[coords[a]],
          ctx.space.file));
  const std::string& trace = f[ctx.layout.trace_col];
  auto it = std::find_if(ctx.traces.begin(), ctx.traces.end(),
                         [&](const LoadedTrace& t) { return t.arg == trace; });
  if (it == ctx.traces.end())
    throw InputError(
        fmt::format("{}: trace = {}: not one of this sweep's --trace files", where, trace));
  r.trace = std::size_t(it - ctx.traces.begin());
  const auto comma = line.rfind(',');
  r.text = line.substr(0, comma + 1);
  r.pareto = line.substr(comma + 1);
  if (r.pareto != "" && r.pareto != "0" && r.pareto != "1")
    throw InputError(fmt::format("{}: pareto = {}: must be empty, 0 or 1", where, r.pareto));
  return r;
}

std::string read_all(const std::string& path) { return read_input_file(path); }

// The rows of an existing results file (for --resume). Rows are appended a
// whole point at a time, so a point with rows for only some traces, or a
// partial last line, can only come from a kill mid-write: those are dropped
// (the file rewritten whole without them) and the point is redone.
std::vector<Row> resume_rows(const Context& ctx, const std::set<std::int64_t>& universe,
                             bool& fresh) {
  const std::string& path = ctx.options.output;
  std::error_code ec;
  fresh = true;
  if (!fs::exists(path, ec)) return {};
  if (!fs::is_regular_file(path, ec)) throw InputError(fmt::format("{}: not a regular file", path));
  const std::string text = read_all(path);
  const std::string header = ctx.layout.header();
  const auto first_nl = text.find('\n');
  if (first_nl == std::string::npos) {
    if (header.rfind(text, 0) == 0) return {};  // killed while writing the header
    throw InputError(fmt::format("{}: not a results file of lpsim explore (no header line)", path));
  }
  if (text.substr(0, first_nl) != header)
    throw InputError(fmt::format(
        "{}:1: header differs from this sweep's ({} columns: {}...): another space or other "
        "traces; delete the file or write to another -o",
        path, ctx.layout.columns.size(), header.substr(0, 60)));
  fresh = false;
  std::vector<Row> rows;
  std::set<std::pair<std::int64_t, std::size_t>> seen;
  std::map<std::int64_t, std::size_t> per_point;
  std::size_t pos = first_nl + 1, line_no = 2, end = pos;
  for (auto nl = text.find('\n', pos); nl != std::string::npos;
       pos = nl + 1, nl = text.find('\n', pos), ++line_no) {
    Row r = parse_row(ctx, text.substr(pos, nl - pos), line_no, universe);
    if (!seen.insert({r.point, r.trace}).second)
      throw InputError(fmt::format("{}:{}: point {} on trace {} appears twice", path, line_no,
                                   r.point, ctx.traces[r.trace].arg));
    ++per_point[r.point];
    rows.push_back(std::move(r));
    end = nl + 1;
  }
  std::vector<Row> kept;
  for (auto& r : rows)
    if (per_point[r.point] == ctx.traces.size()) kept.push_back(std::move(r));
  if (kept.size() != rows.size() || end != text.size()) {
    std::string whole = header + "\n";
    for (const Row& r : kept) whole += r.text + (r.pareto.empty() ? "" : r.pareto) + "\n";
    write_file_atomic(path, whole);
  }
  return kept;
}

// Appends whole rows with write(2); fdatasync at most once a second (a killed
// process loses nothing written; the sync guards against a crashed machine).
class Appender {
 public:
  Appender(const std::string& path, const std::string& header_or_empty) : path_(path) {
    const int flags =
        O_WRONLY | O_CREAT | O_CLOEXEC | (header_or_empty.empty() ? O_APPEND : O_TRUNC);
    fd_ = ::open(path.c_str(), flags, 0644);
    if (fd_ < 0)
      throw InputError(fmt::format("{}: cannot open for writing: {}", path, std::strerror(errno)));
    if (!header_or_empty.empty()) {
      append(header_or_empty + "\n");
      ::close(fd_);
      fd_ = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
      if (fd_ < 0)
        throw InputError(
            fmt::format("{}: cannot open for writing: {}", path, std::strerror(errno)));
    }
  }
  ~Appender() {
    if (fd_ >= 0) {
      ::fdatasync(fd_);
      ::close(fd_);
    }
  }
  Appender(const Appender&) = delete;
  Appender& operator=(const Appender&) = delete;

  void append(const std::string& text) {
    write_all(fd_, text, path_);
    if (Clock::now() - last_sync_ > std::chrono::seconds(1)) sync();
  }
  void sync() {
    ::fdatasync(fd_);
    last_sync_ = Clock::now();
  }

 private:
  std::string path_;
  int fd_ = -1;
  Clock::time_point last_sync_ = Clock::now();
};

// Sorted by (point, trace), the pareto column recomputed per trace over the
// space's objectives among feasible rows; written whole (rename).
std::vector<Row> finalize(const Context& ctx, std::size_t expected_rows,
                          const std::string& final_output) {
  const std::string text = read_all(ctx.options.output);
  std::vector<Row> rows;
  std::size_t pos = text.find('\n') + 1, line_no = 2;
  std::map<std::string, std::size_t> trace_index;
  for (std::size_t t = 0; t < ctx.traces.size(); ++t) trace_index[ctx.traces[t].arg] = t;
  for (auto nl = text.find('\n', pos); nl != std::string::npos;
       pos = nl + 1, nl = text.find('\n', pos), ++line_no) {
    const std::string line = text.substr(pos, nl - pos);
    const auto f = csv_split(line);
    if (f.size() != ctx.layout.columns.size())
      throw InternalError(
          fmt::format("{}:{}: row changed under the sweep", ctx.options.output, line_no));
    Row r;
    r.point = std::stoll(f[0]);
    r.trace = trace_index.at(f[ctx.layout.trace_col]);
    r.text = line.substr(0, line.rfind(',') + 1);
    rows.push_back(std::move(r));
  }
  if (rows.size() != expected_rows)
    throw InternalError(
        fmt::format("{}: {} rows, expected {}", ctx.options.output, rows.size(), expected_rows));
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    return std::tie(a.point, a.trace) < std::tie(b.point, b.trace);
  });
  std::vector<std::size_t> objective_cols;
  for (Objective o : ctx.space.objectives) {
    static const char* kColumn[] = {"energy_j", "latency_s", "edp_js", "area_mm2", "power_w"};
    objective_cols.push_back(ctx.layout.at(kColumn[static_cast<int>(o)]));
  }
  std::vector<bool> pareto(rows.size(), false);
  for (std::size_t t = 0; t < ctx.traces.size(); ++t) {
    std::vector<std::size_t> which;
    std::vector<std::vector<double>> values;
    std::vector<bool> eligible;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (rows[i].trace != t) continue;
      const auto f = csv_split(rows[i].text);
      std::vector<double> v;
      for (std::size_t c : objective_cols) v.push_back(std::stod(f[c]));
      which.push_back(i);
      values.push_back(std::move(v));
      eligible.push_back(f[ctx.layout.feasible_col] == "1");
    }
    const auto mask = pareto_mask(values, eligible);
    for (std::size_t k = 0; k < which.size(); ++k) pareto[which[k]] = mask[k];
  }
  std::string out = ctx.layout.header() + "\n";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    rows[i].text += pareto[i] ? "1" : "0";
    out += rows[i].text + "\n";
  }
  write_file_atomic(final_output, out);
  return rows;
}

// One sweep per results file: a second `explore -o F` while the first runs
// would interleave its rows with the first's. An flock on ".F.lock" beside F
// (the file stays; the lock goes with the process, even on SIGKILL).
class OutputLock {
 public:
  OutputLock(const std::string& file, const std::string& shown) {
    const fs::path f(file);
    const fs::path lock = (f.has_parent_path() ? f.parent_path() : fs::path(".")) /
                          ("." + f.filename().string() + ".lock");
    fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0)
      throw InputError(fmt::format("{}: cannot create the lock file {}: {}", shown, lock.string(),
                                   std::strerror(errno)));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd_);
      throw InputError(fmt::format(
          "{}: another lpsim explore is writing this results file (it holds {}): wait for it "
          "to finish, or give another -o",
          shown, lock.string()));
    }
  }
  ~OutputLock() { ::close(fd_); }
  OutputLock(const OutputLock&) = delete;
  OutputLock& operator=(const OutputLock&) = delete;

 private:
  int fd_ = -1;
};

// Rows of a sweep whose -o is a stream (-, a FIFO, a device) collect in a
// temporary file, removed at the end; the stream gets the finished CSV.
class WorkFile {
 public:
  WorkFile() {
    const char* tmp = std::getenv("TMPDIR");
    path_ = std::string(tmp && *tmp ? tmp : "/tmp") + "/lpsim-explore-XXXXXX";
    const int fd = ::mkstemp(path_.data());
    if (fd < 0)
      throw InputError(fmt::format("{}: cannot create a temporary results file: {}", path_,
                                   std::strerror(errno)));
    ::close(fd);
  }
  ~WorkFile() { ::unlink(path_.c_str()); }
  WorkFile(const WorkFile&) = delete;
  WorkFile& operator=(const WorkFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// ---- local parallelism: a pool of forked worker processes ------------------

volatile std::sig_atomic_t g_signal = 0;
extern "C" void on_signal(int sig) { g_signal = sig; }

// Installs the stop handlers for the sweep and restores the old ones after.
class SignalScope {
 public:
  SignalScope() {
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: poll returns EINTR
    for (std::size_t i = 0; i < kSignals.size(); ++i) ::sigaction(kSignals[i], &sa, &old_[i]);
    g_signal = 0;
  }
  ~SignalScope() {
    for (std::size_t i = 0; i < kSignals.size(); ++i) ::sigaction(kSignals[i], &old_[i], nullptr);
  }
  SignalScope(const SignalScope&) = delete;
  SignalScope& operator=(const SignalScope&) = delete;
  static constexpr std::array<int, 3> kSignals = {SIGTERM, SIGINT, SIGHUP};

 private:
  std::array<struct sigaction, 3> old_{};
};

void write_all_or_die(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::_exit(3);  // the parent is gone
    }
    done += std::size_t(n);
  }
}

// The child's whole life: evaluate points share, share + jobs, ... of `todo`
// and send "R<row>" lines, "P" after each point's rows (or one "E<message>" /
// "I<message>" line) up the pipe.
[[noreturn]] void worker_main(const Context& ctx, const std::vector<std::int64_t>& todo,
                              const std::map<std::int64_t, ArchConfig>& archs, std::size_t share,
                              std::size_t jobs, int fd, pid_t parent) {
  for (int s : SignalScope::kSignals) ::signal(s, SIG_DFL);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // a SIGKILLed parent takes its workers along
  if (::getppid() != parent) ::_exit(3);
  try {
    for (std::size_t i = share; i < todo.size(); i += jobs) {
      const std::string rows = evaluate(ctx, todo[i], archs.at(todo[i]));
      std::string msg;
      for (std::size_t p = 0, nl; (nl = rows.find('\n', p)) != std::string::npos; p = nl + 1)
        msg += "R" + rows.substr(p, nl - p + 1);
      write_all_or_die(fd, msg + "P\n");
    }
  } catch (const InputError& e) {
    write_all_or_die(fd, std::string("E") + e.what() + "\n");
    ::_exit(2);
  } catch (const std::exception& e) {
    write_all_or_die(fd, std::string("I") + e.what() + "\n");
    ::_exit(1);
  }
  ::_exit(0);
}

struct Worker {
  pid_t pid = -1;
  int fd = -1;
  std::string pending;     // bytes read, not yet a whole line
  std::string point_rows;  // rows of the point being received
};

void stop_workers(std::vector<Worker>& workers) {
  for (auto& w : workers)
    if (w.pid > 0) ::kill(w.pid, SIGTERM);
  for (auto& w : workers) {
    if (w.fd >= 0) ::close(w.fd);
    if (w.pid > 0) ::waitpid(w.pid, nullptr, 0);
    w.fd = -1;
    w.pid = -1;
  }
}

// Runs the pool; returns 0, or the signal that stopped it.
int run_pool(const Context& ctx, const std::vector<std::int64_t>& todo,
             const std::map<std::int64_t, ArchConfig>& archs, Appender& out, std::size_t total_rows,
             std::size_t done_rows) {
  const std::size_t jobs = std::min<std::size_t>(std::size_t(ctx.options.jobs), todo.size());
  std::vector<Worker> workers(jobs);
  std::cout.flush();
  std::fflush(nullptr);
  const pid_t self = ::getpid();
  for (std::size_t w = 0; w < jobs; ++w) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
      stop_workers(workers);
      throw InternalError(fmt::format("pipe: {}", std::strerror(errno)));
    }
    const pid_t pid = ::fork();
    if (pid < 0) {
      ::close(fds[0]);
      ::close(fds[1]);
      stop_workers(workers);
      throw InternalError(fmt::format("fork: {}", std::strerror(errno)));
    }
    if (pid == 0) {
      ::close(fds[0]);
      for (std::size_t v = 0; v < w; ++v) ::close(workers[v].fd);
      worker_main(ctx, todo, archs, w, jobs, fds[1], self);
    }
    ::close(fds[1]);
    workers[w] = {pid, fds[0], {}, {}};
  }

  std::string failure;  // "E..." / "I..." from a worker
  auto last_progress = Clock::now();
  const bool show_progress = ctx.options.progress && ::isatty(2);
  std::size_t open = jobs;
  while (open > 0 && failure.empty() && g_signal == 0) {
    std::vector<pollfd> pfds;
    std::vector<std::size_t> which;
    for (std::size_t w = 0; w < jobs; ++w)
      if (workers[w].fd >= 0) {
        pfds.push_back({workers[w].fd, POLLIN, 0});
        which.push_back(w);
      }
    const int n = ::poll(pfds.data(), pfds.size(), 250);
    if (n < 0 && errno != EINTR) {
      stop_workers(workers);
      throw InternalError(fmt::format("poll: {}", std::strerror(errno)));
    }
    for (std::size_t k = 0; n > 0 && k < pfds.size(); ++k) {
      if (!(pfds[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      Worker& w = workers[which[k]];
      char buf[65536];
      const ssize_t got = ::read(w.fd, buf, sizeof buf);
      if (got < 0 && errno == EINTR) continue;
      if (got > 0) {
        w.pending.append(buf, std::size_t(got));
        std::string rows;
        std::size_t p = 0;
        for (std::size_t nl; (nl = w.pending.find('\n', p)) != std::string::npos; p = nl + 1) {
          if (w.pending[p] == 'R') {
            w.point_rows.append(w.pending, p + 1, nl - p);
            ++done_rows;
          } else if (w.pending[p] == 'P') {
            rows += w.point_rows;
            w.point_rows.clear();
          } else {
            failure = w.pending.substr(p, nl - p);
          }
        }
        w.pending.erase(0, p);
        if (!rows.empty()) out.append(rows);  // whole points only, one write
        continue;
      }
      // EOF: the worker is done (or died).
      ::close(w.fd);
      w.fd = -1;
      --open;
      int status = 0;
      const pid_t pid = w.pid;
      ::waitpid(pid, &status, 0);
      w.pid = -1;
      if (failure.empty() && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
        failure = fmt::format(
            "Iexplore: worker process {} (pid {}) {}; the rows of the points finished so far "
            "are in {}: rerun with --resume to finish",
            which[k], pid,
            WIFSIGNALED(status)
                ? fmt::format("was killed by signal {} ({})", WTERMSIG(status),
                              ::strsignal(WTERMSIG(status)))
                : fmt::format("exited with status {}", WEXITSTATUS(status)),
            ctx.options.output);
    }
    if (show_progress && Clock::now() - last_progress > std::chrono::seconds(2)) {
      std::fprintf(stderr, "\rexplore: %zu/%zu rows", done_rows, total_rows);
      last_progress = Clock::now();
    }
  }
  if (show_progress) std::fprintf(stderr, "\r");
  out.sync();
  if (!failure.empty() || g_signal != 0) {
    stop_workers(workers);
    if (!failure.empty() && failure[0] == 'E') throw InputError(failure.substr(1));
    if (!failure.empty()) throw InternalError(failure.substr(1));
    return g_signal;
  }
  return 0;
}

// ---- MPI: ranks share the points, rank 0 writes ----------------------------

#ifdef LPSIM_WITH_MPI
constexpr int kTagRows = 1, kTagDone = 2, kTagError = 3;

struct MpiSession {
  int rank = 0, size = 1;
  MpiSession() {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (!initialized) MPI_Init(nullptr, nullptr);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
  }
  ~MpiSession() {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Finalize();
  }
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;
  // An error on any rank ends every rank: printed once, here, then abort.
  [[noreturn]] static void abort(const std::string& message, int code) {
    std::fprintf(stderr, "lpsim: %s\n", message.c_str());
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, code);
    std::_Exit(code);
  }
};

void send_string(const std::string& s, int tag) {
  MPI_Send(s.data(), int(s.size()), MPI_CHAR, 0, tag, MPI_COMM_WORLD);
}

// Rank 0: receive one message if `block` or one is waiting; appends rows.
// Returns false if nothing was received.
bool receive_one(Appender& out, int& done_ranks, bool block) {
  MPI_Status st;
  if (!block) {
    int flag = 0;
    MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st);
    if (!flag) return false;
  } else {
    MPI_Probe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &st);
  }
  int count = 0;
  MPI_Get_count(&st, MPI_CHAR, &count);
  std::string buf(std::size_t(count), '\0');
  MPI_Recv(buf.data(), count, MPI_CHAR, st.MPI_SOURCE, st.MPI_TAG, MPI_COMM_WORLD,
           MPI_STATUS_IGNORE);
  if (st.MPI_TAG == kTagRows) out.append(buf);
  if (st.MPI_TAG == kTagDone) ++done_ranks;
  if (st.MPI_TAG == kTagError) MpiSession::abort(buf, 2);
  return true;
}
#endif

// ---- the report ------------------------------------------------------------

nlohmann::json row_json(const Context& ctx, const Row& row) {
  const auto f = csv_split(row.text);
  nlohmann::json j;
  j["point"] = row.point;
  nlohmann::json axes = nlohmann::json::object();
  for (std::size_t a = 0; a < ctx.space.axes.size(); ++a) axes[ctx.space.axes[a].key] = f[1 + a];
  j["axes"] = axes;
  j["trace"] = ctx.traces[row.trace].arg;
  j["schedule"] = ctx.traces[row.trace].trace.header.schedule;
  for (const char* c :
       {"energy_j", "latency_s", "edp_js", "power_w", "area_mm2", "gbitops", "utilization"})
    j[c] = std::stod(f[ctx.layout.at(c)]);
  return j;
}

}  // namespace

ExploreResult run_explore(const ExploreOptions& options) {
  const auto start = Clock::now();
  ExploreResult result;
#ifdef LPSIM_WITH_MPI
  std::unique_ptr<MpiSession> mpi;
  if (options.mpi) mpi = std::make_unique<MpiSession>();
  const int rank = mpi ? mpi->rank : 0, ranks = mpi ? mpi->size : 1;
#else
  if (options.mpi)
    throw InputError("--mpi: this lpsim was built without MPI; build lpsim-mpi (libopenmpi-dev)");
  const int rank = 0, ranks = 1;
#endif
  result.writer = rank == 0;

  if (options.traces.empty()) throw InputError("explore: give at least one --trace file");
  if (options.output.empty()) throw InputError("explore: give the results file with -o");
  if (options.jobs < 1) throw InputError(fmt::format("--jobs = {}: must be >= 1", options.jobs));
  // The results file: rows are appended to it as points finish, then it is
  // rewritten whole. A stream output gets the rewrite only (WorkFile above).
  const OutputTarget target = resolve_output(options.output);
  const bool to_stream = target.kind != OutputKind::kAtomicFile;
  if (to_stream && options.resume)
    throw InputError(
        fmt::format("-o {}: --resume needs the results file of the stopped run, a regular file",
                    options.output));
  std::unique_ptr<OutputLock> lock;
  std::unique_ptr<WorkFile> work;
  ExploreOptions work_options = options;  // ctx.options: output is the work file
  Context ctx{work_options, load_space(options.space_path), {}, {}};
  for (const auto& t : options.traces) {
    if (t.find_first_of("\n\r") != std::string::npos)
      throw InputError("--trace: a path with a newline cannot name a CSV row");
    for (const auto& other : ctx.traces)
      if (other.arg == t) throw InputError(fmt::format("--trace {}: given twice", t));
    Trace trace = read_trace(t);
    Graph graph = trace_graph(trace);
    ctx.traces.push_back(LoadedTrace{t, std::move(trace), std::move(graph)});
  }
  ctx.layout = make_layout(ctx.space, load_arch(ctx.space.base_path));
  const auto selected = select_points(ctx.space, options.sampling, options.samples, options.seed);

  // Rank 0 (or the only process) decides what is left to do; the area budget
  // needs no simulation, so points over it are dropped before any.
  std::vector<std::int64_t> todo;
  std::map<std::int64_t, ArchConfig> archs;
  std::size_t over_area = 0, resumed = 0, universe_rows = 0;
  std::unique_ptr<Appender> out;
  std::string setup_error;
  if (rank == 0) {
    try {
      if (to_stream) {
        work = std::make_unique<WorkFile>();
        work_options.output = work->path();
      } else {
        lock = std::make_unique<OutputLock>(target.file, options.output);
      }
      std::set<std::int64_t> universe;
      for (std::int64_t id : selected) {
        ArchConfig a = ctx.space.arch(id);
        if (ctx.space.max_area_mm2 && area_mm2(a, energy_table_for(a)) > *ctx.space.max_area_mm2) {
          ++over_area;
          continue;
        }
        universe.insert(id);
        archs.emplace(id, std::move(a));
      }
      universe_rows = universe.size() * ctx.traces.size();
      std::set<std::int64_t> complete;
      bool fresh = true;
      if (options.resume)
        for (const Row& r : resume_rows(ctx, universe, fresh)) {
          complete.insert(r.point);
          ++resumed;
        }
      for (std::int64_t id : universe)
        if (!complete.count(id)) todo.push_back(id);
      out = std::make_unique<Appender>(ctx.options.output, fresh ? ctx.layout.header() : "");
    } catch (const InputError& e) {
      if (ranks == 1) throw;
      setup_error = e.what();
    }
  }

  int stopped_by = 0;
#ifdef LPSIM_WITH_MPI
  if (mpi) {
    // Broadcast the outcome of the setup, then the work list.
    int err_len = int(setup_error.size());
    MPI_Bcast(&err_len, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (err_len > 0) {
      if (rank == 0) MpiSession::abort(setup_error, 2);
      MPI_Barrier(MPI_COMM_WORLD);  // rank 0 aborts everyone
    }
    long long n = (long long)todo.size();
    MPI_Bcast(&n, 1, MPI_LONG_LONG, 0, MPI_COMM_WORLD);
    todo.resize(std::size_t(n));
    MPI_Bcast(todo.data(), int(n), MPI_INT64_T, 0, MPI_COMM_WORLD);
    try {
      if (rank == 0) {
        int done_ranks = 0;
        for (std::size_t i = 0; i < todo.size(); i += std::size_t(ranks)) {
          out->append(evaluate(ctx, todo[i], archs.at(todo[i])));
          while (receive_one(*out, done_ranks, false)) {
          }
        }
        while (done_ranks < ranks - 1) receive_one(*out, done_ranks, true);
      } else {
        for (std::size_t i = std::size_t(rank); i < todo.size(); i += std::size_t(ranks))
          send_string(evaluate(ctx, todo[i], ctx.space.arch(todo[i])), kTagRows);
        send_string("", kTagDone);
      }
    } catch (const std::exception& e) {
      if (rank == 0) MpiSession::abort(e.what(), dynamic_cast<const InputError*>(&e) ? 2 : 1);
      send_string(e.what(), kTagError);
      MPI_Barrier(MPI_COMM_WORLD);  // rank 0 aborts everyone
    }
  } else
#endif
  {
    SignalScope signals;
    if (!todo.empty()) stopped_by = run_pool(ctx, todo, archs, *out, universe_rows, resumed);
  }

  nlohmann::json& s = result.summary;
  if (rank == 0) {
    out.reset();
    s["space"] = ctx.space.file;
    s["timing"] = std::string(timing_name(options.timing));
    s["output"] = options.output;
    s["traces"] = options.traces;
    nlohmann::json axis_keys = nlohmann::json::array();
    for (const auto& a : ctx.space.axes) axis_keys.push_back(a.key);
    s["axes"] = axis_keys;
    s["points_in_space"] = ctx.space.size();
    s["points_selected"] = selected.size();
    s["points_over_area_budget"] = over_area;
    s["points_evaluated"] = todo.size();
    s["rows"] = universe_rows;
    s["rows_resumed"] = resumed;
    s["workers"] =
        ranks > 1 ? ranks : int(std::min<std::size_t>(std::size_t(options.jobs), todo.size()));
    s["mpi"] = ranks > 1;
    if (stopped_by != 0) {
      result.exit_code = 128 + stopped_by;
      s["stopped_by_signal"] = stopped_by;
    } else {
      const auto rows = finalize(ctx, universe_rows, options.output);
      nlohmann::json front = nlohmann::json::array();
      for (const Row& r : rows)
        if (r.text.back() == '1') front.push_back(row_json(ctx, r));
      s["pareto"] = front;
      if (!options.report_dir.empty()) {
        std::vector<std::string> names;
        for (const auto& t : ctx.traces)
          names.push_back(fmt::format("{} ({})", t.trace.header.schedule, t.arg));
        std::vector<PlotPoint> points;
        std::string csv = ctx.layout.header() + "\n";
        const std::size_t lat = ctx.layout.at("latency_s"), en = ctx.layout.at("energy_j");
        for (const Row& r : rows) {
          const auto f = csv_split(r.text);
          const bool on_front = r.text.back() == '1';
          points.push_back({r.trace, std::stod(f[lat]), std::stod(f[en]), on_front});
          if (on_front) csv += r.text + "\n";
        }
        s["report"] = write_pareto_plot(options.report_dir,
                                        fmt::format("{}: energy vs latency", ctx.space.name), names,
                                        points, csv);
      }
    }
    s["elapsed_s"] = std::chrono::duration<double>(Clock::now() - start).count();
  }
  return result;
}

}  // namespace lpsim::explore
