// Synthesizer and BitOPs hot path: a 160-epoch per-iteration cyclic ResNet-164
// trace (CIFAR-100, batch 128) synthesized and counted, and its file written and
// read. Items are training iterations covered.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "traces/bitops.h"
#include "traces/synth.h"

namespace {

lpsim::SynthOptions resnet164_cyclic() {
  lpsim::SynthOptions o;
  o.model = "resnet164";
  o.dataset = "cifar100";
  o.epochs = 160;
  o.batch = 128;
  o.schedule = "cyclic:3-8/8";
  return o;
}

void BM_SynthAndCount(benchmark::State& state, lpsim::CountConvention convention) {
  const auto options = resnet164_cyclic();
  std::int64_t iterations = 0;
  for (auto _ : state) {
    lpsim::Trace trace = lpsim::synthesize(options);
    lpsim::BitopsReport r = lpsim::count_bitops(trace, lpsim::trace_graph(trace), convention);
    benchmark::DoNotOptimize(r.total_bitops);
    iterations += trace.header.total_iterations;
  }
  state.SetItemsProcessed(iterations);
}
BENCHMARK_CAPTURE(BM_SynthAndCount, gemm, lpsim::CountConvention::Gemm)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_SynthAndCount, cpt, lpsim::CountConvention::Cpt)
    ->Unit(benchmark::kMillisecond);

void BM_WriteRead(benchmark::State& state, const char* suffix) {
  const lpsim::Trace trace = lpsim::synthesize(resnet164_cyclic());
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("lpsim-bench-" + std::to_string(::getpid()) + suffix))
                               .string();
  std::int64_t iterations = 0, bytes = 0;
  for (auto _ : state) {
    lpsim::write_trace(path, trace);
    lpsim::Trace back = lpsim::read_trace(path);
    benchmark::DoNotOptimize(back.segments.data());
    iterations += back.header.total_iterations;
    bytes += static_cast<std::int64_t>(std::filesystem::file_size(path));
  }
  state.SetItemsProcessed(iterations);
  state.SetBytesProcessed(bytes);
  state.counters["segments"] = static_cast<double>(trace.segments.size());
  state.counters["file_bytes"] = static_cast<double>(std::filesystem::file_size(path));
  std::filesystem::remove(path);
}
BENCHMARK_CAPTURE(BM_WriteRead, plain, ".lpt")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_WriteRead, gzip, ".lpt.gz")->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
