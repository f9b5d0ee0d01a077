// `lpsim compare --report DIR`: every file is written, every number of the
// printed table is the one in report.json, the CSV holds the same figures,
// the directory appears whole or not at all, and the page renders in
// headless Chromium (scripts/check_report.sh) where Chromium is installed.
#include <unistd.h>

#include <array>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "support/shell.h"
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

using Result = lpsim::test::ShellResult;

// Runs `<env> lpsim <args>` through the shell, capturing stdout and stderr.
Result run_env(const std::string& env, const std::string& args) {
  return lpsim::test::run_shell(env + " " + std::string(LPSIM_BINARY) + " " + args);
}
Result run(const std::string& args) { return run_env("", args); }

// One scratch directory per process (ctest runs test cases in parallel).
fs::path scratch() {
  const fs::path d = fs::temp_directory_path() / ("lpsim_report_test_" + std::to_string(getpid()));
  fs::create_directories(d);
  return d;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A small default job: ResNet-74 synthesized for 2 epochs and LeNet-5 trained
// on 512 images for 1 epoch, 2 schedules, 1 design point.
const char* kSmallJob =
    "compare --epochs 2 --schedules static:8/8,cyclic:3-8/8 --arch tpu_int8 "
    "--train-epochs 1 --train-limit 512 --test-limit 256";

std::vector<std::string> split_cells(const std::string& line) {
  // Cells are separated by two or more spaces; a cell holds at most one
  // ("570.8 J").
  std::vector<std::string> out;
  std::regex sep(" {2,}");
  for (std::sregex_token_iterator it(line.begin(), line.end(), sep, -1), end; it != end; ++it)
    if (!it->str().empty()) out.push_back(it->str());
  return out;
}

// "570.8 mJ" -> 0.5708, "1.2 h" -> 4320, "93.28 s" -> 93.28.
double with_unit(const std::string& cell, const std::string& unit) {
  std::istringstream in(cell);
  double v = 0;
  std::string u;
  in >> v >> u;
  REQUIRE(!u.empty());
  if (unit == "s" && u == "h") return v * 3600;
  REQUIRE(u.back() == unit.back());
  static const std::map<std::string, double> prefix{{"G", 1e9},  {"M", 1e6},  {"k", 1e3},
                                                    {"", 1},     {"m", 1e-3}, {"u", 1e-6},
                                                    {"n", 1e-9}, {"p", 1e-12}};
  const auto it = prefix.find(u.substr(0, u.size() - unit.size()));
  REQUIRE(it != prefix.end());
  return v * it->second;
}

// The printed number equals the JSON one to the digits printed: 4
// significant digits (relative 5e-4, plus float slack).
void check_sig4(double printed, double json) {
  INFO("printed " << printed << " json " << json);
  CHECK(std::fabs(printed - json) <= 5.001e-4 * std::fabs(json) + 1e-300);
}
// "+12.3%" against a fraction 0.123: one decimal of a percentage.
void check_pct(const std::string& cell, const nlohmann::json& fraction) {
  INFO(cell << " vs " << fraction.dump());
  if (cell == "-") {
    CHECK(fraction.is_null());
    return;
  }
  REQUIRE(fraction.is_number());
  REQUIRE(cell.back() == '%');
  const double printed = std::stod(cell.substr(0, cell.size() - 1));
  CHECK(std::fabs(printed - 100.0 * fraction.get<double>()) <= 0.05 + 1e-9);
}

struct SmallReport {
  fs::path dir;
  Result result;
};

const SmallReport& small_report() {
  static SmallReport r = [] {
    SmallReport s;
    s.dir = scratch() / "report";
    fs::remove_all(s.dir);
    s.result = run(std::string(kSmallJob) + " --report " + s.dir.string());
    return s;
  }();
  return r;
}

}  // namespace

TEST_CASE("compare --report writes the JSON, the CSV, every plot as SVG and PNG, and the page") {
  const SmallReport& r = small_report();
  INFO(r.result.err);
  REQUIRE(r.result.code == 0);
  for (const char* f : {"index.html", "report.json", "report.csv"})
    CHECK(fs::file_size(r.dir / f) > 0);
  const auto report = nlohmann::json::parse(slurp(r.dir / "report.json"));
  std::vector<std::string> stems;
  for (const auto& p : report["plots"]) stems.push_back(p["name"].get<std::string>());
  // Precision, energy and latency per model, and accuracy vs energy (a trained run).
  for (const char* want :
       {"precision_resnet74_cifar100", "energy_resnet74_cifar100", "latency_resnet74_cifar100",
        "precision_lenet5_fashion_mnist", "energy_lenet5_fashion_mnist",
        "latency_lenet5_fashion_mnist", "accuracy_energy"})
    CHECK(std::find(stems.begin(), stems.end(), want) != stems.end());
  const std::string html = slurp(r.dir / "index.html");
  for (const auto& s : stems) {
    INFO(s);
    const std::string png = slurp(r.dir / "plots" / (s + ".png"));
    REQUIRE(png.size() > 1000);
    CHECK(png.substr(0, 8) == std::string("\x89PNG\r\n\x1a\n", 8));
    CHECK_THAT(slurp(r.dir / "plots" / (s + ".svg")), Catch::Contains("<svg"));
    CHECK(fs::file_size(r.dir / "plots" / (s + ".dat")) > 0);
    CHECK_THAT(slurp(r.dir / "plots" / (s + ".gp")), Catch::Contains(s + ".svg"));
    CHECK_THAT(html, Catch::Contains("plots/" + s + ".svg"));
  }
  // No temporary directory is left beside the report.
  for (const auto& e : fs::directory_iterator(r.dir.parent_path()))
    CHECK_THAT(e.path().filename().string(), !Catch::Contains(".tmp-"));
}

TEST_CASE("every number in the printed table equals the one in report.json") {
  const SmallReport& r = small_report();
  REQUIRE(r.result.code == 0);
  const auto report = nlohmann::json::parse(slurp(r.dir / "report.json"));
  const auto& rows = report["rows"];

  std::istringstream lines(r.result.out);
  std::string line;
  std::vector<std::string> header;
  while (std::getline(lines, line))
    if (line.starts_with("model ")) {
      header = split_cells(line);
      break;
    }
  REQUIRE(!header.empty());
  std::getline(lines, line);
  REQUIRE(line.find_first_not_of('-') == std::string::npos);
  std::vector<std::vector<std::string>> table;
  while (std::getline(lines, line) && !line.empty() && !line.starts_with("- "))
    table.push_back(split_cells(line));
  // resnet74 x 2 schedules + lenet5 x 2 schedules, on one design point.
  REQUIRE(table.size() == 4);
  REQUIRE(rows.size() == table.size());
  // The table report.json keeps is the one printed, cell for cell.
  REQUIRE(report["table"].size() == table.size() + 1);
  CHECK(report["table"][0].get<std::vector<std::string>>() == header);

  for (std::size_t i = 0; i < table.size(); ++i) {
    const auto& cells = table[i];
    const auto& j = rows[i];
    INFO("row " << i << ": " << j.dump().substr(0, 300));
    REQUIRE(cells.size() == header.size());
    CHECK(report["table"][i + 1].get<std::vector<std::string>>() == cells);
    int vs = 0;  // the "vs base" columns follow GBitOPs, energy, latency in that order
    for (std::size_t k = 0; k < header.size(); ++k) {
      const std::string& h = header[k];
      const std::string& c = cells[k];
      if (h == "model") {
        CHECK(c == j["model"].get<std::string>() + "/" + j["dataset"].get<std::string>());
      } else if (h == "schedule") {
        CHECK(c == j["schedule"].get<std::string>());
      } else if (h == "design point") {
        CHECK(c == j["arch"].get<std::string>());
      } else if (h == "accuracy") {
        if (j["source"] == "trained") {
          REQUIRE(c.back() == '%');
          CHECK(std::fabs(std::stod(c) - 100.0 * j["test_accuracy"].get<double>()) <= 0.005001);
        } else {
          CHECK(c == "-");
          CHECK(!j.contains("test_accuracy"));
        }
      } else if (h == "GBitOPs") {
        check_sig4(std::stod(c), j["total_gbitops"].get<double>());
      } else if (h == "energy") {
        check_sig4(with_unit(c, "J"), j["energy_j"].get<double>());
      } else if (h == "static") {  // static energy's share of the energy, one decimal
        REQUIRE(c.back() == '%');
        CHECK(std::fabs(std::stod(c) - 100.0 * j["energy_static_j"].get<double>() /
                                           j["energy_j"].get<double>()) <= 0.05001);
        CHECK(j["energy_static_j"].get<double>() + j["energy_dynamic_j"].get<double>() ==
              Approx(j["energy_j"].get<double>()).epsilon(1e-12));
      } else if (h == "latency") {
        check_sig4(with_unit(c, "s"), j["latency_s"].get<double>());
      } else if (h == "vs base") {
        static const char* keys[] = {"gbitops", "energy", "latency"};
        REQUIRE(vs < 3);
        check_pct(c, j["change"][keys[vs++]]);
      } else {
        FAIL("unexpected column " << h);
      }
    }
    CHECK(vs == 3);
    // The change is the documented formula (value - baseline) / baseline.
    const auto& base = rows[i % 2 == 0 ? i : i - 1];
    CHECK(j["change"]["energy"].get<double>() ==
          Approx((j["energy_j"].get<double>() - base["energy_j"].get<double>()) /
                 base["energy_j"].get<double>()));
  }
  // Every cell is on the page too.
  const std::string html = slurp(r.dir / "index.html");
  for (const auto& cells : table)
    for (const auto& c : cells) CHECK_THAT(html, Catch::Contains(c));
}

TEST_CASE("report.csv holds report.json's figures exactly, one line per row") {
  const SmallReport& r = small_report();
  REQUIRE(r.result.code == 0);
  const auto rows = nlohmann::json::parse(slurp(r.dir / "report.json"))["rows"];
  std::istringstream csv(slurp(r.dir / "report.csv"));
  std::string line;
  std::getline(csv, line);
  std::vector<std::string> header;
  std::stringstream hs(line);
  for (std::string h; std::getline(hs, h, ',');) header.push_back(h);
  std::size_t i = 0;
  while (std::getline(csv, line)) {
    REQUIRE(i < rows.size());
    // No cell of this job holds a comma (schedules static:8/8, cyclic:3-8/8).
    std::vector<std::string> cells;
    std::stringstream ls(line);
    for (std::string c; std::getline(ls, c, ',');) cells.push_back(c);
    if (line.back() == ',') cells.emplace_back();
    REQUIRE(cells.size() == header.size());
    for (const char* key : {"total_gbitops", "total_macs", "energy_j", "latency_s"}) {
      const auto k = std::find(header.begin(), header.end(), key) - header.begin();
      REQUIRE(std::size_t(k) < header.size());
      CHECK(std::stod(cells[std::size_t(k)]) == rows[i][key].get<double>());
    }
    // The components sum to the total (docs/energy.md).
    double sum = 0;
    for (const auto& [name, v] : rows[i]["breakdown"]["component"].items()) {
      const auto k = std::find(header.begin(), header.end(), "energy_j:" + name) - header.begin();
      REQUIRE(std::size_t(k) < header.size());
      CHECK(std::stod(cells[std::size_t(k)]) == v.get<double>());
      sum += std::stod(cells[std::size_t(k)]);
    }
    CHECK(sum == Approx(rows[i]["energy_j"].get<double>()).epsilon(1e-9));
    ++i;
  }
  CHECK(i == rows.size());
}

TEST_CASE("a report that fails leaves the previous one untouched and no temporary files") {
  const fs::path dir = scratch() / "kept";
  fs::remove_all(dir);
  const std::string job =
      "compare --model resnet20 --dataset cifar10 --epochs 1 --schedules static:8/8 "
      "--arch tpu_int8 -q --report " +
      dir.string();
  REQUIRE(run(job).code == 0);
  const std::string before = slurp(dir / "report.json");
  // A gnuplot that fails: the report cannot be drawn.
  const fs::path bin = scratch() / "fakebin";
  fs::create_directories(bin);
  {
    std::ofstream fake(bin / "gnuplot");
    fake << "#!/bin/sh\necho 'gnuplot: broken on purpose' >&2\nexit 1\n";
  }
  fs::permissions(bin / "gnuplot", fs::perms::owner_all);
  Result r = run_env("PATH=" + bin.string() + ":/usr/bin:/bin",
                     "compare --model resnet20 --dataset cifar10 --epochs 1 "
                     "--schedules static:4/4 --arch tpu_int8 -q --report " +
                         dir.string());
  CHECK(r.code == 1);
  CHECK_THAT(r.err, Catch::Contains("broken on purpose"));
  CHECK(slurp(dir / "report.json") == before);
  for (const auto& e : fs::directory_iterator(dir.parent_path()))
    CHECK_THAT(e.path().filename().string(),
               !Catch::Contains(".tmp-") && !Catch::Contains(".old-"));
  // A second good run replaces the old report whole.
  REQUIRE(run_env("",
                  "compare --model resnet20 --dataset cifar10 --epochs 1 --schedules "
                  "static:4/4 --arch tpu_int8 -q --report " +
                      dir.string())
              .code == 0);
  CHECK_THAT(slurp(dir / "report.json"), Catch::Contains("static:4/4"));
}

TEST_CASE("compare --report refuses a missing gnuplot and a directory that is not a report") {
  const fs::path empty = scratch() / "emptybin";
  fs::create_directories(empty);
  Result r = run_env("PATH=" + empty.string(),
                     "compare --model resnet20 --dataset cifar10 --epochs 1 --report " +
                         (scratch() / "nognuplot").string());
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("gnuplot-nox"));
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK(!fs::exists(scratch() / "nognuplot"));

  const fs::path other = scratch() / "not_a_report";
  fs::create_directories(other);
  { std::ofstream(other / "precious.txt") << "keep me\n"; }
  r = run("compare --model resnet20 --dataset cifar10 --epochs 1 --report " + other.string());
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("not an lpsim report"));
  CHECK(slurp(other / "precious.txt") == "keep me\n");
}

TEST_CASE("the report page renders in headless Chromium (scripts/check_report.sh)") {
  if (std::system("command -v chromium >/dev/null 2>&1") != 0) {
    WARN(
        "chromium is not installed: the screenshot check is skipped "
        "(apt-get install chromium, or bash scripts/check_report.sh DIR installs it)");
    return;
  }
  const SmallReport& r = small_report();
  REQUIRE(r.result.code == 0);
  const fs::path shot = scratch() / "screenshot.png";
  const std::string cmd = "bash " + std::string(LPSIM_SOURCE_DIR) + "/scripts/check_report.sh " +
                          r.dir.string() + " " + shot.string() + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  std::array<char, 4096> buf{};
  std::size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), n);
  const int status = pclose(pipe);
  INFO(out);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(fs::file_size(shot) > 10000);
}
