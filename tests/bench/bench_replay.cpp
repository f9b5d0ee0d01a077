// Replay speed: a 160-epoch, per-iteration cyclic 3-8/8 ResNet-74 CIFAR-100
// trace on the default design point, cold cache (every unique training step
// simulated on the SystemC accelerator; target < 0.5 s) and warm cache
// (target < 0.05 s); the same cold with the analytic timing; and one
// topology layer (for the speed ratio against SCALE-Sim, scripts/).
#include <benchmark/benchmark.h>

#include "sim/replay.h"
#include "traces/bitops.h"
#include "traces/synth.h"

namespace {

struct Fixture {
  lpsim::Trace trace;
  lpsim::Graph graph;
  lpsim::ArchConfig arch;
  lpsim::EnergyTable table;
  Fixture() {
    lpsim::SynthOptions o;
    o.model = "resnet74";
    o.dataset = "cifar100";
    o.epochs = 160;
    o.batch = 128;
    o.schedule = "cyclic:3-8/8";
    trace = lpsim::synthesize(o);
    graph = lpsim::trace_graph(trace);
    arch = lpsim::default_arch();
    table = lpsim::energy_table_for(arch);
  }
};

const Fixture& fixture() {
  static const Fixture f;
  return f;
}

void set_counters(benchmark::State& state, const lpsim::SimReport& r) {
  state.counters["iterations_replayed"] = double(r.iterations);
  state.counters["unique_ops"] = double(r.cache.unique_ops);
  state.counters["simulated"] = double(r.cache.simulated);
  state.counters["unique_steps"] = double(r.cache.unique_steps);
  state.counters["segments"] = double(fixture().trace.segments.size());
  state.SetItemsProcessed(state.iterations() * r.iterations);
}

void BM_ReplayColdCache(benchmark::State& state) {
  const Fixture& f = fixture();
  lpsim::SimReport r;
  for (auto _ : state) {
    lpsim::CostCache cache;  // empty: every unique step runs on the SystemC model
    r = lpsim::simulate_trace(f.trace, f.graph, f.arch, f.table, {&cache, lpsim::Timing::SystemC});
    benchmark::DoNotOptimize(r.total.cycles);
  }
  set_counters(state, r);
}
BENCHMARK(BM_ReplayColdCache)->Unit(benchmark::kMillisecond);

void BM_ReplayWarmCache(benchmark::State& state) {
  const Fixture& f = fixture();
  lpsim::CostCache cache;
  lpsim::SimReport r =
      lpsim::simulate_trace(f.trace, f.graph, f.arch, f.table, {&cache, lpsim::Timing::SystemC});
  for (auto _ : state) {
    r = lpsim::simulate_trace(f.trace, f.graph, f.arch, f.table, {&cache, lpsim::Timing::SystemC});
    benchmark::DoNotOptimize(r.total.cycles);
  }
  set_counters(state, r);
}
BENCHMARK(BM_ReplayWarmCache)->Unit(benchmark::kMillisecond);

void BM_ReplayColdCacheAnalytic(benchmark::State& state) {
  const Fixture& f = fixture();
  lpsim::SimReport r;
  for (auto _ : state) {
    lpsim::CostCache cache;
    r = lpsim::simulate_trace(f.trace, f.graph, f.arch, f.table, {&cache, lpsim::Timing::Analytic});
    benchmark::DoNotOptimize(r.total.cycles);
  }
  set_counters(state, r);
}
BENCHMARK(BM_ReplayColdCacheAnalytic)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
