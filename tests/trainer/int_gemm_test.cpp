// Integer GEMMs (docs/trainer.md, "Integer GEMMs"): every kernel this CPU
// has gives the exact integer sums of the FP64 reference and of a plain
// loop, for random shapes and widths; and training with the integer kernels
// is bit-identical to training on the reference path.
#include <catch2/catch.hpp>

#include <cstring>
#include <random>
#include <vector>

#include "core/error.h"
#include "trainer/impl/int_gemm.h"
#include "trainer/network.h"

using namespace lpsim;
using namespace lpsim::trainer;
using impl::GemmKernel;

namespace {

std::vector<GemmKernel> kernels_here() {
  std::vector<GemmKernel> out = {GemmKernel::Reference, GemmKernel::Scalar};
  if (impl::cpu_supports(GemmKernel::Avx2)) out.push_back(GemmKernel::Avx2);
  if (impl::cpu_supports(GemmKernel::Vnni)) out.push_back(GemmKernel::Vnni);
  return out;
}

}  // namespace

TEST_CASE("code GEMMs: every kernel equals a plain integer loop, any shape and width 1..8") {
  std::mt19937 rng(7);
  auto pick = [&rng](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (int trial = 0; trial < 300; ++trial) {
    const std::int64_t M = pick(1, 9), N = pick(1, 70), K = pick(1, 300);
    const int a_bits = pick(1, 8), b_bits = pick(1, 8);
    const int za = pick(0, 1) ? 0 : 1 << (a_bits - 1), zb = pick(0, 1) ? 0 : 1 << (b_bits - 1);
    const bool transposed = pick(0, 1) == 1;
    const std::int64_t lda = impl::pad4(K) + pick(0, 1) * 4;
    std::vector<std::uint8_t> a(static_cast<std::size_t>(M * lda), 0), b(static_cast<std::size_t>(K * N));
    for (std::int64_t i = 0; i < M; ++i)
      for (std::int64_t k = 0; k < K; ++k)
        a[static_cast<std::size_t>(i * lda + k)] = static_cast<std::uint8_t>(pick(0, (1 << a_bits) - 1));
    for (auto& v : b) v = static_cast<std::uint8_t>(pick(0, (1 << b_bits) - 1));
    if (trial % 7 == 0)  // extremes: every code at its largest
      for (auto& v : b) v = static_cast<std::uint8_t>((1 << b_bits) - 1);
    auto b_at = [&](std::int64_t k, std::int64_t n) {
      return transposed ? b[static_cast<std::size_t>(n * K + k)] : b[static_cast<std::size_t>(k * N + n)];
    };
    std::vector<std::int64_t> want(static_cast<std::size_t>(M * N), 0);
    for (std::int64_t i = 0; i < M; ++i)
      for (std::int64_t n = 0; n < N; ++n)
        for (std::int64_t k = 0; k < K; ++k)
          want[static_cast<std::size_t>(i * N + n)] +=
              (a[static_cast<std::size_t>(i * lda + k)] - za) * (b_at(k, n) - zb);
    impl::PackedB packed;
    impl::pack_b(packed, K, N, b.data(), transposed ? K : N, transposed, b_bits, zb);
    for (GemmKernel kernel : kernels_here()) {
      INFO("trial " << trial << " kernel " << impl::to_string(kernel) << " M " << M << " N " << N
                    << " K " << K << " bits " << a_bits << "x" << b_bits);
      std::vector<std::int64_t> got(static_cast<std::size_t>(M * N), -1);
      impl::code_gemm(kernel, M, a.data(), lda, a_bits, za, packed, got.data(), N);
      REQUIRE(got == want);
    }
  }
}

TEST_CASE("GEMM kernel names other than auto, reference, scalar, avx2, vnni are input errors") {
  CHECK(impl::parse_gemm_kernel("vnni") == GemmKernel::Vnni);
  CHECK_THROWS_AS(impl::parse_gemm_kernel("avx512"), InputError);
  CHECK(impl::resolve(GemmKernel::Auto) != GemmKernel::Auto);
}

namespace {

// input 3x7x9 - conv 3x3 stride 2 pad 1 (5, bias) - relu - conv 2x2 (4, no
// bias, K = 20: not a multiple of 4) - relu - flatten - linear 3 (bias) -
// softmax: odd sizes, padding, stride, tails of every kernel.
Graph odd_cnn() {
  Graph g("odd");
  Layer in = make_layer("input", LayerKind::Input);
  in.out_shape = Shape{{3, 7, 9}};
  int x = g.add(in);
  Layer c1 = make_layer("conv1", LayerKind::Conv2d);
  c1.out_features = 5;
  c1.kernel_h = c1.kernel_w = 3;
  c1.stride = 2;
  c1.padding = 1;
  c1.bias = true;
  x = g.add(make_layer("relu1", LayerKind::Activation), {g.add(c1, {x})});
  Layer c2 = make_layer("conv2", LayerKind::Conv2d);
  c2.out_features = 4;
  c2.kernel_h = c2.kernel_w = 2;
  x = g.add(make_layer("relu2", LayerKind::Activation), {g.add(c2, {x})});
  x = g.add(make_layer("flatten", LayerKind::Flatten), {x});
  Layer fc = make_layer("fc", LayerKind::Linear);
  fc.out_features = 3;
  fc.bias = true;
  x = g.add(fc, {x});
  g.add(make_layer("loss", LayerKind::Softmax), {x});
  g.infer_shapes();
  return g;
}

// Three SGD steps of a 37-sample batch (a short last chunk); the weights after.
std::vector<std::vector<float>> train_steps(const std::string& kernel, const PrecisionSet& p,
                                            const QuantPolicy& q, int threads) {
  const Graph g = odd_cnn();
  Network net(g, 3, threads);
  net.set_gemm_kernel(kernel);
  const std::int64_t batch = 37, elems = 3 * 7 * 9;
  std::vector<float> images(static_cast<std::size_t>(batch * elems));
  std::vector<std::uint8_t> labels(static_cast<std::size_t>(batch));
  for (std::size_t i = 0; i < images.size(); ++i) images[i] = std::sin(0.731f * static_cast<float>(i)) + 0.25f;
  for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<std::uint8_t>(i % 3);
  for (std::uint64_t it = 0; it < 3; ++it) {
    net.forward(images.data(), labels.data(), batch, p, q, it);
    net.backward(p, q, it);
    net.sgd_step(0.1f, 0.9f, 5e-4f);
  }
  std::vector<std::vector<float>> out;
  for (Param* param : net.params()) out.push_back(param->value);
  return out;
}

bool same_bits(const std::vector<std::vector<float>>& a, const std::vector<std::vector<float>>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].size() != b[i].size() ||
        std::memcmp(a[i].data(), b[i].data(), a[i].size() * sizeof(float)) != 0)
      return false;
  return true;
}

}  // namespace

TEST_CASE("training with the integer kernels equals the reference path bit for bit") {
  for (IntMethod method : {IntMethod::Range, IntMethod::DynamicFixed})
    for (int fw : {2, 3, 4, 5, 8})
      for (int bw : {4, 8}) {
        const PrecisionSet p = PrecisionSet::fw_bw(Format::integer(fw), Format::integer(bw));
        QuantPolicy q;
        q.int_method = method;
        const auto want = train_steps("reference", p, q, 1);
        for (GemmKernel kernel : kernels_here()) {
          INFO(to_string(method) << " " << fw << "/" << bw << " " << impl::to_string(kernel));
          CHECK(same_bits(train_steps(impl::to_string(kernel), p, q, 2), want));
        }
      }
}

TEST_CASE("mixed formats (integer W/A, fp8 or 12-bit E) keep one path and stay bit-identical") {
  for (const PrecisionSet& p : {PrecisionSet::fw_bw(Format::integer(6), Format::floating(5, 2)),
                                PrecisionSet::fw_bw(Format::integer(4), Format::integer(12))}) {
    const auto want = train_steps("reference", p, QuantPolicy{}, 1);
    CHECK(same_bits(train_steps("auto", p, QuantPolicy{}, 2), want));
  }
}
