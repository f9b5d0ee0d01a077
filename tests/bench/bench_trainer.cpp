// Hot paths of the trainer: the quantizers (elements/s) and one LeNet-5
// training step of 128 images at 8-bit W/A/E/G (images/s).
#include <benchmark/benchmark.h>

#include <cmath>
#include <vector>

#include "models/zoo.h"
#include "trainer/network.h"
#include "trainer/quantize.h"

using namespace lpsim;
using namespace lpsim::trainer;

namespace {

std::vector<float> data(std::size_t n) {
  std::vector<float> x(n);
  for (std::size_t i = 0; i < n; ++i) x[i] = std::sin(0.37f * static_cast<float>(i));
  return x;
}

void quantize_bench(benchmark::State& state, Format format, IntMethod method, Rounding rounding) {
  const std::size_t n = 1 << 20;
  const std::vector<float> src = data(n);
  std::vector<float> x(n);
  std::uint64_t it = 0;
  for (auto _ : state) {
    x = src;
    quantize(format, method, x.data(), 1, n, rounding, RngKey{1, it++, 3});
    benchmark::DoNotOptimize(x.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

void BM_QuantizeRangeNearest(benchmark::State& s) {
  quantize_bench(s, Format::integer(8), IntMethod::Range, Rounding::Nearest);
}
void BM_QuantizeRangeStochastic(benchmark::State& s) {
  quantize_bench(s, Format::integer(8), IntMethod::Range, Rounding::Stochastic);
}
void BM_QuantizeDfxStochastic(benchmark::State& s) {
  quantize_bench(s, Format::integer(8), IntMethod::DynamicFixed, Rounding::Stochastic);
}
void BM_QuantizeFp8E4m3Nearest(benchmark::State& s) {
  quantize_bench(s, Format::floating(4, 3), IntMethod::Range, Rounding::Nearest);
}
BENCHMARK(BM_QuantizeRangeNearest);
BENCHMARK(BM_QuantizeRangeStochastic);
BENCHMARK(BM_QuantizeDfxStochastic);
BENCHMARK(BM_QuantizeFp8E4m3Nearest);

void BM_Lenet5TrainingStep8Bit(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  Network net(make_model("lenet5", "fashion-mnist"), 1, threads);
  const std::int64_t batch = 128;
  const std::vector<float> images = data(static_cast<std::size_t>(batch * 28 * 28));
  std::vector<std::uint8_t> labels(static_cast<std::size_t>(batch));
  for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<std::uint8_t>(i % 10);
  const PrecisionSet p = PrecisionSet::fw_bw(Format::integer(8), Format::integer(8));
  const QuantPolicy q;
  std::uint64_t it = 0;
  for (auto _ : state) {
    net.forward(images.data(), labels.data(), batch, p, q, it);
    net.backward(p, q, it++);
    net.sgd_step(0.01f, 0.9f, 5e-4f);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * batch));
}
BENCHMARK(BM_Lenet5TrainingStep8Bit)->Arg(1)->Arg(2)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
