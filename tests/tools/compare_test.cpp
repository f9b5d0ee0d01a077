// `lpsim compare`: the main job's shape (both models, every schedule, both
// design points), trained runs that agree with `lpsim train`, BitOPs and
// energy that follow the documented formulas, quiet and silent-progress
// output, and one-line errors.
#include <unistd.h>

#include <array>
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/shell.h"
#include <set>
#include <string>

namespace fs = std::filesystem;

namespace {

using Result = lpsim::test::ShellResult;

Result run(const std::string& args) {
  return lpsim::test::run_shell(std::string(LPSIM_BINARY) + " " + args);
}

fs::path scratch() {
  const fs::path d = fs::temp_directory_path() / ("lpsim_compare_test_" + std::to_string(getpid()));
  fs::create_directories(d);
  return d;
}

const nlohmann::json* find(const nlohmann::json& rows, const std::string& model,
                           const std::string& schedule, const std::string& arch) {
  for (const auto& r : rows)
    if (r["model"] == model && r["schedule"] == schedule && r.value("arch", "") == arch) return &r;
  return nullptr;
}

}  // namespace

TEST_CASE(
    "compare with no model runs ResNet-74 synthesized and LeNet-5 trained, every "
    "schedule on tpu_int8 and bit_fusion") {
  // The main job's shape, shortened: 1 synthesized epoch, 1 trained epoch on 256 images.
  Result r = run("compare --epochs 1 --train-epochs 1 --train-limit 256 --test-limit 128 --json");
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.err.empty());  // stderr is not a terminal: no progress
  const auto rows = nlohmann::json::parse(r.out);
  const std::vector<std::string> synth{"static:8/8", "static:4/4", "progressive:3-8/8",
                                       "cyclic:3-8/8"};
  std::vector<std::string> trained = synth;
  trained.push_back("muppet:8,12,14,16");
  CHECK(rows.size() == 2 * (synth.size() + trained.size()));
  for (const char* arch : {"tpu_int8", "bit_fusion"}) {
    for (const auto& s : synth) {
      INFO(arch << " " << s);
      const auto* j = find(rows, "resnet74", s, arch);
      REQUIRE(j != nullptr);
      CHECK((*j)["dataset"] == "cifar100");
      CHECK((*j)["source"] == "synthesized");
      CHECK(!j->contains("test_accuracy"));
      CHECK((*j)["energy_j"].get<double>() > 0);
      CHECK((*j)["latency_s"].get<double>() > 0);
    }
    for (const auto& s : trained) {
      INFO(arch << " " << s);
      const auto* j = find(rows, "lenet5", s, arch);
      REQUIRE(j != nullptr);
      CHECK((*j)["dataset"] == "fashion-mnist");
      CHECK((*j)["source"] == "trained");
      CHECK((*j)["test_accuracy"].get<double>() >= 0);
      CHECK((*j)["test_accuracy"].get<double>() <= 1);
      // A design point either simulated the run or said why not.
      CHECK((j->contains("energy_j") != j->contains("unsupported")));
    }
    CHECK(find(rows, "resnet74", "muppet:8,12,14,16", arch) == nullptr);
  }
  // Baselines change by zero against themselves.
  for (const auto& j : rows)
    if (j["schedule"] == "static:8/8") {
      CHECK(j["change"]["gbitops"].get<double>() == 0);
      CHECK(j["change"]["energy"].get<double>() == 0);
    }
}

TEST_CASE(
    "static 4/4 costs a quarter of the BitOPs of 8/8, INT8 MACs cost the same at 4 bits, "
    "Bit Fusion's a quarter") {
  Result r =
      run("compare --model resnet20 --dataset cifar10 --epochs 1 "
          "--schedules static:8/8,static:4/4 --arch tpu_int8 --arch bit_fusion --json");
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto rows = nlohmann::json::parse(r.out);
  REQUIRE(rows.size() == 4);
  // BitOPs of a MAC = bits x bits (docs/bitops.md): 4*4 / (8*8).
  const auto* b8 = find(rows, "resnet20", "static:8/8", "tpu_int8");
  const auto* b4 = find(rows, "resnet20", "static:4/4", "tpu_int8");
  REQUIRE(b8);
  REQUIRE(b4);
  CHECK((*b4)["total_gbitops"].get<double>() ==
        Approx((*b8)["total_gbitops"].get<double>() * 16.0 / 64.0).epsilon(1e-12));
  CHECK((*b4)["change"]["gbitops"].get<double>() == Approx(-0.75).epsilon(1e-12));
  // A fixed INT8 PE pads 4-bit operands to 8: the same MACs at the same energy.
  auto mac = [](const nlohmann::json* j) {
    return (*j)["breakdown"]["component"]["mac"].get<double>();
  };
  CHECK(mac(b4) == Approx(mac(b8)).epsilon(1e-12));
  // Bit Fusion: a MAC occupies (a / brick) x (b / brick) bricks, so 4x4 uses a
  // quarter of the bricks of 8x8.
  const auto* f8 = find(rows, "resnet20", "static:8/8", "bit_fusion");
  const auto* f4 = find(rows, "resnet20", "static:4/4", "bit_fusion");
  REQUIRE(f8);
  REQUIRE(f4);
  CHECK(mac(f4) == Approx(mac(f8) / 4).epsilon(1e-9));
  CHECK((*f4)["energy_j"].get<double>() < (*f8)["energy_j"].get<double>());
  CHECK((*f4)["change"]["energy"].get<double>() ==
        Approx(((*f4)["energy_j"].get<double>() - (*f8)["energy_j"].get<double>()) /
               (*f8)["energy_j"].get<double>()));
}

TEST_CASE("compare --train reports the accuracy and BitOPs lpsim train reports for the same run") {
  const fs::path trace = scratch() / "t.lpt";
  Result t =
      run("train --model lenet5 --epochs 1 --train-limit 256 --test-limit 128 "
          "--schedule cyclic:3-8/8 --seed 3 --json -o " +
          trace.string());
  INFO(t.err);
  REQUIRE(t.code == 0);
  Result c =
      run("compare --train --train-epochs 1 --train-limit 256 --test-limit 128 --seed 3 "
          "--schedules static:8/8,cyclic:3-8/8 --arch tpu_int8 --json");
  INFO(c.err);
  REQUIRE(c.code == 0);
  const auto tj = nlohmann::json::parse(t.out);
  const auto rows = nlohmann::json::parse(c.out);
  REQUIRE(rows.size() == 2);
  CHECK(rows[1]["model"] == "lenet5");
  CHECK(rows[1]["source"] == "trained");
  CHECK(rows[1]["epochs"] == 1);
  // The trainer is deterministic for a seed, whatever the thread count.
  CHECK(rows[1]["test_accuracy"].get<double>() == tj["test_accuracy"].get<double>());
  CHECK(rows[1]["total_gbitops"].get<double>() == tj["total_gbitops"].get<double>());
  // Cycling 3..8 forward bits costs fewer BitOPs than a static 8.
  CHECK(rows[1]["total_gbitops"].get<double>() < rows[0]["total_gbitops"].get<double>());
}

TEST_CASE("compare -q prints the table alone and --bitops-only drops the simulated columns") {
  Result r =
      run("compare -q --bitops-only --model resnet20 --dataset cifar10 --epochs 1 "
          "--schedules static:8/8,cyclic:3-8/8");
  REQUIRE(r.code == 0);
  CHECK(r.err.empty());
  CHECK(r.out.starts_with("model "));
  CHECK_THAT(r.out, !Catch::Contains("energy"));
  int lines = 0;
  for (char ch : r.out) lines += ch == '\n';
  CHECK(lines == 4);  // header, rule, two schedules
}

TEST_CASE("compare --model without --dataset runs on the model's own dataset (lpsim models)") {
  // lenet5's zoo dataset is fashion-mnist (models/zoo.cpp); the main job's
  // cifar100 default belongs to resnet74 only.
  Result r = run("compare --bitops-only --json --model lenet5 --iterations 3 --schedules static:8/8");
  REQUIRE(r.code == 0);
  const auto rows = nlohmann::json::parse(r.out);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0]["dataset"] == "fashion-mnist");
}

TEST_CASE("compare's bad inputs are one line on stderr with exit code 2") {
  struct Case {
    const char* args;
    const char* says;
  };
  for (const Case& k : {
           Case{"--model resnet20 --dataset cifar10 --schedules muppet:8,12", "muppet:8,12"},
           Case{"--model resnet9000", "resnet9000"},
           Case{"--model resnet20 --dataset cifar10 --arch no_such_point", "no_such_point"},
           Case{"--train --train-epochs 1 --data-dir /nonexistent", "/nonexistent"},
           Case{"--model resnet20 --dataset cifar10 --report /nonexistent/dir", "/nonexistent"},
           Case{"--model resnet20 --dataset cifar10 --count bogus", "bogus"},
       }) {
    INFO(k.args);
    Result r = run(std::string("compare ") + k.args);
    CHECK(r.code == 2);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK_THAT(r.err, Catch::Contains(k.says));
  }
}
