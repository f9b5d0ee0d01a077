// Tests of `lpsim explore`: Pareto marking, agreement with `lpsim simulate`,
// worker processes and MPI ranks agreeing with one process, kill and resume,
// sampling, and one-line errors for bad design-space files.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "support/shell.h"
#include "study/explore_pareto.h"
#include "study/explore_space.h"

namespace fs = std::filesystem;

namespace {

using Result = lpsim::test::ShellResult;

// One scratch directory per process: ctest runs test cases in parallel.
fs::path scratch() {
  fs::path d = fs::temp_directory_path() / ("lpsim_explore_test_" + std::to_string(getpid()));
  fs::create_directories(d);
  return d;
}

// Runs `<binary> <args>` through the shell, capturing stdout and stderr.
Result run_with(const std::string& binary, const std::string& args) {
  return lpsim::test::run_shell(binary + " " + args);
}

Result run(const std::string& args) { return run_with(LPSIM_BINARY, args); }

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

int lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

// Splits a CSV line written without quoted fields (the tests' spaces have
// only numeric axis values).
std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> out(1);
  for (char c : line) {
    if (c == ',')
      out.emplace_back();
    else
      out.back() += c;
  }
  return out;
}

// The rows of a results file as column -> text maps.
std::vector<std::map<std::string, std::string>> read_rows(const fs::path& csv) {
  std::ifstream in(csv);
  std::string line;
  std::getline(in, line);
  const auto header = split(line);
  std::vector<std::map<std::string, std::string>> rows;
  while (std::getline(in, line)) {
    const auto f = split(line);
    REQUIRE(f.size() == header.size());
    std::map<std::string, std::string> row;
    for (std::size_t i = 0; i < f.size(); ++i) row[header[i]] = f[i];
    rows.push_back(std::move(row));
  }
  return rows;
}

// Two small traces (ResNet-20 / CIFAR-10, one epoch), made once per process.
const std::pair<std::string, std::string>& traces() {
  static const std::pair<std::string, std::string> t = [] {
    const fs::path s = scratch() / "r20_static.lpt", c = scratch() / "r20_cyclic.lpt";
    REQUIRE(run("synth --model resnet20 --dataset cifar10 --epochs 1 --schedule static:8/8 -q -o " +
                s.string())
                .code == 0);
    REQUIRE(run("synth --model resnet20 --dataset cifar10 --epochs 1 --schedule cyclic:3-8/8 -q "
                "-o " +
                c.string())
                .code == 0);
    return std::make_pair(s.string(), c.string());
  }();
  return t;
}

std::string both_traces() { return " --trace " + traces().first + " --trace " + traces().second; }

fs::path write_space(const std::string& name, const std::string& text) {
  const fs::path p = scratch() / name;
  std::ofstream(p) << text;
  return p;
}

// 4 x 4 x 3 = 48 points: long enough to be stopped part-way.
const char* kSpace48 =
    "base: tpu_int8\n"
    "axes:\n"
    "  array.rows: {from: 16, to: 128, factor: 2}\n"
    "  array.cols: {from: 16, to: 128, factor: 2}\n"
    "  dram.bandwidth_gbps: [17, 34, 68]\n";

// Starts `lpsim explore` (or `launcher...` before it) without waiting;
// stdout to /dev/null, stderr to `err` (default /dev/null).
pid_t spawn_explore(const std::vector<std::string>& args, const std::string& err = "/dev/null",
                    const std::vector<std::string>& launcher = {LPSIM_BINARY}) {
  std::vector<std::string> all = launcher;
  all.push_back("explore");
  all.insert(all.end(), args.begin(), args.end());
  const pid_t pid = fork();
  if (pid == 0) {
    const int null = open("/dev/null", O_WRONLY);
    const int err_fd = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(null, 1);
    dup2(err_fd, 2);
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

// The child processes of `pid` (Linux: /proc/PID/task/PID/children).
std::vector<pid_t> children_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
  std::vector<pid_t> out;
  for (pid_t c; in >> c;) out.push_back(c);
  return out;
}

// Waits (up to a minute) until `csv` holds at least `n` lines.
void wait_for_lines(const fs::path& csv, int n) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (lines(slurp(csv)) < n && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
}

}  // namespace

TEST_CASE("the Pareto marking keeps exactly the undominated rows of a hand-made set") {
  using lpsim::explore::pareto_mask;
  // (energy, latency): by hand, (1,5) (2,3) (4,1) and the duplicate (2,3) are
  // undominated; (3,3) loses to (2,3), (5,5) to everything, (4,2) to (4,1).
  const std::vector<std::vector<double>> set = {{1, 5}, {2, 3}, {3, 3}, {4, 1},
                                                {5, 5}, {2, 3}, {4, 2}};
  CHECK(pareto_mask(set) == std::vector<bool>{true, true, false, true, false, true, false});
  // Ineligible rows (over a power cap) are never optimal and dominate nothing:
  // without (2,3) twice, (3,3) is on the front.
  CHECK(pareto_mask(set, {true, false, true, true, true, false, true}) ==
        std::vector<bool>{true, false, true, true, false, false, false});
  // Three objectives: (3,3,1) is the only one with area 1, so it is optimal too.
  CHECK(pareto_mask({{1, 5, 9}, {2, 3, 9}, {3, 3, 1}, {3, 4, 9}}) ==
        std::vector<bool>{true, true, true, false});
  CHECK(pareto_mask({}).empty());
}

TEST_CASE("a one-axis sweep reproduces lpsim simulate --set for each point exactly") {
  const fs::path space = write_space("cols.yaml",
                                     "base: tpu_int8\n"
                                     "axes:\n"
                                     "  array.cols: [16, 32, 64]\n");
  const fs::path csv = scratch() / "cols.csv";
  const Result r = run("explore " + space.string() + " --trace " + traces().second + " -o " +
                       csv.string() + " --jobs 2 -q");
  REQUIRE(r.code == 0);
  const auto rows = read_rows(csv);
  REQUIRE(rows.size() == 3);
  for (const auto& row : rows) {
    INFO("array.cols = " << row.at("array.cols"));
    const Result s = run("simulate " + traces().second +
                         " --arch tpu_int8 --set array.cols=" + row.at("array.cols") + " --json");
    REQUIRE(s.code == 0);
    const auto j = nlohmann::json::parse(s.out);
    auto num = [&](const char* column) { return std::strtod(row.at(column).c_str(), nullptr); };
    CHECK(num("energy_j") == j["energy_j"].get<double>());
    CHECK(num("latency_s") == j["latency_s"].get<double>());
    CHECK(num("gbitops") == j["total_gbitops"].get<double>());
    CHECK(num("macs") == j["macs"].get<double>());
    CHECK(num("cycles") == j["cycles"].get<double>());
    CHECK(num("utilization") == j["utilization"].get<double>());
    CHECK(num("edp_js") == j["energy_j"].get<double>() * j["latency_s"].get<double>());
    for (const auto& [component, energy] : j["breakdown"]["component"].items()) {
      std::string column = "energy_" + component + "_j";
      std::replace(column.begin(), column.end(), ':', '_');
      CHECK(num(column.c_str()) == energy.get<double>());
    }
  }
}

TEST_CASE("two worker processes and two MPI ranks write the same file as one process") {
  const fs::path space = write_space("s48.yaml", kSpace48);
  const fs::path one = scratch() / "jobs1.csv", two = scratch() / "jobs2.csv";
  REQUIRE(run("explore " + space.string() + both_traces() + " -o " + one.string() + " --jobs 1 -q")
              .code == 0);
  REQUIRE(run("explore " + space.string() + both_traces() + " -o " + two.string() + " --jobs 2 -q")
              .code == 0);
  CHECK(lines(slurp(one)) == 1 + 48 * 2);
  CHECK(slurp(one) == slurp(two));

  const fs::path mpi_binary = fs::path(LPSIM_BINARY).parent_path() / "lpsim-mpi";
  if (!fs::exists(mpi_binary) || std::system("mpirun --version >/dev/null 2>&1") != 0) {
    WARN(
        "lpsim-mpi or mpirun not found (MPI not installed): the MPI half of this test is "
        "skipped");
    return;
  }
  const fs::path ranks = scratch() / "mpi2.csv";
  const Result m =
      run_with("mpirun --allow-run-as-root --oversubscribe -n 2 " + mpi_binary.string(),
               "explore " + space.string() + both_traces() + " -o " + ranks.string() + " --json");
  INFO(m.err);
  REQUIRE(m.code == 0);
  CHECK(nlohmann::json::parse(m.out)["workers"] == 2);
  CHECK(slurp(ranks) == slurp(one));
}

TEST_CASE("a sweep stopped by SIGTERM or SIGKILL and resumed writes the uninterrupted file") {
  const fs::path space = write_space("s48k.yaml", kSpace48);
  const fs::path whole = scratch() / "whole.csv";
  REQUIRE(run("explore " + space.string() + both_traces() + " -o " + whole.string() + " -q").code ==
          0);
  const int full_lines = lines(slurp(whole));
  REQUIRE(full_lines == 1 + 48 * 2);

  for (int sig : {SIGTERM, SIGKILL}) {
    INFO("signal " << sig);
    const fs::path csv = scratch() / ("killed_" + std::to_string(sig) + ".csv");
    const pid_t pid = spawn_explore({space.string(), "--trace", traces().first, "--trace",
                                     traces().second, "-o", csv.string(), "--jobs", "2"});
    REQUIRE(pid > 0);
    // Stop it once the first point's rows are in.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (lines(slurp(csv)) < 3 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    kill(pid, sig);
    int status = 0;
    waitpid(pid, &status, 0);
    if (sig == SIGTERM) {
      CHECK(WIFEXITED(status));
      CHECK(WEXITSTATUS(status) == 128 + SIGTERM);
    } else {
      CHECK(WIFSIGNALED(status));
    }
    const std::string partial = slurp(csv);
    CHECK(lines(partial) >= 3);
    CHECK(lines(partial) < full_lines);  // stopped part-way
    const Result r = run("explore " + space.string() + both_traces() + " -o " + csv.string() +
                         " --resume --json");
    REQUIRE(r.code == 0);
    CHECK(nlohmann::json::parse(r.out)["rows_resumed"].get<int>() >= 2);
    CHECK(slurp(csv) == slurp(whole));
  }
}

TEST_CASE("resuming a finished sweep evaluates nothing and keeps the file byte for byte") {
  const fs::path space = write_space("rows.yaml",
                                     "base: tpu_int8\n"
                                     "axes:\n"
                                     "  array.rows: [32, 64]\n");
  const fs::path csv = scratch() / "done.csv";
  REQUIRE(run("explore " + space.string() + both_traces() + " -o " + csv.string() + " -q").code ==
          0);
  const std::string before = slurp(csv);
  const Result r =
      run("explore " + space.string() + both_traces() + " -o " + csv.string() + " --resume --json");
  REQUIRE(r.code == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["points_evaluated"] == 0);
  CHECK(j["rows_resumed"] == 4);
  CHECK(slurp(csv) == before);

  // Another space's results are refused, not mixed in.
  const fs::path other = write_space("cols2.yaml",
                                     "base: tpu_int8\n"
                                     "axes:\n"
                                     "  array.cols: [32, 64]\n");
  const Result bad =
      run("explore " + other.string() + both_traces() + " -o " + csv.string() + " --resume");
  CHECK(bad.code == 2);
  CHECK(lines(bad.err) == 1);
  CHECK_THAT(bad.err, Catch::Contains("done.csv:1") && Catch::Contains("header"));
  CHECK(slurp(csv) == before);
}

TEST_CASE("seeded samples are reproducible, distinct, and marked per trace") {
  const fs::path space = write_space("big.yaml",
                                     "base: tpu_int8\n"
                                     "axes:\n"
                                     "  array.rows: {from: 8, to: 256, step: 8}\n"
                                     "  array.cols: {from: 8, to: 256, step: 8}\n"
                                     "objectives: [energy, latency, area]\n");
  for (const char* how : {"random", "lhs"}) {
    INFO(how);
    const fs::path a = scratch() / (std::string(how) + "_a.csv");
    const fs::path b = scratch() / (std::string(how) + "_b.csv");
    const fs::path c = scratch() / (std::string(how) + "_c.csv");
    const std::string common =
        "explore " + space.string() + both_traces() + " --samples 6 --sampling " + how + " -q";
    REQUIRE(run(common + " --seed 5 -o " + a.string()).code == 0);
    REQUIRE(run(common + " --seed 5 -o " + b.string()).code == 0);
    REQUIRE(run(common + " --seed 6 -o " + c.string()).code == 0);
    CHECK(slurp(a) == slurp(b));
    CHECK(slurp(a) != slurp(c));
    const auto rows = read_rows(a);
    // Latin-hypercube draws that land on the same point count once.
    CHECK(rows.size() <= 12);
    CHECK(rows.size() % 2 == 0);
    if (std::string(how) == "random") CHECK(rows.size() == 12);
    std::map<std::string, int> front;
    for (const auto& r : rows) front[r.at("trace")] += r.at("pareto") == "1";
    CHECK(front[traces().first] >= 1);
    CHECK(front[traces().second] >= 1);
  }
}

TEST_CASE(
    "a report directory holds the Pareto rows and a gnuplot script (and the plot with gnuplot)") {
  const fs::path space = write_space("rep.yaml",
                                     "base: tpu_int8\n"
                                     "axes:\n"
                                     "  array.rows: [16, 64]\n"
                                     "  array.cols: [16, 64]\n"
                                     "objectives: [energy, latency]\n");
  const fs::path csv = scratch() / "rep.csv", dir = scratch() / "rep";
  REQUIRE(run("explore " + space.string() + both_traces() + " -o " + csv.string() + " --report " +
              dir.string() + " -q")
              .code == 0);
  int marked = 0;
  for (const auto& r : read_rows(csv)) marked += r.at("pareto") == "1";
  CHECK(marked >= 2);
  CHECK(lines(slurp(dir / "pareto.csv")) == 1 + marked);
  CHECK_THAT(slurp(dir / "pareto.gp"), Catch::Contains("series1_front.dat"));
  if (std::system("gnuplot --version >/dev/null 2>&1") == 0)
    CHECK_THAT(slurp(dir / "pareto.svg"), Catch::Contains("<svg"));
  else
    WARN("gnuplot not installed: pareto.svg not checked");
}

TEST_CASE("bad design-space files are one line naming the file, the key and the range, exit 2") {
  struct Case {
    const char* text;
    const char* key;
    const char* range;
  };
  const std::vector<Case> cases = {
      {"base: tpu_int8\naxis:\n  array.rows: [32]\n", "axis", "unknown key"},
      {"base: tpu_int8\n", "axes", "required"},
      {"base: tpu_int8\naxes:\n  array.rows: [32, -4]\n", "axes.array.rows.1 = -4",
       "must be an integer"},
      {"base: tpu_int8\naxes:\n  array.rowz: [32]\n", "axes.array.rowz.0", "unknown key"},
      {"base: tpu_int8\naxes:\n  array.rows: {from: 8, to: 64, step: 0}\n",
       "axes.array.rows.step = 0", "> 0"},
      {"base: tpu_int8\naxes:\n  array.rows: {from: 64, to: 8, step: 8}\n",
       "axes.array.rows.to = 8", ">= from"},
      {"base: tpu_int8\naxes:\n  array.rows: [32, 32]\n", "axes.array.rows.1 = 32", "at most once"},
      {"base: tpu_int8\naxes:\n  pe: [{type: bit_fusion}]\n  pe.type: [fixed]\n", "axes.pe.type",
       "overlaps axis 'pe'"},
      {"base: no_such_point\naxes:\n  array.rows: [32]\n", "base = no_such_point", "not found"},
      {"base: tpu_int8\naxes:\n  array.rows: [32]\nobjectives: [speed]\n", "objectives.0 = speed",
       "energy | latency"},
      {"base: tpu_int8\naxes:\n  array.rows: [32]\nconstraints: {max_area_mm2: -1}\n",
       "constraints.max_area_mm2 = -1", "> 0"},
      {"base: tpu_int8\naxes:\n  array.rows: [32]\n  array.rows: [64]\n", "axes.array.rows",
       "twice"},
  };
  int i = 0;
  for (const auto& c : cases) {
    const std::string name = "bad" + std::to_string(i++) + ".yaml";
    INFO(name << ":\n" << c.text);
    const fs::path space = write_space(name, c.text);
    const Result r = run("explore " + space.string() + " --trace " + traces().first + " -o " +
                         (scratch() / "bad.csv").string());
    CHECK(r.code == 2);
    CHECK(lines(r.err) == 1);
    CHECK_THAT(r.err, Catch::Contains(name) && Catch::Contains(c.key) && Catch::Contains(c.range));
  }
  CHECK_FALSE(fs::exists(scratch() / "bad.csv"));
}

TEST_CASE("axes may hold at most the caller's limit of values, each and in all") {
  const auto dir = fs::temp_directory_path() / ("lpsim_space_limit_" + std::to_string(getpid()));
  fs::create_directories(dir);
  const std::string path = (dir / "space.yaml").string();
  std::ofstream(path) << "base: tpu_int8\naxes:\n  array.rows: [8, 16, 32]\n"
                         "  clock_ghz: {from: 0.5, to: 0.7, step: 0.1}\n";
  const lpsim::explore::DesignSpace space = lpsim::explore::load_space(path);
  CHECK(space.size() == 9);
  CHECK_THROWS_WITH(lpsim::explore::load_space(path, 2),
                    Catch::Contains("array.rows") && Catch::Contains("at most 2 values"));
  CHECK_THROWS_WITH(lpsim::explore::load_space(path, 5),
                    Catch::Contains("clock_ghz") && Catch::Contains("more than 5 values in all"));
  CHECK(lpsim::explore::load_space(path, 6).size() == 9);
  std::ofstream(path) << "base: tpu_int8\naxes:\n  clock_ghz: {from: 0.5, to: 0.7, step: 0.1}\n";
  CHECK_THROWS_WITH(lpsim::explore::load_space(path, 2),
                    Catch::Contains("clock_ghz") && Catch::Contains("more than 2 values"));
  fs::remove_all(dir);
}

TEST_CASE(
    "a worker process killed by SIGKILL stops the sweep with a message, and --resume finishes") {
  const fs::path space = write_space("s48w.yaml", kSpace48);
  const fs::path whole = scratch() / "whole_w.csv", csv = scratch() / "worker_killed.csv",
                 err = scratch() / "worker_killed.err";
  REQUIRE(run("explore " + space.string() + both_traces() + " -o " + whole.string() + " -q").code ==
          0);
  const pid_t pid = spawn_explore({space.string(), "--trace", traces().first, "--trace",
                                   traces().second, "-o", csv.string(), "--jobs", "2"},
                                  err.string());
  REQUIRE(pid > 0);
  wait_for_lines(csv, 3);
  const auto workers = children_of(pid);
  REQUIRE(workers.size() == 2);
  kill(workers.back(), SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 1);
  const std::string message = slurp(err);
  CHECK(lines(message) == 1);
  CHECK_THAT(message, Catch::Contains("killed by signal 9") && Catch::Contains(csv.string()) &&
                          Catch::Contains("--resume"));
  CHECK(lines(slurp(csv)) < lines(slurp(whole)));
  const Result r =
      run("explore " + space.string() + both_traces() + " -o " + csv.string() + " --resume --json");
  REQUIRE(r.code == 0);
  CHECK(slurp(csv) == slurp(whole));
}

TEST_CASE("a second sweep on a results file in use is refused, and the first finishes whole") {
  const fs::path space = write_space("s48c.yaml", kSpace48);
  const fs::path whole = scratch() / "whole_c.csv", csv = scratch() / "shared.csv";
  REQUIRE(run("explore " + space.string() + both_traces() + " -o " + whole.string() + " -q").code ==
          0);
  const pid_t pid = spawn_explore({space.string(), "--trace", traces().first, "--trace",
                                   traces().second, "-o", csv.string(), "--jobs", "1"});
  REQUIRE(pid > 0);
  wait_for_lines(csv, 1);
  for (const char* extra : {"", " --resume"}) {
    const Result second =
        run("explore " + space.string() + both_traces() + " -o " + csv.string() + extra);
    CHECK(second.code == 2);
    CHECK(lines(second.err) == 1);
    CHECK_THAT(second.err, Catch::Contains(csv.string()) &&
                               Catch::Contains("another lpsim explore is writing"));
  }
  int status = 0;
  waitpid(pid, &status, 0);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(slurp(csv) == slurp(whole));
}

TEST_CASE("an MPI rank killed by SIGKILL ends the job, and --resume finishes it") {
  const fs::path mpi_binary = fs::path(LPSIM_BINARY).parent_path() / "lpsim-mpi";
  if (!fs::exists(mpi_binary) || std::system("mpirun --version >/dev/null 2>&1") != 0) {
    WARN("lpsim-mpi or mpirun not found (MPI not installed): skipped");
    return;
  }
  const fs::path space = write_space("s48m.yaml", kSpace48);
  const fs::path whole = scratch() / "whole_m.csv", csv = scratch() / "rank_killed.csv";
  REQUIRE(run("explore " + space.string() + both_traces() + " -o " + whole.string() + " -q").code ==
          0);
  const pid_t pid = spawn_explore(
      {space.string(), "--trace", traces().first, "--trace", traces().second, "-o", csv.string()},
      "/dev/null",
      {"mpirun", "--allow-run-as-root", "--oversubscribe", "-n", "2", mpi_binary.string()});
  REQUIRE(pid > 0);
  wait_for_lines(csv, 3);
  // Rank 1: the rank that does not write.
  pid_t rank1 = -1;
  for (pid_t c : children_of(pid)) {
    std::ifstream env("/proc/" + std::to_string(c) + "/environ", std::ios::binary);
    const std::string vars((std::istreambuf_iterator<char>(env)), std::istreambuf_iterator<char>());
    if (vars.find(std::string("OMPI_COMM_WORLD_RANK=1") + '\0') != std::string::npos) rank1 = c;
  }
  REQUIRE(rank1 > 0);
  kill(rank1, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  CHECK_FALSE((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  CHECK(lines(slurp(csv)) < lines(slurp(whole)));
  const Result r =
      run("explore " + space.string() + both_traces() + " -o " + csv.string() + " --resume --json");
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(slurp(csv) == slurp(whole));
}
