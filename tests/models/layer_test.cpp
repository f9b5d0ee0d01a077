// Tests for models/layer.h: kind names and parameter counts.
#include "models/layer.h"

#include <catch2/catch.hpp>

#include "core/error.h"

using namespace lpsim;

namespace {

Layer with_input(Layer l, std::vector<std::int64_t> in) {
  l.in_shapes = {Shape{std::move(in)}};
  return l;
}

}  // namespace

TEST_CASE("every layer kind's name parses back to the same kind") {
  for (int k = 0; k <= static_cast<int>(LayerKind::Softmax); ++k) {
    const auto kind = static_cast<LayerKind>(k);
    LayerKind back = LayerKind::Input;
    REQUIRE(layer_kind_from_name(layer_kind_name(kind), back));
    CHECK(back == kind);
  }
  LayerKind unused = LayerKind::Input;
  CHECK_FALSE(layer_kind_from_name("convolution", unused));
}

TEST_CASE("a shape prints as a bracketed list and counts its elements") {
  const Shape s{{16, 32, 32}};
  CHECK(to_string(s) == "[16,32,32]");
  CHECK(s.elements() == 16 * 32 * 32);
}

TEST_CASE("a convolution has Cout x Cin/groups x KH x KW weights plus Cout biases") {
  Layer conv = make_layer("c", LayerKind::Conv2d);
  conv.out_features = 64;
  conv.kernel_h = 3;
  conv.kernel_w = 5;
  conv.groups = 4;
  conv.bias = true;
  CHECK(with_input(conv, {32, 8, 8}).parameters() == 64 * (32 / 4) * 3 * 5 + 64);
}

TEST_CASE("a depthwise convolution has one KH x KW filter per channel") {
  Layer dw = make_layer("dw", LayerKind::Conv2d);
  dw.out_features = 96;
  dw.kernel_h = dw.kernel_w = 3;
  dw.groups = 96;
  CHECK(with_input(dw, {96, 16, 16}).parameters() == 96 * 9);
}

TEST_CASE("linear, norm, LSTM and embedding layers count their learnable scalars") {
  Layer fc = make_layer("fc", LayerKind::Linear);
  fc.out_features = 10;
  fc.bias = true;
  CHECK(with_input(fc, {35, 64}).parameters() == 64 * 10 + 10);

  CHECK(with_input(make_layer("bn", LayerKind::BatchNorm), {32, 8, 8}).parameters() == 2 * 32);
  CHECK(with_input(make_layer("ln", LayerKind::LayerNorm), {35, 512}).parameters() == 2 * 512);

  // PyTorch nn.LSTM: weight_ih 4H x F, weight_hh 4H x H, bias_ih and bias_hh 4H each.
  Layer lstm = make_layer("lstm", LayerKind::LstmCell);
  lstm.out_features = 650;
  lstm.bias = true;
  CHECK(with_input(lstm, {35, 650}).parameters() == 4 * 650 * (650 + 650) + 8 * 650);

  Layer emb = make_layer("emb", LayerKind::Embedding);
  emb.vocab = 10000;
  emb.out_features = 650;
  CHECK(with_input(emb, {35}).parameters() == 10000 * 650);
}

TEST_CASE("layers without weights have no parameters") {
  for (LayerKind k : {LayerKind::Activation, LayerKind::Pool, LayerKind::Add, LayerKind::Softmax,
                      LayerKind::Attention, LayerKind::Flatten}) {
    CHECK(with_input(make_layer("x", k), {4, 4, 4}).parameters() == 0);
  }
}

TEST_CASE(
    "asking a weighted layer for its parameters before shape inference is an internal error") {
  Layer fc = make_layer("fc", LayerKind::Linear);
  fc.out_features = 10;
  CHECK_THROWS_AS(fc.parameters(), InternalError);
}
