// Graph files wherever a zoo name goes (synth, bitops / simulate via the
// trace, compare --model, explore, models FILE), and `lpsim import`.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "support/shell.h"

namespace fs = std::filesystem;

namespace {

using Result = lpsim::test::ShellResult;

Result run(const std::string& args) {
  return lpsim::test::run_shell(std::string(LPSIM_BINARY) + " " + args);
}

fs::path scratch() {
  fs::path d = fs::temp_directory_path() / ("lpsim_graph_cli_" + std::to_string(getpid()));
  fs::create_directories(d);
  return d;
}

// A small CIFAR-shaped network (3x32x32: synth takes cifar10 by default).
const char* kNet = R"({"name":"tiny","layers":[
 {"name":"x","kind":"input","shape":[3,32,32]},
 {"name":"c1","kind":"conv2d","inputs":["x"],"out_channels":16,"kernel":3,"padding":1},
 {"name":"b1","kind":"batchnorm","inputs":["c1"]},
 {"name":"r1","kind":"activation","inputs":["b1"],"function":"relu"},
 {"name":"p","kind":"pool","inputs":["r1"],"mode":"avg","global":true},
 {"name":"f","kind":"flatten","inputs":["p"]},
 {"name":"fc","kind":"linear","inputs":["f"],"out_features":10,"bias":true},
 {"name":"loss","kind":"softmax","inputs":["fc"]}]})";

const std::int64_t kMacs = 16 * 27 * 1024 + 160;

fs::path net_json() {
  const fs::path p = scratch() / "tiny.json";
  std::ofstream(p) << kNet;
  return p;
}

}  // namespace

TEST_CASE("lpsim models FILE prints the graph's forward MACs and parameters") {
  const Result r = run("models " + net_json().string() + " --json");
  REQUIRE(r.code == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["forward_macs"] == kMacs);
  CHECK(j["parameters"] == 16 * 27 + 32 + 170);
  CHECK(j["dataset"] == "cifar10");
  const Result text = run("models " + net_json().string());
  REQUIRE(text.code == 0);
  CHECK_THAT(text.out, Catch::Contains("forward MACs " + std::to_string(kMacs)));
  // A zoo name works there too; no argument is the zoo list as always.
  const Result zoo_one = run("models resnet20 --json");
  REQUIRE(zoo_one.code == 0);
  CHECK(nlohmann::json::parse(zoo_one.out)["forward_macs"] == 40813184);
  const Result all = run("models --json");
  REQUIRE(all.code == 0);
  CHECK(nlohmann::json::parse(all.out).is_array());
}

TEST_CASE("synth takes a graph file, and the trace carries the graph for bitops and simulate") {
  const fs::path trace = scratch() / "tiny.lpt";
  const Result s = run("synth --model " + net_json().string() + " --iterations 20 --batch 32 -o " +
                       trace.string() + " --schedule cyclic:4-8/8,cycles=4");
  REQUIRE(s.code == 0);
  CHECK_THAT(s.out, Catch::Contains("tiny.json cifar10"));
  std::ifstream in(trace);
  std::string header;
  std::getline(in, header);
  const auto h = nlohmann::json::parse(header);
  CHECK(h.contains("graph"));
  CHECK_FALSE(h.contains("model"));
  // The trace stands alone: the file may go.
  fs::remove(net_json());
  const Result b = run("bitops " + trace.string() + " --json");
  REQUIRE(b.code == 0);
  // fwd and bwd_weight everywhere, bwd_data for the fc only (not w.r.t. the image).
  CHECK(nlohmann::json::parse(b.out)["total_macs"].get<double>() == (2.0 * kMacs + 160) * 32 * 20);
  const Result sim = run("simulate " + trace.string() + " --arch tpu_int8 -q");
  CHECK(sim.code == 0);
}

TEST_CASE("a YAML graph file and the same graph in JSON give the same trace") {
  const fs::path yaml = scratch() / "tiny.yaml";
  std::ofstream(yaml) << kNet;  // JSON is YAML
  const fs::path a = scratch() / "a.lpt", b = scratch() / "b.lpt";
  REQUIRE(
      run("synth --model " + net_json().string() + " --iterations 5 -q -o " + a.string()).code ==
      0);
  REQUIRE(run("synth --model " + yaml.string() + " --iterations 5 -q -o " + b.string()).code == 0);
  auto x = nlohmann::json::parse(run("bitops " + a.string() + " --json").out);
  auto y = nlohmann::json::parse(run("bitops " + b.string() + " --json").out);
  x.erase("trace");
  y.erase("trace");
  CHECK(x == y);
}

TEST_CASE("compare --model and explore take a graph file") {
  const Result c = run("compare --model " + net_json().string() +
                       " --epochs 1 --schedules static:8/8 --arch tpu_int8 --json -q");
  REQUIRE(c.code == 0);
  const auto rows = nlohmann::json::parse(c.out);
  REQUIRE(rows.size() == 1);
  const fs::path trace = scratch() / "e.lpt";
  REQUIRE(run("synth --model " + net_json().string() + " --iterations 4 -q -o " + trace.string())
              .code == 0);
  const fs::path space = scratch() / "space.yaml";
  std::ofstream(space) << "base: tpu_int8\naxes:\n  array.cols: [16, 32]\n";
  const fs::path csv = scratch() / "e.csv";
  const Result e = run("explore " + space.string() + " --trace " + trace.string() + " -o " +
                       csv.string() + " --jobs 1 -q");
  CHECK(e.code == 0);
  CHECK(fs::exists(csv));
}

TEST_CASE("a graph file that fits no dataset needs one named, an ONNX file is pointed to import") {
  const fs::path odd = scratch() / "odd.json";
  std::string net = kNet;
  net.replace(net.find("[3,32,32]"), 9, "[3,40,40]");
  std::ofstream(odd) << net;
  Result r = run("synth --model " + odd.string() + " -o " + (scratch() / "o.lpt").string());
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("odd.json") && Catch::Contains("[3,40,40]") &&
                        Catch::Contains("name the dataset"));
  CHECK(run("synth --model " + odd.string() + " --dataset cifar10 --iterations 2 -q -o " +
            (scratch() / "o.lpt").string())
            .code == 0);
  r = run("synth --model net.onnx -o " + (scratch() / "o.lpt").string());
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("lpsim import net.onnx -o net.yaml"));
  r = run("synth --model nosuch.yaml -o " + (scratch() / "o.lpt").string());
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("nosuch.yaml"));
}

TEST_CASE("lpsim import writes a graph the other commands take") {
  const std::string onnx = std::string(LPSIM_SOURCE_DIR) + "/tests/fuzz/corpus/onnx/resnet18.onnx";
  const fs::path yaml = scratch() / "r18.yaml";
  const Result r = run("import " + onnx + " -o " + yaml.string() + " --json");
  if (r.code == 2 && r.err.find("built without ONNX") != std::string::npos) {
    WARN("lpsim was built without ONNX: skipped");
    return;
  }
  REQUIRE(r.code == 0);
  CHECK(r.err.empty());
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["forward_macs"] == 1814073344);  // = the zoo's resnet18 on imagenet
  CHECK(j["parameters"] == 11689512);
  const Result m = run("models " + yaml.string() + " --json");
  REQUIRE(m.code == 0);
  CHECK(nlohmann::json::parse(m.out)["forward_macs"] == 1814073344);
  CHECK(nlohmann::json::parse(m.out)["dataset"] == "imagenet");
  const Result s = run("synth --model " + yaml.string() + " --iterations 3 -q -o " +
                       (scratch() / "r18.lpt").string());
  CHECK(s.code == 0);
  // JSON by the extension; the same graph.
  const fs::path json = scratch() / "r18.json";
  REQUIRE(run("import " + onnx + " -o " + json.string() + " -q").code == 0);
  const Result mj = run("models " + json.string() + " --json");
  CHECK(nlohmann::json::parse(mj.out)["parameters"] == 11689512);
}
