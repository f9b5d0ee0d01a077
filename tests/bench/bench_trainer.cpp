// Hot paths of the trainer: the quantizers (elements/s), the integer GEMM
// kernels by width (multiply-accumulates/s, LeNet-5 conv2's forward shape
// per sample: 16 x 100 x 150) and one LeNet-5 training step of 128 images at
// 8-bit and 4-bit W/A/E/G per GEMM kernel (images/s).
#include <benchmark/benchmark.h>

#include <cmath>
#include <vector>

#include <cblas.h>

#include "models/zoo.h"
#include "trainer/impl/int_gemm.h"
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

// Kernel throughput: C[16 x 100] = A[16 x 152] B, codes of `bits` bits.
void BM_IntGemm(benchmark::State& state, impl::GemmKernel kernel, int bits) {
  if (!impl::cpu_supports(kernel)) {
    state.SkipWithError("this CPU lacks the kernel");
    return;
  }
  const std::int64_t M = 16, N = 100, K = 152;
  std::vector<std::uint8_t> a(static_cast<std::size_t>(M * K)), b(static_cast<std::size_t>(K * N));
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = static_cast<std::uint8_t>((i * 37) % (1u << bits));
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::uint8_t>((i * 91) % (1u << bits));
  impl::PackedB packed;
  impl::pack_b(packed, K, N, b.data(), N, false, bits, 0);
  std::vector<std::int32_t> c(static_cast<std::size_t>(M * N));
  for (auto _ : state) {
    impl::raw_gemm(kernel, M, N, K, a.data(), K, packed.data.data(), c.data(), N, bits, bits);
    benchmark::DoNotOptimize(c.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * M * N * K));
}
BENCHMARK_CAPTURE(BM_IntGemm, scalar_8bit, impl::GemmKernel::Scalar, 8);
BENCHMARK_CAPTURE(BM_IntGemm, avx2_8bit, impl::GemmKernel::Avx2, 8);
BENCHMARK_CAPTURE(BM_IntGemm, avx2_4bit, impl::GemmKernel::Avx2, 4);
BENCHMARK_CAPTURE(BM_IntGemm, vnni_8bit, impl::GemmKernel::Vnni, 8);
BENCHMARK_CAPTURE(BM_IntGemm, vnni_4bit, impl::GemmKernel::Vnni, 4);

// The float GEMM the integer kernels replace, same shape (FLOP/2 per item).
void BM_Sgemm(benchmark::State& state) {
  const int M = 16, N = 100, K = 152;
  std::vector<float> a(static_cast<std::size_t>(M * K), 0.5f), b(static_cast<std::size_t>(K * N), 0.25f),
      c(static_cast<std::size_t>(M * N));
  for (auto _ : state) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.0f, a.data(), K, b.data(),
                N, 0.0f, c.data(), N);
    benchmark::DoNotOptimize(c.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * M * N * K);
}
BENCHMARK(BM_Sgemm);

void lenet5_step(benchmark::State& state, int bits, const char* kernel) {
  const int threads = static_cast<int>(state.range(0));
  Network net(make_model("lenet5", "fashion-mnist"), 1, threads);
  if (!impl::cpu_supports(impl::parse_gemm_kernel(kernel))) {
    state.SkipWithError("this CPU lacks the kernel");
    return;
  }
  net.set_gemm_kernel(kernel);
  const std::int64_t batch = 128;
  const std::vector<float> images = data(static_cast<std::size_t>(batch * 28 * 28));
  std::vector<std::uint8_t> labels(static_cast<std::size_t>(batch));
  for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<std::uint8_t>(i % 10);
  const PrecisionSet p = bits == 32 ? PrecisionSet{}
                                    : PrecisionSet::fw_bw(Format::integer(bits), Format::integer(bits));
  const QuantPolicy q;
  std::uint64_t it = 0;
  for (auto _ : state) {
    net.forward(images.data(), labels.data(), batch, p, q, it);
    net.backward(p, q, it++);
    net.sgd_step(0.01f, 0.9f, 5e-4f);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * batch));
}
void BM_Lenet5TrainingStep8Bit(benchmark::State& s) { lenet5_step(s, 8, "auto"); }
void BM_Lenet5TrainingStep8BitReference(benchmark::State& s) { lenet5_step(s, 8, "reference"); }
void BM_Lenet5TrainingStep8BitAvx2(benchmark::State& s) { lenet5_step(s, 8, "avx2"); }
void BM_Lenet5TrainingStep4Bit(benchmark::State& s) { lenet5_step(s, 4, "auto"); }
void BM_Lenet5TrainingStep4BitAvx2(benchmark::State& s) { lenet5_step(s, 4, "avx2"); }
void BM_Lenet5TrainingStepFp32(benchmark::State& s) { lenet5_step(s, 32, "auto"); }
BENCHMARK(BM_Lenet5TrainingStep8Bit)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_Lenet5TrainingStep8BitReference)->Arg(1)->UseRealTime();
BENCHMARK(BM_Lenet5TrainingStep8BitAvx2)->Arg(1)->UseRealTime();
BENCHMARK(BM_Lenet5TrainingStep4Bit)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_Lenet5TrainingStep4BitAvx2)->Arg(1)->UseRealTime();
BENCHMARK(BM_Lenet5TrainingStepFp32)->Arg(1)->Arg(2)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
