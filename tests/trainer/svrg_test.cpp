// SVRG and HALP (trainer/svrg.h): steps against hand-derived softmax
// regression gradients, bit centering, HALP against SVRG as the offset
// widens, and real tiny runs: threads, resume, and the trace's BitOPs.
#include <unistd.h>
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <vector>

#include "core/error.h"
#include "models/training_step.h"
#include "models/zoo.h"
#include "traces/bitops.h"
#include "trainer/svrg.h"
#include "trainer/trainer.h"

using namespace lpsim;
using namespace lpsim::trainer;

namespace {

// input 1x1x2 - flatten - linear 3 (bias) - softmax: softmax regression on
// two features, whose gradient is known in closed form:
//   dL/dW[k][f] = mean over samples of (p_k - [k = y]) x_f,  dL/db[k] = mean of (p_k - [k = y]).
Graph softmax_regression() {
  Graph g("softmax-regression");
  Layer in = make_layer("input", LayerKind::Input);
  in.out_shape = Shape{{1, 1, 2}};
  int x = g.add(in);
  x = g.add(make_layer("flatten", LayerKind::Flatten), {x});
  Layer fc = make_layer("fc", LayerKind::Linear);
  fc.out_features = 3;
  fc.bias = true;
  x = g.add(fc, {x});
  g.add(make_layer("loss", LayerKind::Softmax), {x});
  g.infer_shapes();
  return g;
}

// Three samples of two features.
ImageSet three_samples() {
  ImageSet d;
  d.n = 3;
  d.channels = 1;
  d.height = 1;
  d.width = 2;
  d.images = {0.5f, -1.0f, 2.0f, 0.25f, -0.75f, 1.5f};
  d.labels = {0, 2, 1};
  return d;
}

// Weights W (3x2, row-major) then bias b (3): the closed-form mean gradient
// over the samples `idx` of `d`, in double.
std::vector<double> softmax_gradient(const std::vector<double>& w, const ImageSet& d,
                                     const std::vector<int>& idx) {
  std::vector<double> g(9, 0.0);
  for (int s : idx) {
    const double x0 = d.images[static_cast<std::size_t>(2 * s)],
                 x1 = d.images[static_cast<std::size_t>(2 * s + 1)];
    double z[3], sum = 0;
    for (int k = 0; k < 3; ++k) z[k] = w[static_cast<std::size_t>(2 * k)] * x0 + w[static_cast<std::size_t>(2 * k + 1)] * x1 + w[static_cast<std::size_t>(6 + k)];
    for (int k = 0; k < 3; ++k) sum += std::exp(z[k]);
    for (int k = 0; k < 3; ++k) {
      const double r = std::exp(z[k]) / sum - (k == d.labels[static_cast<std::size_t>(s)] ? 1.0 : 0.0);
      g[static_cast<std::size_t>(2 * k)] += r * x0 / static_cast<double>(idx.size());
      g[static_cast<std::size_t>(2 * k + 1)] += r * x1 / static_cast<double>(idx.size());
      g[static_cast<std::size_t>(6 + k)] += r / static_cast<double>(idx.size());
    }
  }
  return g;
}

void set_weights(Network& net, const std::vector<double>& w) {
  auto params = net.params();  // fc.weight (6), fc.bias (3)
  REQUIRE(params.size() == 2);
  for (std::size_t i = 0; i < 6; ++i) params[0]->value[i] = static_cast<float>(w[i]);
  for (std::size_t i = 0; i < 3; ++i) params[1]->value[i] = static_cast<float>(w[6 + i]);
}

std::vector<double> weights_of(Network& net) {
  auto params = net.params();
  std::vector<double> w;
  for (float v : params[0]->value) w.push_back(v);
  for (float v : params[1]->value) w.push_back(v);
  return w;
}

// Forward + backward at the current weights on samples `idx`, then `vr`'s step.
void vr_step(VarianceReduced& vr, Network& net, const ImageSet& d, const std::vector<int>& idx,
             std::uint64_t iteration, float lr, float momentum, float wd,
             const PrecisionSet& p = PrecisionSet{}) {
  std::vector<float> images;
  std::vector<std::uint8_t> labels;
  for (int s : idx) {
    images.push_back(d.images[static_cast<std::size_t>(2 * s)]);
    images.push_back(d.images[static_cast<std::size_t>(2 * s + 1)]);
    labels.push_back(d.labels[static_cast<std::size_t>(s)]);
  }
  const auto b = static_cast<std::int64_t>(idx.size());
  net.forward(images.data(), labels.data(), b, p, QuantPolicy{}, iteration);
  net.backward(p, QuantPolicy{}, iteration);
  vr.step(net, images.data(), labels.data(), b, p, QuantPolicy{}, iteration, lr, momentum, wd);
}

const std::vector<double> kAnchor = {0.3, -0.2, 0.1, 0.4, -0.5, 0.2, 0.05, -0.1, 0.0};

TrainOptions tiny_vr(const std::string& optimizer, std::int64_t epochs) {
  TrainOptions o;
  o.model = "lenet5";
  o.schedule = "static:8/8";
  o.epochs = epochs;
  o.batch = 50;
  o.train_limit = 300;  // 6 steps an epoch
  o.test_limit = 200;
  o.lr = 0.1;
  o.momentum = 0;
  o.optimizer = optimizer;
  o.halp_epoch_length = 4;  // anchors before steps 0, 4, 8: one falls inside epoch 1
  return o;
}

std::string temp_path(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("lpsim_svrg_test_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::filesystem::remove(dir / name);
  return (dir / name).string();
}

void require_same_run(const Trace& a, const Trace& b) {
  REQUIRE(a.segments.size() == b.segments.size());
  for (std::size_t i = 0; i < a.segments.size(); ++i) {
    CHECK(a.segments[i].begin == b.segments[i].begin);
    CHECK(a.segments[i].end == b.segments[i].end);
    CHECK(a.segments[i].precision == b.segments[i].precision);
  }
  REQUIRE(a.metrics.size() == b.metrics.size());
  for (std::size_t i = 0; i < a.metrics.size(); ++i) {
    CHECK(a.metrics[i].epoch == b.metrics[i].epoch);
    CHECK(a.metrics[i].train_loss == b.metrics[i].train_loss);  // bit for bit
    CHECK(a.metrics[i].test_accuracy == b.metrics[i].test_accuracy);
  }
}

}  // namespace

TEST_CASE("the optimizer names parse, and another name is an input error") {
  CHECK(parse_optimizer("sgd") == OptimizerKind::Sgd);
  CHECK(parse_optimizer("halp") == OptimizerKind::Halp);
  CHECK(to_string(parse_optimizer("svrg")) == "svrg");
  CHECK_THROWS_WITH(parse_optimizer("adam"), Catch::Contains("--optimizer adam") &&
                                                 Catch::Contains("sgd, svrg, halp"));
}

TEST_CASE("anchors come every T steps, by default every half epoch rounded up") {
  CHECK(default_epoch_length(391) == 196);  // torchhalp's CIFAR-10 setting
  CHECK(default_epoch_length(469) == 235);
  CHECK(default_epoch_length(1) == 1);
  // Anchors before steps 0, 4, 8: none before step 0, one before 1..4, two before 5..8.
  CHECK(anchors_before(0, 4) == 0);
  CHECK(anchors_before(1, 4) == 1);
  CHECK(anchors_before(4, 4) == 1);
  CHECK(anchors_before(5, 4) == 2);
  CHECK(anchors_before(12, 4) == 3);
}

TEST_CASE("the anchor's full gradient is the mean over every image, short last batch included") {
  Network net(softmax_regression(), 1, 1);
  set_weights(net, kAnchor);
  const ImageSet d = three_samples();
  VarianceReduced vr(VrConfig{});
  vr.take_anchor(net, d, 2, QuantPolicy{}, 0);  // batches {0, 1} and {2}
  const std::vector<double> g = softmax_gradient(kAnchor, d, {0, 1, 2});
  const auto& fg = vr.state().full_grad;
  for (std::size_t i = 0; i < 6; ++i) CHECK_THAT(fg[0][i], Catch::Matchers::WithinAbs(g[i], 1e-6));
  for (std::size_t i = 0; i < 3; ++i) CHECK_THAT(fg[1][i], Catch::Matchers::WithinAbs(g[6 + i], 1e-6));
  // The weights are the anchor.
  for (std::size_t i = 0; i < 6; ++i) CHECK(vr.state().anchor[0][i] == static_cast<float>(kAnchor[i]));
}

TEST_CASE("an SVRG step is w - lr v, v = m v + (g_B(w) - g_B(w~) + g~ + wd w), worked in closed form") {
  Network net(softmax_regression(), 1, 1);
  set_weights(net, kAnchor);
  const ImageSet d = three_samples();
  VarianceReduced vr(VrConfig{});
  vr.take_anchor(net, d, 2, QuantPolicy{}, 0);
  // Move away from the anchor, as earlier steps would have.
  const std::vector<double> w = {0.1, 0.2, -0.3, 0.5, 0.0, -0.4, 0.2, 0.1, -0.2};
  set_weights(net, w);
  const double lr = 0.5, m = 0.9, wd = 0.01;
  const std::vector<int> batch = {2, 0};
  vr_step(vr, net, d, batch, 7, static_cast<float>(lr), static_cast<float>(m), static_cast<float>(wd));
  const auto gw = softmax_gradient(w, d, batch), ga = softmax_gradient(kAnchor, d, batch),
             gf = softmax_gradient(kAnchor, d, {0, 1, 2});
  std::vector<double> v(9);
  auto after = weights_of(net);
  for (std::size_t i = 0; i < 9; ++i) {
    v[i] = gw[i] - ga[i] + gf[i] + wd * w[i];  // momentum starts at 0
    CHECK_THAT(after[i], Catch::Matchers::WithinAbs(w[i] - lr * v[i], 1e-6));
  }
  // A second step on another minibatch carries the momentum: v = m v + d.
  const std::vector<int> batch2 = {1};
  vr_step(vr, net, d, batch2, 8, static_cast<float>(lr), static_cast<float>(m), static_cast<float>(wd));
  const auto gw2 = softmax_gradient(after, d, batch2), ga2 = softmax_gradient(kAnchor, d, batch2);
  const auto after2 = weights_of(net);
  for (std::size_t i = 0; i < 9; ++i) {
    const double v2 = m * v[i] + (gw2[i] - ga2[i] + gf[i] + wd * after[i]);
    CHECK_THAT(after2[i], Catch::Matchers::WithinAbs(after[i] - lr * v2, 1e-5));
  }
}

TEST_CASE("HALP's scale is ||g~|| / (mu (2^(b-1) - 1)) and its offset codes stay in b bits") {
  CHECK(halp_scale({3.0f, 4.0f}, 20.0, 8) == Approx(5.0 / (20.0 * 127.0)));
  CHECK(halp_scale({3.0f, 4.0f}, 1.0, 2) == Approx(5.0));
  // Q_(s,b): nearest half to even, stochastic floor(x / s + u), clamped to
  // -2^(b-1) .. 2^(b-1) - 1.
  CHECK(halp_code(2.5, 1.0, 8, Rounding::Nearest, 0) == 2);
  CHECK(halp_code(3.5, 1.0, 8, Rounding::Nearest, 0) == 4);
  CHECK(halp_code(2.25, 1.0, 8, Rounding::Stochastic, 0.74f) == 2);
  CHECK(halp_code(2.25, 1.0, 8, Rounding::Stochastic, 0.75f) == 3);
  CHECK(halp_code(1000.0, 1.0, 8, Rounding::Nearest, 0) == 127);
  CHECK(halp_code(-1000.0, 1.0, 8, Rounding::Nearest, 0) == -128);
  CHECK(halp_code(-1000.0, 0.5, 2, Rounding::Nearest, 0) == -2);
  CHECK(halp_code(0.3, 0.0, 8, Rounding::Nearest, 0) == 0);  // g~ = 0: the grid is {0}
}

TEST_CASE("HALP's first step after an anchor is SVRG's rounded to the offset grid") {
  // Right after an anchor w = w~, so g_B(w) - g_B(w~) = 0 bit for bit and both
  // steps move by -lr (g~ + wd w~); HALP rounds that to its grid (nearest
  // here: within s / 2; the step stays inside the 8-bit range, 127 s = ||g~|| / mu).
  const ImageSet d = three_samples();
  const double lr = 0.01, wd = 0.0;
  VrConfig svrg_cfg;
  VrConfig halp_cfg;
  halp_cfg.kind = OptimizerKind::Halp;
  halp_cfg.rounding = Rounding::Nearest;
  halp_cfg.mu = 20;
  Network a(softmax_regression(), 1, 1), b(softmax_regression(), 1, 1);
  set_weights(a, kAnchor);
  set_weights(b, kAnchor);
  VarianceReduced svrg(svrg_cfg), halp(halp_cfg);
  svrg.take_anchor(a, d, 2, QuantPolicy{}, 0);
  halp.take_anchor(b, d, 2, QuantPolicy{}, 0);
  vr_step(svrg, a, d, {0, 1}, 1, static_cast<float>(lr), 0, static_cast<float>(wd));
  vr_step(halp, b, d, {0, 1}, 1, static_cast<float>(lr), 0, static_cast<float>(wd));
  const auto wa = weights_of(a), wb = weights_of(b);
  const auto gf = softmax_gradient(kAnchor, d, {0, 1, 2});
  double norm_w = 0, norm_b = 0;
  for (std::size_t i = 0; i < 6; ++i) norm_w += gf[i] * gf[i];
  for (std::size_t i = 6; i < 9; ++i) norm_b += gf[i] * gf[i];
  const double s_w = std::sqrt(norm_w) / (20.0 * 127.0), s_b = std::sqrt(norm_b) / (20.0 * 127.0);
  CHECK(halp.state().scale[0] == Approx(s_w).epsilon(1e-6));
  CHECK(halp.state().scale[1] == Approx(s_b).epsilon(1e-6));
  for (std::size_t i = 0; i < 9; ++i) {
    const double s = i < 6 ? s_w : s_b;
    REQUIRE(lr * std::abs(gf[i]) < 127 * s);  // inside the range: rounding, not clamping
    CHECK(std::abs(wb[i] - wa[i]) <= s / 2 + 1e-7);
    const auto code = halp.state().offset[i < 6 ? 0 : 1][i < 6 ? i : i - 6];
    CHECK(code == static_cast<std::int32_t>(std::nearbyint(-lr * gf[i] / s)));
  }
}

TEST_CASE("HALP re-centres: after an anchor the offset is zero and the weights have not moved") {
  const ImageSet d = three_samples();
  VrConfig cfg;
  cfg.kind = OptimizerKind::Halp;
  Network net(softmax_regression(), 1, 1);
  set_weights(net, kAnchor);
  VarianceReduced halp(cfg);
  halp.take_anchor(net, d, 2, QuantPolicy{}, 0);
  for (std::uint64_t it = 0; it < 4; ++it) vr_step(halp, net, d, {static_cast<int>(it % 3)}, it, 0.5f, 0, 0);
  std::int64_t nonzero = 0;
  for (const auto& codes : halp.state().offset)
    for (std::int32_t q : codes) nonzero += q != 0;
  REQUIRE(nonzero > 0);  // the steps moved the offset
  const auto before = weights_of(net);
  halp.take_anchor(net, d, 2, QuantPolicy{}, 1);
  for (const auto& codes : halp.state().offset)
    for (std::int32_t q : codes) CHECK(q == 0);
  const auto after = weights_of(net);
  for (std::size_t i = 0; i < 9; ++i) CHECK(after[i] == before[i]);  // bit for bit
  auto params = net.params();
  for (std::size_t i = 0; i < params.size(); ++i) CHECK(halp.state().anchor[i] == params[i]->value);
}

TEST_CASE("HALP approaches full-precision SVRG as its offset widens") {
  // Same anchor, minibatches and steps; the max weight difference from SVRG
  // after 12 steps shrinks with the offset's bits. The offset's range,
  // 2^(b-1) s ~ ||g~|| / mu whatever b, must hold 4 steps of lr |u|: mu = 1
  // and a small lr keep every code off the clamp (checked), so the
  // difference is rounding alone.
  const ImageSet d = three_samples();
  std::int32_t largest_code_24 = 0;
  auto run = [&](OptimizerKind kind, int bits) {
    VrConfig cfg;
    cfg.kind = kind;
    cfg.bits = bits;
    cfg.mu = 1;
    Network net(softmax_regression(), 1, 1);
    set_weights(net, kAnchor);
    VarianceReduced vr(cfg);
    for (std::uint64_t it = 0; it < 12; ++it) {
      if (it % 4 == 0) vr.take_anchor(net, d, 2, QuantPolicy{}, it);
      vr_step(vr, net, d, {static_cast<int>(it % 3), static_cast<int>((it + 1) % 3)}, it, 0.05f, 0, 0);
      if (bits == 24)
        for (const auto& codes : vr.state().offset)
          for (std::int32_t q : codes) largest_code_24 = std::max(largest_code_24, std::abs(q));
    }
    return weights_of(net);
  };
  const auto svrg = run(OptimizerKind::Svrg, 8);
  auto distance = [&](int bits) {
    const auto h = run(OptimizerKind::Halp, bits);
    double m = 0;
    for (std::size_t i = 0; i < 9; ++i) m = std::max(m, std::abs(h[i] - svrg[i]));
    return m;
  };
  const double d4 = distance(4), d8 = distance(8), d16 = distance(16), d24 = distance(24);
  INFO("max |w_halp - w_svrg| at 4, 8, 16, 24 bits: " << d4 << " " << d8 << " " << d16 << " " << d24);
  CHECK(largest_code_24 < (1 << 23) - 1);  // never clamped
  CHECK(d4 > d8);
  CHECK(d8 > d16);
  CHECK(d16 > 0);
  CHECK(d24 < 1e-5);
  CHECK(d24 <= d16);
}

TEST_CASE("svrg and halp runs are bit-identical with 1 or 2 threads") {
  for (const char* opt : {"svrg", "halp"}) {
    TrainOptions o = tiny_vr(opt, 1);
    const TrainResult a = train(o);
    o.threads = 2;
    const TrainResult b = train(o);
    require_same_run(a.trace, b.trace);
  }
}

TEST_CASE("a halp run resumed from its checkpoint equals the uninterrupted run") {
  // T = 4 with 6 steps an epoch: the checkpoint falls between two anchors,
  // with a non-zero offset that the checkpoint must carry.
  TrainOptions o = tiny_vr("halp", 2);
  const TrainResult whole = train(o);
  o.checkpoint = temp_path("halp.ckpt");
  o.stop_after = 1;
  train(o);
  o.stop_after = 0;
  o.resume = true;
  const TrainResult rest = train(o);
  CHECK(rest.finished);
  require_same_run(whole.trace, rest.trace);
  // Another optimizer cannot resume it.
  o.optimizer = "svrg";
  CHECK_THROWS_WITH(train(o), Catch::Contains("checkpoint is of a different run") &&
                                  Catch::Contains("optimizer"));
}

TEST_CASE("a halp run's trace counts the passes at w and at w~ and the FP32 anchor passes") {
  // 2 epochs of 6 steps (300 images, batch 50), T = 4: anchors before steps
  // 0, 4 (epoch 0) and 8 (epoch 1). Trace epochs = passes over the data:
  // epoch 0 = 2 anchors + 2, epoch 1 = 1 anchor + 2: 7 passes of 6 iterations.
  const TrainOptions o = tiny_vr("halp", 2);
  const TrainResult r = train(o);
  const Trace& t = r.trace;
  CHECK(t.header.epochs == 7);
  CHECK(t.header.total_iterations == 42);
  REQUIRE(t.metrics.size() == 2);
  CHECK(t.metrics[0].epoch == 3);  // the last pass of each optimizer epoch
  CHECK(t.metrics[1].epoch == 6);
  PrecisionSet p8 = PrecisionSet::fw_bw(Format::integer(8), Format::integer(8));
  p8[Role::Opt] = Format::integer(8);  // HALP's update keeps the 8-bit offset
  const PrecisionSet fp32;
  // Segments: epoch 0 = [0, 12) two FP32 anchor passes, [12, 24) the passes
  // at w and at w~; epoch 1 = [24, 30) one anchor pass, [30, 42) the two passes.
  REQUIRE(t.segments.size() == 4);
  CHECK((t.segments[0].begin == 0 && t.segments[0].end == 12 && t.segments[0].precision == fp32));
  CHECK((t.segments[1].end == 24 && t.segments[1].precision == p8));
  CHECK((t.segments[2].end == 30 && t.segments[2].precision == fp32));
  CHECK((t.segments[3].end == 42 && t.segments[3].precision == p8));

  // BitOPs = 2 x steps x 50 images x BitOPs per image at 8/8
  //        + anchors x 300 images x BitOPs per image at FP32,
  // per image from the GEMMs of one training step (bits(lhs) x bits(rhs) per MAC).
  const Graph g = make_model("lenet5", "fashion-mnist");
  double per_image_8 = 0, per_image_32 = 0;
  for (const Op& op : expand_training_step(g, 1)) {
    if (op.kind != OpKind::Gemm) continue;
    per_image_8 += static_cast<double>(op.macs()) * 8 * 8;
    per_image_32 += static_cast<double>(op.macs()) * 32 * 32;
  }
  const double expected = 2.0 * 12 * 50 * per_image_8 + 3.0 * 300 * per_image_32;
  const BitopsReport bits = count_bitops(t, g, CountConvention::Gemm);
  CHECK(bits.total_bitops == Approx(expected).epsilon(1e-12));
  CHECK(bits.total_images == 7 * 300);
}

TEST_CASE("svrg and halp options out of range, or with MuPPET or a dynamic loss scale, are refused") {
  TrainOptions o = tiny_vr("halp", 1);
  o.halp_bits = 1;
  CHECK_THROWS_WITH(train(o), Catch::Contains("--halp-bits = 1") && Catch::Contains("2..24"));
  o = tiny_vr("halp", 1);
  o.halp_mu = 0;
  CHECK_THROWS_WITH(train(o), Catch::Contains("--halp-mu = 0"));
  o = tiny_vr("svrg", 1);
  o.halp_epoch_length = -3;
  CHECK_THROWS_WITH(train(o), Catch::Contains("--halp-epoch-length = -3"));
  o = tiny_vr("svrg", 1);
  o.schedule = "muppet:8,12,14,16";
  CHECK_THROWS_WITH(train(o), Catch::Contains("MuPPET"));
  o = tiny_vr("halp", 1);
  o.dynamic_loss_scale = true;
  CHECK_THROWS_WITH(train(o), Catch::Contains("--loss-scale dynamic"));
}
