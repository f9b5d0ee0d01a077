// The load and store engines (docs/simulator.md, "SystemC modules").
#include "sim/impl/dma.h"

namespace lpsim {

LoadEngine::LoadEngine(sc_core::sc_module_name name, StepState& state, DramChannel& dram,
                       JobQueue& to_mac_array, JobQueue& to_vector_unit)
    : sc_core::sc_module(name),
      state_(state),
      dram_(dram),
      to_mac_array_(to_mac_array),
      to_vector_unit_(to_vector_unit) {
  SC_HAS_PROCESS(LoadEngine);
  SC_THREAD(run);
}

void LoadEngine::run() {
  for (;;) {
    TileJob j = in.pop();
    OpRecord& op = state_.ops[static_cast<std::size_t>(j.op)];
    j.load_start = now_cycles();
    if (op.start < 0) op.start = j.load_start;
    state_.input_slots.acquire();
    if (j.waits_for_earlier) {
      while (state_.completed_prefix < j.op) sc_core::wait(state_.op_completed);
      j.barrier_holder = state_.last_completed;
    }
    j.barrier_release = now_cycles();
    const MachineParams& mp = *state_.machine;
    if (j.run->dram_read_bits > 0)
      op.stats.dram_busy_cycles +=
          dram_.transfer(DramChannel::kLoad, mp.dram_transfer_cycles(j.run->dram_read_bits),
                         mp.dram_latency_cycles);
    (j.engine == Engine::MacArray ? to_mac_array_ : to_vector_unit_).push(j);
  }
}

StoreEngine::StoreEngine(sc_core::sc_module_name name, StepState& state, DramChannel& dram)
    : sc_core::sc_module(name), state_(state), dram_(dram) {
  SC_HAS_PROCESS(StoreEngine);
  SC_THREAD(run);
}

// Writes are posted: a tile's output slot is free once its bits have left on
// the channel, so the DRAM latency does not hold it.
void StoreEngine::run() {
  for (;;) {
    const TileJob j = in.pop();
    const MachineParams& mp = *state_.machine;
    state_.ops[static_cast<std::size_t>(j.op)].stats.dram_busy_cycles +=
        dram_.transfer(DramChannel::kStore, mp.dram_transfer_cycles(j.run->dram_write_bits), 0);
    state_.output_slots.release();
    state_.tile_complete(j.op);
  }
}

}  // namespace lpsim
