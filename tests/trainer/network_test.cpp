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

double mean_loss(Network& net, const std::vector<float>& images,
                 const std::vector<std::uint8_t>& labels) {
  const auto b = static_cast<std::int64_t>(labels.size());
  const BatchStats s = net.forward(images.data(), labels.data(), b, PrecisionSet{}, QuantPolicy{}, 0);
  return s.loss_sum / static_cast<double>(b);
}

void check_gradients(bool max_pool) {
  const Graph g = tiny_cnn(max_pool);
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
  check_gradients(true);
}

TEST_CASE("average-pool gradients match finite differences") { check_gradients(false); }

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
  CHECK_THROWS_WITH(Network(make_model("resnet20", "cifar10"), 1, 1),
                    Catch::Contains("batchnorm"));
}
