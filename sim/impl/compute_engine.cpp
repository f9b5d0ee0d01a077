// The compute engine (docs/simulator.md, "SystemC modules" and "Stalls").
#include "sim/impl/compute_engine.h"

#include <algorithm>

namespace lpsim {

ComputeEngine::ComputeEngine(sc_core::sc_module_name name, Engine kind, StepState& state,
                             JobQueue& to_store)
    : sc_core::sc_module(name), kind_(kind), state_(state), to_store_(to_store) {
  SC_HAS_PROCESS(ComputeEngine);
  SC_THREAD(run);
}

void ComputeEngine::reset() {
  in.clear();
  last_start_ = 0;
}

void ComputeEngine::charge_input_wait(const TileJob& j, std::int64_t from, std::int64_t arrived,
                                      OpStats& st) {
  std::int64_t barrier = 0;
  if (j.barrier_release > from) barrier = std::min(arrived, j.barrier_release) - from;
  if (barrier > 0 && j.barrier_holder >= 0) {
    const Engine holder = state_.ops[static_cast<std::size_t>(j.barrier_holder)].engine;
    if (holder != kind_) {
      (holder == Engine::Vector ? st.stall_vector_cycles : st.stall_mac_array_cycles) += barrier;
    } else {
      st.stall_dram_cycles += barrier;  // this engine's own earlier op draining its stores
    }
  } else {
    barrier = 0;
  }
  st.stall_dram_cycles += (arrived - from) - barrier;
}

void ComputeEngine::run() {
  for (;;) {
    const std::int64_t free_at = now_cycles();
    const TileJob j = in.pop();
    OpRecord& op = state_.ops[static_cast<std::size_t>(j.op)];
    OpStats& st = op.stats;
    const std::int64_t arrived = now_cycles();
    const std::int64_t from = std::max(free_at, op.start);
    if (arrived > from) charge_input_wait(j, from, arrived, st);
    state_.output_slots.acquire();
    const std::int64_t start = now_cycles();
    st.stall_dram_cycles += start - arrived;

    const TileRun& r = *j.run;
    const std::int64_t port = r.slowest_port_cycles();
    const std::int64_t occupancy = std::max(r.compute_cycles, port);
    std::int64_t& port_stall = r.slowest_port() == state_.machine->accumulator_buffer
                                   ? st.stall_accumulator_cycles
                                   : st.stall_sram_cycles;
    auto charge_tiles = [&](std::int64_t tiles) {
      (kind_ == Engine::MacArray ? st.mac_array_busy_cycles : st.vector_busy_cycles) +=
          tiles * r.compute_cycles;
      port_stall += tiles * (occupancy - r.compute_cycles);
      for (std::size_t b = 0; b < r.port_cycles.size(); ++b)
        st.buffer_busy_cycles[b] += tiles * r.port_cycles[b];
    };
    charge_tiles(1);
    if (j.measure) {
      // A compressed run (docs/simulator.md, "Long runs"): the pipeline is in
      // its steady state, one tile every `period` cycles; the tiles left out
      // cost that each, with the same busy and stall shares.
      const std::int64_t period = start - last_start_;
      const MachineParams& mp = *state_.machine;
      charge_tiles(j.extra_tiles);
      st.stall_dram_cycles += j.extra_tiles * std::max<std::int64_t>(0, period - occupancy);
      st.dram_busy_cycles += j.extra_tiles * (mp.dram_transfer_cycles(r.dram_read_bits) +
                                              mp.dram_transfer_cycles(r.dram_write_bits));
      state_.insertions.push_back({start, j.extra_tiles * period});
    }
    last_start_ = start;
    if (occupancy > 0) sc_core::wait(cycles_time(occupancy));
    state_.input_slots.release();
    if (r.dram_write_bits > 0) {
      to_store_.push(j);
    } else {
      state_.output_slots.release();
      state_.tile_complete(j.op);
    }
  }
}

}  // namespace lpsim
