// The layer kinds and window fields imported networks need (docs/models.md):
// matmul, elementwise, reduce, reshape, transpose, copy, concat's axis, the
// new activation functions, per-axis strides / padding and dilation; their
// shapes, parameters, op expansion and graph-file round trip.
#include <catch2/catch.hpp>

#include "core/error.h"
#include "models/graph_io.h"
#include "models/training_step.h"

using namespace lpsim;

namespace {

Graph read(const std::string& layers) {
  return graph_from_json(R"({"name":"g","layers":[)" + layers + "]}", "g.json");
}

std::vector<Op> ops_of(const Graph& g, const std::string& layer, std::int64_t batch = 2) {
  std::vector<Op> out;
  for (const Op& op : expand_training_step(g, batch))
    if (g.layer(op.layer).name == layer) out.push_back(op);
  return out;
}

void check_round_trip(const Graph& g) {
  for (const Graph& back :
       {graph_from_json(graph_to_json(g), "b.json"), graph_from_yaml(graph_to_yaml(g), "b.yaml")}) {
    REQUIRE(back.size() == g.size());
    CHECK(graph_to_json(back) == graph_to_json(g));
  }
}

}  // namespace

TEST_CASE("matmul: a batched GEMM of two activations, both gradients in bwd_data") {
  const Graph g = read(R"(
    {"name":"q","kind":"input","shape":[4,16,8],"input_grad":true},
    {"name":"k","kind":"input","shape":[4,8,16],"input_grad":true},
    {"name":"s","kind":"matmul","inputs":["q","k"]})");
  CHECK(g.layer(2).out_shape == Shape{{4, 16, 16}});
  const auto ops = ops_of(g, "s", 3);
  REQUIRE(ops.size() == 3);
  CHECK(ops[0].phase == Phase::Fwd);
  CHECK((ops[0].m == 16 && ops[0].n == 16 && ops[0].k == 8 && ops[0].repeat == 12));
  CHECK((ops[0].lhs_role == Role::A && ops[0].rhs_role == Role::A));
  CHECK(ops[1].phase == Phase::BwdData);
  CHECK(ops[1].macs() == ops[0].macs());
  CHECK(ops[2].macs() == ops[0].macs());
  CHECK(network_stats(g).forward_macs == 4 * 16 * 16 * 8);
  CHECK(network_stats(g).parameters == 0);
  check_round_trip(g);
  CHECK_THROWS_WITH(read(R"({"name":"a","kind":"input","shape":[4,5]},
                          {"name":"b","kind":"input","shape":[4,5]},
                          {"name":"m","kind":"matmul","inputs":["a","b"]})"),
                    Catch::Contains("layer 'm'") && Catch::Contains("inner dimensions differ"));
}

TEST_CASE("elementwise: broadcasting, a learnable operand's parameters and gradient") {
  const Graph g = read(R"(
    {"name":"x","kind":"input","shape":[8,16]},
    {"name":"fc","kind":"linear","inputs":["x"],"out_features":16},
    {"name":"mean","kind":"reduce","inputs":["fc"],"function":"mean","axes":[1]},
    {"name":"centred","kind":"elementwise","inputs":["fc","mean"],"function":"sub"},
    {"name":"scale","kind":"elementwise","inputs":["centred"],"function":"mul","operand":[16],"learnable":true},
    {"name":"half","kind":"elementwise","inputs":["scale"],"function":"mul"})");
  CHECK(g.layer(2).out_shape == Shape{{8, 1}});
  CHECK(g.layer(3).out_shape == Shape{{8, 16}});
  CHECK(g.layer(4).parameters() == 16);
  CHECK(g.layer(5).parameters() == 0);
  const auto scale = ops_of(g, "scale");
  // fwd, bwd_data (E * operand), bwd_weight (E * x and the sum), sgd.
  REQUIRE(scale.size() == 4);
  CHECK(scale[0].element_ops() == 2 * 128);
  CHECK(scale[1].phase == Phase::BwdData);
  CHECK(scale[2].phase == Phase::BwdWeight);
  CHECK(scale[2].element_ops() == 2 * 2 * 128);
  CHECK(scale[2].writes.at(0).elements == 16);
  CHECK(scale[3].phase == Phase::Update);
  // sub: the subtrahend (mean, broadcast over 16) gets -E summed: 2 ops per output.
  const auto centred = ops_of(g, "centred");
  REQUIRE(centred.size() == 2);
  CHECK(centred[1].element_ops() == 2 * 2 * 128);
  CHECK(centred[1].writes.at(0).elements == 2 * 8);
  const auto mean = ops_of(g, "mean");
  CHECK(mean[0].element_ops() == 2 * 128);
  check_round_trip(g);
  CHECK_THROWS_WITH(read(R"({"name":"x","kind":"input","shape":[3,4]},
                          {"name":"e","kind":"elementwise","inputs":["x"],"function":"mul","operand":[5]})"),
                    Catch::Contains("do not broadcast"));
  CHECK_THROWS_WITH(read(R"({"name":"x","kind":"input","shape":[3,4]},
                          {"name":"e","kind":"elementwise","inputs":["x"],"function":"mod"})"),
                    Catch::Contains("function 'mod' unknown") && Catch::Contains("add, sub"));
}

TEST_CASE("reshape is free, transpose and copy move the data") {
  const Graph g = read(R"(
    {"name":"x","kind":"input","shape":[6,4]},
    {"name":"fc","kind":"linear","inputs":["x"],"out_features":4},
    {"name":"r","kind":"reshape","inputs":["fc"],"shape":[2,3,4]},
    {"name":"t","kind":"transpose","inputs":["r"],"perm":[2,0,1]},
    {"name":"c","kind":"copy","inputs":["t"],"shape":[4,2,1]},
    {"name":"b","kind":"copy","inputs":["c"],"shape":[4,2,5]},
    {"name":"j","kind":"concat","inputs":["b","b"],"axis":2})");
  CHECK(g.layer(3).out_shape == Shape{{4, 2, 3}});
  CHECK(g.layer(6).out_shape == Shape{{4, 2, 10}});
  CHECK(ops_of(g, "r").empty());
  const auto t = ops_of(g, "t", 1);
  REQUIRE(t.size() == 2);
  CHECK((t[0].element_ops() == 0 && t[0].reads.at(0).elements == 24));
  const auto b = ops_of(g, "b", 1);  // a broadcast: its backward sums 5 copies
  REQUIRE(b.size() == 3);            // fwd, grad_sum (two uses by concat), bwd
  CHECK(b[2].element_ops() == 8 * 4);
  check_round_trip(g);
  CHECK_THROWS_WITH(read(R"({"name":"x","kind":"input","shape":[6,4]},
                          {"name":"r","kind":"reshape","inputs":["x"],"shape":[5,5]})"),
                    Catch::Contains("layer 'r'") && Catch::Contains("25 elements"));
  CHECK_THROWS_WITH(read(R"({"name":"x","kind":"input","shape":[6,4]},
                          {"name":"t","kind":"transpose","inputs":["x"],"perm":[0,0]})"),
                    Catch::Contains("given twice"));
  CHECK_THROWS_WITH(read(R"({"name":"x","kind":"input","shape":[6,4]},
                          {"name":"j","kind":"concat","inputs":["x","x"],"axis":2})"),
                    Catch::Contains("axis 2 is not an axis"));
}

TEST_CASE("per-axis strides and padding, dilation: shapes, and the zoo's files unchanged") {
  const Graph g = read(R"(
    {"name":"x","kind":"input","shape":[3,9,16]},
    {"name":"c","kind":"conv2d","inputs":["x"],"out_channels":4,"kernel":[1,7],"stride":[1,2],"padding":[0,3]},
    {"name":"d","kind":"conv2d","inputs":["c"],"out_channels":4,"kernel":3,"dilation":2,"padding":[2,2,2,2]},
    {"name":"p","kind":"pool","inputs":["d"],"mode":"max","kernel":2,"stride":2,"padding":[0,0,1,1]})");
  CHECK(g.layer(1).out_shape == Shape{{4, 9, 8}});
  CHECK(g.layer(2).out_shape == Shape{{4, 9, 8}});
  CHECK(g.layer(3).out_shape == Shape{{4, 5, 4}});  // ceil mode as end padding (height)
  CHECK(network_stats(g).forward_macs == 4 * 3 * 7 * 72 + 4 * 4 * 9 * 72);
  check_round_trip(g);
  CHECK_THAT(graph_to_yaml(g), Catch::Contains("padding: [0, 0, 1, 1]") &&
                                   Catch::Contains("stride: [1, 2]") &&
                                   Catch::Contains("dilation: 2"));
  // A square, symmetric window writes as before: scalars, no dilation key.
  const Graph plain = read(R"({"name":"x","kind":"input","shape":[3,8,8]},
    {"name":"c","kind":"conv2d","inputs":["x"],"out_channels":4,"kernel":3,"padding":1})");
  CHECK_THAT(graph_to_json(plain),
             !Catch::Contains("dilation") && Catch::Contains("\"padding\": 1"));
  CHECK_THROWS_WITH(
      read(R"({"name":"x","kind":"input","shape":[3,8,8]},
    {"name":"c","kind":"conv2d","inputs":["x"],"out_channels":4,"kernel":3,"padding":[1,1,1]})"),
      Catch::Contains("key 'padding'") && Catch::Contains("[top, left, bottom, right]"));
  CHECK_THROWS_WITH(read(R"({"name":"x","kind":"input","shape":[3,8,8]},
    {"name":"c","kind":"conv2d","inputs":["x"],"out_channels":4,"kernel":5,"dilation":3})"),
                    Catch::Contains("dilated 3 (13)"));
}

TEST_CASE("the new activation functions have costs both ways") {
  for (const char* f :
       {"clip", "leaky_relu", "hard_sigmoid", "hard_swish", "erf", "sqrt", "square", "exp", "log",
        "neg", "abs", "reciprocal", "softmax", "log_softmax", "dropout"}) {
    INFO(f);
    const Graph g = read(std::string(R"({"name":"x","kind":"input","shape":[10]},
      {"name":"fc","kind":"linear","inputs":["x"],"out_features":10},
      {"name":"a","kind":"activation","inputs":["fc"],"function":")") +
                         f + "\"}");
    const auto ops = ops_of(g, "a", 1);
    REQUIRE(ops.size() == 2);
    CHECK(ops[0].element_ops() > 0);
    CHECK(ops[1].element_ops() > 0);
  }
  CHECK(is_function_of("hard_swish", activation_functions()));
  CHECK_FALSE(is_function_of("hard", activation_functions()));
}
