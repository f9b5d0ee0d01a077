// Layers' backward passes against finite differences of the loss.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "core/error.h"
#include "models/zoo.h"
#include "trainer/network.h"

using namespace lpsim;
using namespace lpsim::trainer;

namespace {

// input 2x6x6 - conv 3x3 (3 ch, pad 1, bias) - relu - pool (kind) 2 -
// flatten - linear 4 (bias) - softmax
Graph tiny_cnn(bool max_pool) {
  Graph g("tiny");
  Layer in = make_layer("input", LayerKind::Input);
  in.out_shape = Shape{{2, 6, 6}};
  int x = g.add(in);
  Layer conv = make_layer("conv", LayerKind::Conv2d);
  conv.out_features = 3;
  conv.kernel_h = conv.kernel_w = 3;
  conv.padding = 1;
  conv.bias = true;
  x = g.add(conv, {x});
  x = g.add(make_layer("relu", LayerKind::Activation), {x});
  Layer pool = make_layer("pool", LayerKind::Pool);
  pool.kernel_h = pool.kernel_w = 2;
  pool.stride = 2;
  pool.pool_max = max_pool;
  x = g.add(pool, {x});
  x = g.add(make_layer("flatten", LayerKind::Flatten), {x});
  Layer fc = make_layer("fc", LayerKind::Linear);
  fc.out_features = 4;
  fc.bias = true;
  x = g.add(fc, {x});
  g.add(make_layer("loss", LayerKind::Softmax), {x});
  g.infer_shapes();
  return g;
}

// input 2x6x6 - conv 3x3 (3 ch, pad 1) - BN - relu = r; conv 3x3 (3) - BN - add r -
// global average pool - flatten - linear 4 (bias) - softmax: a residual block. No
// ReLU after the add: BN amplifies a weight's nudge, and a ReLU input crossing zero
// there would spoil finite differences of conv2's weights (tested with one: a few
// of them then miss by up to 20% at h = 3e-3, all pass at 3e-4).
Graph tiny_resnet() {
  Graph g("tiny-res");
  Layer in = make_layer("input", LayerKind::Input);
  in.out_shape = Shape{{2, 6, 6}};
  int x = g.add(in);
  auto conv = [&](const std::string& name, int from) {
    Layer c = make_layer(name, LayerKind::Conv2d);
    c.out_features = 3;
    c.kernel_h = c.kernel_w = 3;
    c.padding = 1;
    return g.add(c, {from});
  };
  int r = g.add(make_layer("bn1", LayerKind::BatchNorm), {conv("conv1", x)});
  r = g.add(make_layer("relu1", LayerKind::Activation), {r});
  int y = g.add(make_layer("bn2", LayerKind::BatchNorm), {conv("conv2", r)});
  y = g.add(make_layer("add", LayerKind::Add), {y, r});
  Layer pool = make_layer("pool", LayerKind::Pool);
  pool.pool_global = true;
  pool.pool_max = false;
  y = g.add(pool, {y});
  y = g.add(make_layer("flatten", LayerKind::Flatten), {y});
  Layer fc = make_layer("fc", LayerKind::Linear);
  fc.out_features = 4;
  fc.bias = true;
  y = g.add(fc, {y});
  g.add(make_layer("loss", LayerKind::Softmax), {y});
  g.infer_shapes();
  return g;
}

double mean_loss(Network& net, const std::vector<float>& images,
                 const std::vector<std::uint8_t>& labels) {
  const auto b = static_cast<std::int64_t>(labels.size());
  const BatchStats s = net.forward(images.data(), labels.data(), b, PrecisionSet{}, QuantPolicy{}, 0);
  return s.loss_sum / static_cast<double>(b);
}

void check_gradients(const Graph& g) {
  Network net(g, 3, 1);
  const std::int64_t batch = 5;  // not a multiple of kChunk's divisors: a short chunk too
  std::vector<float> images(static_cast<std::size_t>(batch * 72));
  for (std::size_t i = 0; i < images.size(); ++i)
    images[i] = std::sin(0.7f * static_cast<float>(i)) + 0.1f * std::cos(3.1f * static_cast<float>(i));
  const std::vector<std::uint8_t> labels = {0, 3, 1, 2, 3};
  mean_loss(net, images, labels);
  net.backward(PrecisionSet{}, QuantPolicy{}, 0);
  int checked = 0;
  for (Param* p : net.params()) {
    const std::vector<float> analytic = p->grad;
    for (std::size_t i = 0; i < p->value.size(); i += 7) {
      const float w = p->value[i];
      const float h = 1e-3f;
      p->value[i] = w + h;
      const double up = mean_loss(net, images, labels);
      p->value[i] = w - h;
      const double down = mean_loss(net, images, labels);
      p->value[i] = w;
      const double numeric = (up - down) / (2.0 * h);
      INFO(p->name << "[" << i << "]: analytic " << analytic[i] << ", numeric " << numeric);
      // Central differences are O(h^2) accurate; float32 losses add ~1e-7 * loss / h
      // (~2e-4) of noise; h small enough that no ReLU or max-pool input crosses a kink.
      CHECK(std::fabs(analytic[i] - numeric) <= 3e-4 + 1e-2 * std::fabs(numeric));
      ++checked;
    }
  }
  CHECK(checked > 20);
}

}  // namespace

TEST_CASE("conv, ReLU, max pool and linear gradients match finite differences") {
  check_gradients(tiny_cnn(true));
}

TEST_CASE("average-pool gradients match finite differences") { check_gradients(tiny_cnn(false)); }

TEST_CASE("batch norm and residual-add gradients match finite differences") {
  // The loss depends on every sample through the batch statistics; the check
  // covers conv weights upstream of two BNs and the add, and BN's scale and shift.
  check_gradients(tiny_resnet());
}

TEST_CASE("batch norm normalises with batch statistics and keeps PyTorch's running ones") {
  // input 2x1x2 - BN - flatten - linear 3 - softmax. Channel 0 of the three
  // samples holds {1, 3, 5, 7, 9, 11}: mean 6, biased variance 35/3, unbiased 14.
  Graph g("bn");
  Layer in = make_layer("input", LayerKind::Input);
  in.out_shape = Shape{{2, 1, 2}};
  int x = g.add(make_layer("bn", LayerKind::BatchNorm), {g.add(in)});
  x = g.add(make_layer("flatten", LayerKind::Flatten), {x});
  Layer fc = make_layer("fc", LayerKind::Linear);
  fc.out_features = 3;
  x = g.add(fc, {x});
  g.add(make_layer("loss", LayerKind::Softmax), {x});
  g.infer_shapes();
  Network net(g, 1, 1);
  // Sample s: channel 0 = {1 + 4s, 3 + 4s}, channel 1 = {2, 2} (constant: variance 0).
  const std::vector<float> images = {1, 3, 2, 2, 5, 7, 2, 2, 9, 11, 2, 2};
  const std::vector<std::uint8_t> labels = {0, 1, 2};
  net.forward(images.data(), labels.data(), 3, PrecisionSet{}, QuantPolicy{}, 0);
  const auto out = net.tensors_of("bn").out;
  const double sd = std::sqrt(35.0 / 3.0 + 1e-5);
  CHECK_THAT(out[0], Catch::Matchers::WithinAbs((1 - 6) / sd, 1e-6));
  CHECK_THAT(out[9], Catch::Matchers::WithinAbs((11 - 6) / sd, 1e-6));
  CHECK(out[2] == 0.0f);  // a constant channel normalises to beta = 0
  // running = 0.9 running + 0.1 batch: mean 0 -> 0.6, var 1 -> 0.9 + 1.4 = 2.3; channel 1: 0.2, 0.9.
  const auto buffers = net.buffers();
  REQUIRE(buffers.size() == 2);
  CHECK(buffers[0]->name == "bn.running_mean");
  CHECK_THAT(buffers[0]->value[0], Catch::Matchers::WithinAbs(0.6, 1e-6));
  CHECK_THAT(buffers[0]->value[1], Catch::Matchers::WithinAbs(0.2, 1e-6));
  CHECK_THAT(buffers[1]->value[0], Catch::Matchers::WithinAbs(2.3, 1e-6));
  CHECK_THAT(buffers[1]->value[1], Catch::Matchers::WithinAbs(0.9, 1e-6));
  // Evaluation uses the running statistics and leaves them alone.
  net.forward(images.data(), labels.data(), 3, PrecisionSet{}, QuantPolicy{}, 0, Mode::Eval);
  CHECK_THAT(net.tensors_of("bn").out[0], Catch::Matchers::WithinAbs((1 - 0.6) / std::sqrt(2.3 + 1e-5), 1e-6));
  CHECK_THAT(buffers[0]->value[0], Catch::Matchers::WithinAbs(0.6, 1e-6));
  // Momentum 1, then 1/2: the plain average of two batches' statistics. The
  // second batch (channel 0 = {0, 2, 4, 6, 8, 10}: mean 5, unbiased var 14) with
  // the first (mean 6, var 14): mean 5.5, var 14.
  std::vector<float> shifted = images;
  for (std::size_t s = 0; s < 3; ++s) shifted[s * 4] -= 1, shifted[s * 4 + 1] -= 1;
  net.set_bn_momentum(1.0);
  net.forward(images.data(), labels.data(), 3, PrecisionSet{}, QuantPolicy{}, 0);
  net.set_bn_momentum(0.5);
  net.forward(shifted.data(), labels.data(), 3, PrecisionSet{}, QuantPolicy{}, 0);
  CHECK_THAT(buffers[0]->value[0], Catch::Matchers::WithinAbs(5.5, 1e-6));
  CHECK_THAT(buffers[1]->value[0], Catch::Matchers::WithinAbs(14.0, 1e-5));
}

TEST_CASE("backward reports E and G overflow so a dynamic scaler can skip the step") {
  const Graph g = tiny_cnn(true);
  Network net(g, 3, 1);
  std::vector<float> images(5 * 72);
  for (std::size_t i = 0; i < images.size(); ++i) images[i] = std::sin(0.3f * static_cast<float>(i));
  const std::vector<std::uint8_t> labels = {0, 3, 1, 2, 3};
  PrecisionSet p;
  p[Role::E] = Format::floating(5, 2);
  p[Role::G] = Format::floating(5, 2);
  QuantPolicy q;
  q.e = q.g = Rounding::Nearest;
  net.forward(images.data(), labels.data(), 5, p, q, 0);
  CHECK(net.backward(p, q, 0) == 0);  // errors below 1 / batch: far from e5m2's 57344
  // Scaled by 2^40 the softmax errors ((p - y) S / 5, some near 2^38) overflow e5m2.
  q.loss_scale = 1099511627776.0f;
  net.forward(images.data(), labels.data(), 5, p, q, 0);
  CHECK(net.backward(p, q, 0) > 0);
}

TEST_CASE("weights start uniform in +-1/sqrt(fan_in), as PyTorch initialises them") {
  Network net(make_model("lenet5", "fashion-mnist"), 1, 1);
  for (Param* p : net.params()) {
    // conv1 fan_in 25 -> 0.2; conv2 150; fc1 400; fc2 120; fc3 84.
    const double fan_in = p->name.starts_with("conv1") ? 25
                          : p->name.starts_with("conv2") ? 150
                          : p->name.starts_with("fc1")   ? 400
                          : p->name.starts_with("fc2")   ? 120
                                                         : 84;
    float lo = 0, hi = 0;
    for (float v : p->value) lo = std::min(lo, v), hi = std::max(hi, v);
    CHECK(hi <= 1 / std::sqrt(fan_in));
    CHECK(-lo <= 1 / std::sqrt(fan_in));
    if (p->value.size() > 100) CHECK(hi > 0.9 / std::sqrt(fan_in));
  }
}

TEST_CASE("one SGD step follows PyTorch's momentum and weight-decay form") {
  Network net(tiny_cnn(true), 1, 1);
  Param* p = net.params().front();
  p->value[0] = 2.0f;
  p->grad[0] = 0.5f;
  p->momentum[0] = 1.0f;
  net.sgd_step(0.1f, 0.9f, 0.01f);
  // v = 0.9 * 1 + (0.5 + 0.01 * 2) = 1.42; w = 2 - 0.1 * 1.42 = 1.858.
  CHECK_THAT(p->momentum[0], Catch::Matchers::WithinAbs(1.42, 1e-6));
  CHECK_THAT(p->value[0], Catch::Matchers::WithinAbs(1.858, 1e-6));
}

TEST_CASE("a network the trainer cannot run is an input error naming the layer") {
  CHECK_THROWS_WITH(Network(make_model("mobilenetv2", "cifar10"), 1, 1),
                    Catch::Contains("grouped convolution"));
  CHECK_NOTHROW(Network(make_model("resnet8-w8", "fashion-mnist"), 1, 1));
}
