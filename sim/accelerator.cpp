// The module tree and one job per sc_start.
#include "sim/accelerator.h"

#include <algorithm>

#include <systemc>

#include "core/error.h"
#include "sim/impl/compute_engine.h"
#include "sim/impl/controller.h"
#include "sim/impl/dma.h"
#include "sim/impl/dram_channel.h"

// lpsim has its own main(); Debian's libsystemc.so still references sc_main
// from its built-in main(), so the link needs a definition. lpsim never
// enters SystemC through it.
int sc_main(int, char*[]) { throw lpsim::InternalError("sc_main: lpsim runs SystemC from its own main"); }

namespace lpsim {

struct Accelerator::Modules {
  StepState state;
  DramChannel dram{"dram"};
  StoreEngine store{"store_engine", state, dram};
  ComputeEngine mac_array{"mac_array", Engine::MacArray, state, store.in};
  ComputeEngine vector_unit{"vector_unit", Engine::Vector, state, store.in};
  LoadEngine load{"load_engine", state, dram, mac_array.in, vector_unit.in};
  Controller controller{"controller", state, load.in};
};

Accelerator& Accelerator::instance() {
  static Accelerator* const acc = new Accelerator();  // never destroyed, see m_
  return *acc;
}

Accelerator::Accelerator() : m_(new Modules()) {
  if (sc_core::sc_is_running())
    throw InternalError("Accelerator: the SystemC kernel was started before the module tree");
  // Elaborate and let every thread reach its first wait.
  sc_core::sc_start(sc_core::SC_ZERO_TIME);
}

std::vector<OpStats> Accelerator::run(const std::vector<StepOp>& ops,
                                      const MachineParams& machine) {
  Modules& m = *m_;
  StepState& st = m.state;
  const auto nb = machine.buffers.size();
  st.machine = &machine;
  st.ops.assign(ops.size(), OpRecord{});
  st.completed_prefix = 0;
  st.last_completed = -1;
  st.insertions.clear();
  st.input_slots.reset(machine.buffering);
  st.output_slots.reset(machine.output_slots());
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const OpSchedule& s = *ops[i].schedule;
    if (static_cast<std::size_t>(s.buffers) != nb)
      throw InternalError("Accelerator: an op was mapped for another design point");
    OpRecord& r = st.ops[i];
    r.engine = s.engine;
    r.stats.buffer_busy_cycles.assign(nb, 0);
    r.stats.sram_read_bits.assign(nb, 0);
    r.stats.sram_write_bits.assign(nb, 0);
  }
  m.dram.reset();
  m.mac_array.reset();
  m.vector_unit.reset();
  m.load.in.clear();
  m.store.in.clear();
  m.controller.start(&ops, head_ >= 0 ? head_ : machine.buffering + 4);
  const sc_core::sc_time t0 = sc_core::sc_time_stamp();
  sc_core::sc_start();  // runs until every thread waits again: the job is over
  if (!m.controller.done())
    throw InternalError("Accelerator: the job stopped before its last op completed");
  ++jobs_;
  const auto base = static_cast<std::int64_t>(t0.value());

  // Op ends on the timeline with the compressed runs' tiles put back in.
  std::sort(st.insertions.begin(), st.insertions.end(),
            [](const Insertion& a, const Insertion& b) { return a.at < b.at; });
  auto effective = [&](std::int64_t t) {
    std::int64_t shift = 0;
    for (const auto& ins : st.insertions)
      if (ins.at <= t) shift += ins.extra_cycles;
    return t - base + shift;
  };
  std::vector<OpStats> out;
  out.reserve(ops.size());
  std::int64_t latest = 0;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const OpSchedule& s = *ops[i].schedule;
    OpStats o = std::move(st.ops[i].stats);
    const std::int64_t end = st.ops[i].start < 0 ? latest : effective(st.ops[i].end);
    o.cycles = std::max<std::int64_t>(0, end - latest);
    latest = std::max(latest, end);
    const std::int64_t busy = o.mac_array_busy_cycles + o.vector_busy_cycles;
    o.compute_bound_cycles = std::min(o.cycles, busy);
    o.memory_bound_cycles = o.cycles - o.compute_bound_cycles;
    o.tiles = s.tiles;
    for (const TileRun& r : s.runs) {
      const double n = double(r.count);
      o.macs += n * r.macs;
      o.vector_ops += n * r.vector_ops;
      o.dram_read_bits += n * r.dram_read_bits;
      o.dram_write_bits += n * r.dram_write_bits;
      for (std::size_t b = 0; b < nb; ++b) {
        o.sram_read_bits[b] += n * r.sram_read_bits[b];
        o.sram_write_bits[b] += n * r.sram_write_bits[b];
      }
    }
    if (s.engine == Engine::MacArray) {
      o.run_a = s.pe.run_a;
      o.run_b = s.pe.run_b;
      o.peak_macs_per_cycle = s.peak_macs_per_cycle;
    }
    out.push_back(std::move(o));
  }
  return out;
}

OpStats Accelerator::run(const OpSchedule& schedule, const MachineParams& machine) {
  return run(std::vector<StepOp>{{&schedule, false}}, machine).front();
}

}  // namespace lpsim
