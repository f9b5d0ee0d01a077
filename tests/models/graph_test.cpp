// Tests for models/graph.h: construction, traversal and shape inference.
#include "models/graph.h"

#include <catch2/catch.hpp>

#include "core/error.h"

using namespace lpsim;

namespace {

Layer input(const std::string& name, std::vector<std::int64_t> dims) {
  Layer l = make_layer(name, LayerKind::Input);
  l.out_shape.dims = std::move(dims);
  return l;
}

Layer conv(const std::string& name, std::int64_t out, std::int64_t k, std::int64_t stride,
           std::int64_t pad, std::int64_t groups = 1) {
  Layer l = make_layer(name, LayerKind::Conv2d);
  l.out_features = out;
  l.kernel_h = l.kernel_w = k;
  l.stride = stride;
  l.padding = pad;
  l.groups = groups;
  return l;
}

}  // namespace

TEST_CASE("a convolution's output size is floor((H + 2p - K) / s) + 1") {
  Graph g("t");
  const int x = g.add(input("x", {3, 33, 32}));
  const int c = g.add(conv("c", 8, 3, 2, 1), {x});
  g.infer_shapes();
  // (33 + 2 - 3) / 2 + 1 = 17, (32 + 2 - 3) / 2 + 1 = 16
  CHECK(g.layer(c).out_shape == Shape{{8, 17, 16}});
  CHECK(g.layer(c).in_shapes == std::vector<Shape>{Shape{{3, 33, 32}}});
}

TEST_CASE("pooling, flatten, linear, concat and global pooling infer their shapes") {
  Graph g("t");
  const int x = g.add(input("x", {4, 8, 8}));
  Layer pool = make_layer("pool", LayerKind::Pool);
  pool.kernel_h = pool.kernel_w = 2;
  pool.stride = 2;
  const int p = g.add(pool, {x});
  const int c = g.add(conv("c", 6, 1, 2, 0), {x});
  const int cat = g.add(make_layer("cat", LayerKind::Concat), {p, c});
  Layer gp = make_layer("gp", LayerKind::Pool);
  gp.pool_global = true;
  const int gpi = g.add(gp, {cat});
  const int f = g.add(make_layer("flat", LayerKind::Flatten), {gpi});
  Layer fc = make_layer("fc", LayerKind::Linear);
  fc.out_features = 3;
  const int fci = g.add(fc, {f});
  g.infer_shapes();
  CHECK(g.layer(p).out_shape == Shape{{4, 4, 4}});
  CHECK(g.layer(cat).out_shape == Shape{{10, 4, 4}});
  CHECK(g.layer(gpi).out_shape == Shape{{10, 1, 1}});
  CHECK(g.layer(f).out_shape == Shape{{10}});
  CHECK(g.layer(fci).out_shape == Shape{{3}});
}

TEST_CASE("sequence layers map [T] to [T,D] and [T,F] to [T,H]") {
  Graph g("t");
  const int x = g.add(input("tokens", {35}));
  Layer emb = make_layer("emb", LayerKind::Embedding);
  emb.vocab = 100;
  emb.out_features = 16;
  const int e = g.add(emb, {x});
  Layer lstm = make_layer("lstm", LayerKind::LstmCell);
  lstm.out_features = 24;
  const int h = g.add(lstm, {e});
  Layer att = make_layer("att", LayerKind::Attention);
  att.heads = 4;
  const int a = g.add(att, {h});
  const int ln = g.add(make_layer("ln", LayerKind::LayerNorm), {a});
  Layer fc = make_layer("fc", LayerKind::Linear);
  fc.out_features = 100;
  const int out = g.add(fc, {ln});
  g.infer_shapes();
  CHECK(g.layer(e).out_shape == Shape{{35, 16}});
  CHECK(g.layer(h).out_shape == Shape{{35, 24}});
  CHECK(g.layer(a).out_shape == Shape{{35, 24}});
  CHECK(g.layer(out).out_shape == Shape{{35, 100}});
}

TEST_CASE("adding tensors of different shapes is rejected naming the layer and both shapes") {
  Graph g("t");
  const int x = g.add(input("x", {16, 32, 32}));
  const int c = g.add(conv("c", 32, 3, 2, 1), {x});
  g.add(make_layer("res2.add", LayerKind::Add), {x, c});
  CHECK_THROWS_WITH(g.infer_shapes(),
                    "layer 'res2.add': input shapes [16,32,32] and [32,16,16] differ");
}

TEST_CASE("bad layer parameters are rejected naming the layer") {
  SECTION("groups that do not divide the channels") {
    Graph g("t");
    g.add(conv("dw", 8, 3, 1, 1, 3), {g.add(input("x", {4, 8, 8}))});
    CHECK_THROWS_WITH(g.infer_shapes(), Catch::Contains("layer 'dw'") && Catch::Contains("groups"));
  }
  SECTION("a kernel larger than the padded input") {
    Graph g("t");
    g.add(conv("big", 8, 7, 1, 0), {g.add(input("x", {4, 5, 5}))});
    CHECK_THROWS_WITH(g.infer_shapes(), Catch::Contains("layer 'big'"));
  }
  SECTION("a convolution over a vector") {
    Graph g("t");
    g.add(conv("c", 8, 1, 1, 0), {g.add(input("x", {10}))});
    CHECK_THROWS_WITH(g.infer_shapes(), Catch::Contains("layer 'c'") && Catch::Contains("[C,H,W]"));
  }
  SECTION("heads that do not divide the width") {
    Graph g("t");
    Layer att = make_layer("att", LayerKind::Attention);
    att.heads = 5;
    g.add(att, {g.add(input("x", {10, 16}))});
    CHECK_THROWS_WITH(g.infer_shapes(), Catch::Contains("layer 'att'") && Catch::Contains("heads"));
  }
  SECTION("an unknown activation") {
    Graph g("t");
    Layer act = make_layer("act", LayerKind::Activation);
    act.activation = "swish";
    g.add(act, {g.add(input("x", {10}))});
    CHECK_THROWS_WITH(g.infer_shapes(), Catch::Contains("layer 'act'") && Catch::Contains("swish"));
  }
  SECTION("an add with one input") {
    Graph g("t");
    g.add(make_layer("add", LayerKind::Add), {g.add(input("x", {10}))});
    CHECK_THROWS_WITH(g.infer_shapes(),
                      Catch::Contains("layer 'add'") && Catch::Contains("inputs"));
  }
}

TEST_CASE("layer names are unique and inputs must be earlier layers") {
  Graph g("t");
  g.add(input("x", {3}));
  CHECK_THROWS_AS(g.add(input("x", {3})), InputError);
  CHECK_THROWS_AS(g.add(make_layer("y", LayerKind::Activation), {5}), InputError);
}

TEST_CASE("the graph reports inputs in order, consumers and a topological order") {
  Graph g("t");
  const int x = g.add(input("x", {4}));
  const int a = g.add(make_layer("a", LayerKind::Activation), {x});
  const int s = g.add(make_layer("s", LayerKind::Add), {a, x});
  CHECK(g.inputs(s) == std::vector<int>{a, x});
  CHECK(g.consumers(x) == std::vector<int>{a, s});
  CHECK(g.find("s") == s);
  CHECK(g.find("nope") == -1);
  const auto order = g.topological_order();
  REQUIRE(order.size() == 3);
  CHECK(order.front() == x);
  CHECK(order.back() == s);
}
