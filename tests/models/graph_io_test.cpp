// Tests for models/graph_io.h: graph files (JSON / YAML) and SCALE-Sim topologies.
#include "models/graph_io.h"

#include <unistd.h>
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "models/training_step.h"
#include "models/zoo.h"

using namespace lpsim;

namespace {

std::string temp_file(const std::string& name, const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() / ("lpsim_models_test_" + name);
  std::ofstream(path) << text;
  return path.string();
}

void check_same_graph(const Graph& a, const Graph& b) {
  REQUIRE(a.size() == b.size());
  CHECK(a.name() == b.name());
  for (int i = 0; i < a.size(); ++i) {
    const Layer& x = a.layer(i);
    const Layer& y = b.layer(i);
    INFO(x.name);
    CHECK(x.name == y.name);
    CHECK(x.kind == y.kind);
    CHECK(a.inputs(i) == b.inputs(i));
    CHECK((x.out_features == y.out_features && x.kernel_h == y.kernel_h &&
           x.kernel_w == y.kernel_w && x.stride == y.stride && x.padding == y.padding &&
           x.groups == y.groups && x.bias == y.bias && x.heads == y.heads && x.vocab == y.vocab));
    if (x.kind == LayerKind::Pool)
      CHECK((x.pool_max == y.pool_max && x.pool_global == y.pool_global));
    if (x.kind == LayerKind::Activation) CHECK(x.activation == y.activation);
    CHECK((x.w_bits == y.w_bits && x.a_bits == y.a_bits));
    CHECK(x.input_grad == y.input_grad);
    CHECK(x.out_shape == y.out_shape);
  }
}

const char* const kTinyJson = R"({
  "name": "tiny",
  "layers": [
    {"name": "x", "kind": "input", "shape": [3, 8, 8]},
    {"name": "c1", "kind": "conv2d", "inputs": ["x"], "out_channels": 4, "kernel": 3, "padding": 1},
    {"name": "r1", "kind": "activation", "inputs": ["c1"]},
    {"name": "p", "kind": "pool", "inputs": ["r1"], "mode": "max", "kernel": 2, "stride": 2},
    {"name": "f", "kind": "flatten", "inputs": ["p"]},
    {"name": "fc", "kind": "linear", "inputs": ["f"], "out_features": 10, "bias": true},
    {"name": "loss", "kind": "softmax", "inputs": ["fc"]}
  ]
})";

}  // namespace

TEST_CASE("a JSON graph file gives the layers, defaults and shapes it describes") {
  const Graph g = graph_from_json(kTinyJson, "tiny.json");
  REQUIRE(g.size() == 7);
  const Layer& c1 = g.layer(1);
  CHECK((c1.kind == LayerKind::Conv2d && c1.stride == 1 && c1.groups == 1 && !c1.bias));
  CHECK(g.layer(3).out_shape == Shape{{4, 4, 4}});
  CHECK(g.layer(6).out_shape == Shape{{10}});
  // conv 8x8x4 of 3x3x3 plus fc 64x10.
  CHECK(network_stats(g).forward_macs == 8 * 8 * 4 * 27 + 64 * 10);
}

TEST_CASE("every zoo network survives a JSON round trip") {
  for (const auto& e : zoo()) {
    INFO(e.name);
    const Graph g = make_model(e.name);
    const Graph back = graph_from_json(graph_to_json(g), "roundtrip");
    check_same_graph(g, back);
    CHECK(network_stats(back).forward_macs == network_stats(g).forward_macs);
  }
}

TEST_CASE("a graph written to a file reads back, and YAML spells the same graph") {
  const Graph g = make_model("mobilenetv2");
  const auto path =
      (std::filesystem::temp_directory_path() / ("lpsim_models_test_mnv2_" + std::to_string(getpid()) + ".json")).string();
  write_graph_file(path, g);
  check_same_graph(g, read_graph_file(path));
  std::remove(path.c_str());

  const std::string yaml = R"(
name: tiny
layers:
  - {name: x, kind: input, shape: [3, 8, 8]}
  - {name: c1, kind: conv2d, inputs: [x], out_channels: 4, kernel: 3, padding: 1}
  - {name: r1, kind: activation, inputs: [c1], function: "relu"}
  - {name: p, kind: pool, inputs: [r1], mode: max, kernel: [2, 2], stride: 2}
  - {name: f, kind: flatten, inputs: [p]}
  - {name: fc, kind: linear, inputs: [f], out_features: 10, bias: true}
  - {name: loss, kind: softmax, inputs: [fc]}
)";
  const auto ypath = temp_file("tiny.yaml", yaml);
  check_same_graph(read_graph_file(ypath), graph_from_json(kTinyJson, "tiny.json"));
  std::remove(ypath.c_str());
}

TEST_CASE("graph file errors name the file, the layer and the key") {
  auto layers = [](const std::string& extra) {
    return R"({"layers": [{"name": "x", "kind": "input", "shape": [3, 8, 8]},)" + extra + "]}";
  };
  CHECK_THROWS_WITH(
      graph_from_json(
          layers(
              R"({"name": "c", "kind": "conv2d", "inputs": ["x"], "out_channels": 4, "kernel": -3})"),
          "net.json"),
      Catch::StartsWith("net.json: layers[1] ('c'): key 'kernel'"));
  CHECK_THROWS_WITH(
      graph_from_json(layers(R"({"name": "c", "kind": "conv2d", "inputs": ["x"], "kernel": 3})"),
                      "net.json"),
      Catch::Contains("('c'): key 'out_channels': missing"));
  CHECK_THROWS_WITH(
      graph_from_json(
          layers(
              R"({"name": "c", "kind": "conv2d", "inputs": ["x"], "out_channels": 4, "kernel": 3, "strdie": 2})"),
          "net.json"),
      Catch::Contains("key 'strdie': unknown"));
  CHECK_THROWS_WITH(
      graph_from_json(layers(R"({"name": "c", "kind": "convolution", "inputs": ["x"]})"),
                      "net.json"),
      Catch::Contains("'convolution' unknown") && Catch::Contains("conv2d"));
  CHECK_THROWS_WITH(
      graph_from_json(layers(R"({"name": "c", "kind": "add", "inputs": ["x", "y"]})"), "net.json"),
      Catch::Contains("key 'inputs'") && Catch::Contains("\"y\""));
  CHECK_THROWS_WITH(
      graph_from_json(
          layers(R"({"name": "c", "kind": "linear", "inputs": ["x"], "out_features": 4.5})"),
          "net.json"),
      Catch::Contains("key 'out_features'"));
  // Shape errors come from inference, prefixed with the file.
  CHECK_THROWS_WITH(
      graph_from_json(
          layers(
              R"({"name": "c", "kind": "conv2d", "inputs": ["x"], "out_channels": 4, "kernel": 3, "groups": 2})"),
          "net.json"),
      Catch::StartsWith("net.json: layer 'c':"));
  CHECK_THROWS_WITH(graph_from_json("{\"layers\": [\n  {\"name\": }", "net.json"),
                    Catch::StartsWith("net.json:2: invalid JSON"));
  CHECK_THROWS_WITH(graph_from_json(R"({"version": 2, "layers": []})", "net.json"),
                    Catch::Contains("key 'version'"));
  CHECK_THROWS_WITH(read_graph_file("/nonexistent/net.json"),
                    Catch::StartsWith("/nonexistent/net.json: cannot open"));
  CHECK_THROWS_WITH(read_graph_file("net.txt"), Catch::Contains("use .json, .yaml or .yml"));
}

TEST_CASE("a SCALE-Sim topology becomes independent conv layers without padding") {
  const Graph g = read_topology_csv(LPSIM_SOURCE_DIR "/tests/models/data/scalesim_example.csv");
  REQUIRE(g.size() == 6);
  CHECK(g.name() == "scalesim_example");
  const Layer& conv1 = g.layer(g.find("Conv1"));
  CHECK(conv1.in_shapes[0] == Shape{{3, 230, 230}});
  // (230 - 7) / 2 + 1 = 112
  CHECK(conv1.out_shape == Shape{{64, 112, 112}});
  CHECK(g.inputs(g.find("Conv2_1")) == std::vector<int>{g.find("Conv2_1.ifmap")});
  // Forward MACs: OH*OW*K*K*C*F per row: 112^2*7^2*3*64, 56^2*3^2*64*64, 512*1000.
  CHECK(network_stats(g).forward_macs ==
        112 * 112 * 49 * 3 * 64 + 56 * 56 * 9 * 64 * 64 + 1 * 1 * 512 * 1000);
}

TEST_CASE("a topology's rows after the first get backward-data ops, the first does not") {
  const Graph g = read_topology_csv(LPSIM_SOURCE_DIR "/tests/models/data/scalesim_example.csv");
  const auto ops = expand_training_step(g, 1);
  auto has_bwd_data = [&](const std::string& name) {
    for (const Op& op : ops)
      if (op.kind == OpKind::Gemm && op.phase == Phase::BwdData && op.layer == g.find(name))
        return true;
    return false;
  };
  CHECK_FALSE(has_bwd_data("Conv1"));
  CHECK(has_bwd_data("Conv2_1"));
  CHECK(has_bwd_data("FC1"));
  // Training MACs: three passes of every row's forward MACs, less Conv1's bwd_data.
  const std::int64_t conv1 = 112 * 112 * 49 * 3 * 64;
  CHECK(network_stats(g).training_macs == 3 * network_stats(g).forward_macs - conv1);
}

TEST_CASE("topology rows with bad values are rejected with the file, line and column") {
  const auto bad = temp_file("bad.csv",
                             "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, "
                             "Channels, Num Filter, Strides,\nc1, 8, 8, 3, 3, 3, 4, 1,\n"
                             "c2, 8, 8, x, 3, 3, 4, 1,\n");
  CHECK_THROWS_WITH(
      read_topology_csv(bad),
      Catch::EndsWith("bad.csv:3: column 'Filter Height' = 'x': must be an integer >= 1"));
  const auto short_row = temp_file("short.csv", "name,h,w\nc1, 8, 8, 3\n");
  CHECK_THROWS_WITH(read_topology_csv(short_row), Catch::Contains("short.csv:2: 4 columns"));
  const auto big_filter =
      temp_file("big.csv", "Layer name,a,b,c,d,e,f,g\nc1, 4, 4, 5, 5, 3, 4, 1\n");
  CHECK_THROWS_WITH(read_topology_csv(big_filter), Catch::Contains("big.csv:2: layer 'c1'"));
  for (const auto& p : {bad, short_row, big_filter}) std::remove(p.c_str());
}

TEST_CASE(
    "a topology's optional W Bits, A Bits and Groups columns set each layer's widths and groups") {
  // Header names in any case and order after Strides; an empty cell or a row
  // that stops early leaves the column unset (0 bits = the run's precision).
  const auto path = temp_file("extra.csv",
                              "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, "
                              "Channels, Num Filter, Strides, groups, w bits, A BITS,\n"
                              "conv1, 227, 227, 11, 11, 3, 96, 4, 1, 8, 8,\n"
                              "conv2, 31, 31, 5, 5, 96, 256, 1, 2, 4, 4,\n"
                              "conv3, 15, 15, 3, 3, 256, 384, 1, , 2,\n"
                              "fc1, 1, 1, 1, 1, 4096, 1000, 1,\n");
  const Graph g = read_topology_csv(path);
  const Layer& conv1 = g.layer(g.find("conv1"));
  const Layer& conv2 = g.layer(g.find("conv2"));
  const Layer& conv3 = g.layer(g.find("conv3"));
  const Layer& fc1 = g.layer(g.find("fc1"));
  CHECK((conv1.w_bits == 8 && conv1.a_bits == 8 && conv1.groups == 1));
  CHECK((conv2.w_bits == 4 && conv2.a_bits == 4 && conv2.groups == 2));
  CHECK((conv3.w_bits == 2 && conv3.a_bits == 0 && conv3.groups == 1));
  CHECK((fc1.w_bits == 0 && fc1.a_bits == 0 && fc1.groups == 1));
  // Groups divide the reduction: conv2 is two 48-channel convs of 128 filters,
  // 27 x 27 outputs each: 27^2 * 5^2 * (96 / 2) * 256 MACs.
  CHECK(conv2.out_shape == Shape{{256, 27, 27}});
  CHECK(conv2.parameters() == 256 * (96 / 2) * 5 * 5);
  const auto ops = expand_forward(g, 1);
  std::int64_t conv2_macs = 0;
  for (const Op& op : ops)
    if (op.kind == OpKind::Gemm && op.layer == g.find("conv2")) conv2_macs += op.macs();
  CHECK(conv2_macs == std::int64_t{27} * 27 * 25 * 48 * 256);

  // The widths survive the graph format (JSON and YAML spellings).
  const Graph back = graph_from_json(graph_to_json(g), "roundtrip");
  check_same_graph(g, back);
  const std::string yaml = R"(
layers:
  - {name: x, kind: input, shape: [3, 8, 8]}
  - {name: c1, kind: conv2d, inputs: [x], out_channels: 4, kernel: 3, w_bits: 2, a_bits: 8}
  - {name: f, kind: flatten, inputs: [c1]}
  - {name: fc, kind: linear, inputs: [f], out_features: 10, w_bits: 8}
)";
  const Graph y = graph_from_yaml(yaml, "widths.yaml");
  CHECK((y.layer(1).w_bits == 2 && y.layer(1).a_bits == 8));
  CHECK((y.layer(3).w_bits == 8 && y.layer(3).a_bits == 0));
  check_same_graph(y, graph_from_json(graph_to_json(y), "roundtrip"));
  // Out of range in a graph file: the same 1..64 as the CSV.
  CHECK_THROWS_WITH(
      graph_from_json(
          R"({"layers": [{"name": "x", "kind": "input", "shape": [4]},
                         {"name": "fc", "kind": "linear", "inputs": ["x"], "out_features": 2, "w_bits": 65}]})",
          "net.json"),
      Catch::Contains("net.json: layers[1] ('fc'): key 'w_bits': 65: must be an integer 1..64"));
  CHECK_THROWS_WITH(
      graph_from_json(R"({"layers": [{"name": "x", "kind": "input", "shape": [4], "a_bits": 4}]})",
                      "net.json"),
      Catch::Contains("key 'a_bits': unknown for this layer kind"));
  std::remove(path.c_str());
}

TEST_CASE("a topology's optional columns are refused when out of range, unnamed or unknown") {
  const std::string head =
      "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, "
      "Strides, W Bits, A Bits, Groups\n";
  auto error_of = [&](const std::string& name, const std::string& text) -> std::string {
    const auto p = temp_file(name, text);
    try {
      read_topology_csv(p);
    } catch (const InputError& e) {
      std::remove(p.c_str());
      return e.what();
    }
    std::remove(p.c_str());
    FAIL("no InputError for " << name);
    return "";
  };
  CHECK_THAT(error_of("w0.csv", head + "c1, 8, 8, 3, 3, 4, 8, 1, 0, 8, 1\n"),
             Catch::EndsWith("w0.csv:2: layer 'c1': column 'W Bits' = '0': must be an integer "
                             "1..64 (bits; an empty cell is the run's precision)"));
  CHECK_THAT(error_of("a65.csv", head + "c1, 8, 8, 3, 3, 4, 8, 1, 8, 65, 1\n"),
             Catch::Contains("a65.csv:2: layer 'c1': column 'A Bits' = '65': must be an integer "
                             "1..64"));
  CHECK_THAT(error_of("wfrac.csv", head + "c1, 8, 8, 3, 3, 4, 8, 1, 4.5, 8, 1\n"),
             Catch::Contains("column 'W Bits' = '4.5': must be an integer 1..64"));
  CHECK_THAT(error_of("g3.csv", head + "c1, 8, 8, 3, 3, 4, 8, 1, 8, 8, 3\n"),
             Catch::EndsWith("g3.csv:2: layer 'c1': column 'Groups' = '3': must be an integer "
                             "1..16777216 that divides Channels (4) and Num Filter (8)"));
  CHECK_THAT(error_of("g0.csv", head + "c1, 8, 8, 3, 3, 4, 8, 1, 8, 8, 0\n"),
             Catch::Contains("column 'Groups' = '0'"));
  CHECK_THAT(error_of("long.csv", head + "c1, 8, 8, 3, 3, 4, 8, 1, 8, 8, 1, 7\n"),
             Catch::Contains("long.csv:2: 12 columns; a topology row has 8 to 11"));
  CHECK_THAT(error_of("nohead.csv", "c1, 8, 8, 3, 3, 4, 8, 1, 8\n"),
             Catch::Contains("nohead.csv:1: 9 columns; a topology row has 8") &&
                 Catch::Contains("when the header names them"));
  CHECK_THAT(error_of("unknown.csv",
                      "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, "
                      "Channels, Num Filter, Strides, Sparsity\nc1, 8, 8, 3, 3, 4, 8, 1, 1\n"),
             Catch::Contains("unknown.csv:1: header column 9 = 'Sparsity': unknown"));
  CHECK_THAT(error_of("twice.csv",
                      "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, "
                      "Channels, Num Filter, Strides, W Bits, w bits\nc1, 8, 8, 3, 3, 4, 8, 1\n"),
             Catch::Contains("twice.csv:1: header column 10 = 'w bits': named twice"));
}
