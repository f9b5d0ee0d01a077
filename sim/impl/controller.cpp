// The controller module: issues each run of tile steps and classifies its
// time as compute-bound or memory-bound from the modules' busy reports.
#include "sim/controller.h"

#include <algorithm>

namespace lpsim {

sc_core::sc_time cycles_time(std::int64_t cycles) {
  return sc_core::sc_time::from_value(static_cast<sc_dt::uint64>(cycles));
}

std::int64_t time_cycles(const sc_core::sc_time& t) { return static_cast<std::int64_t>(t.value()); }

Controller::Controller(sc_core::sc_module_name name) : sc_core::sc_module(name) {
  SC_HAS_PROCESS(Controller);
  SC_THREAD(run);
}

void Controller::start(const OpSchedule* schedule) {
  schedule_ = schedule;
  done_ = false;
  cycles_ = compute_bound_ = memory_bound_ = 0;
  start_event_.notify(sc_core::SC_ZERO_TIME);
}

void Controller::run() {
  for (;;) {
    wait(start_event_);
    const sc_core::sc_time t0 = sc_core::sc_time_stamp();
    const bool on_mac = schedule_->engine == Engine::MacArray;
    for (const TileStep& step : schedule_->steps) {
      const TileTxn txn{&step};
      if (step.overlapped)
        issue_overlapped(txn, on_mac);
      else
        issue_sequential(txn, on_mac);
    }
    cycles_ = time_cycles(sc_core::sc_time_stamp() - t0);
    done_ = true;
  }
}

// Engine, buffers and DRAM at once: the step lasts as long as the slowest;
// compute-bound when the engine is that one.
void Controller::issue_overlapped(const TileTxn& txn, bool on_mac) {
  const sc_core::sc_time t0 = sc_core::sc_time_stamp();
  (on_mac ? to_mac : to_vector)->write(txn);
  to_buffers->write(txn);
  to_dram->write(txn);
  const std::int64_t engine = (on_mac ? from_mac : from_vector)->read().busy_cycles;
  const std::int64_t buffers = from_buffers->read().busy_cycles;
  const std::int64_t dram = from_dram->read().busy_cycles;
  const std::int64_t elapsed = time_cycles(sc_core::sc_time_stamp() - t0);
  if (engine >= std::max(buffers, dram))
    compute_bound_ += elapsed;
  else
    memory_bound_ += elapsed;
}

// DRAM first, then the engine with the buffers: the DRAM part is a memory
// stall; the rest is compute-bound unless an SRAM port is slower.
void Controller::issue_sequential(const TileTxn& txn, bool on_mac) {
  const sc_core::sc_time t0 = sc_core::sc_time_stamp();
  to_dram->write(txn);
  from_dram->read();
  const sc_core::sc_time t1 = sc_core::sc_time_stamp();
  (on_mac ? to_mac : to_vector)->write(txn);
  to_buffers->write(txn);
  const std::int64_t engine = (on_mac ? from_mac : from_vector)->read().busy_cycles;
  const std::int64_t buffers = from_buffers->read().busy_cycles;
  const std::int64_t compute = time_cycles(sc_core::sc_time_stamp() - t1);
  const std::int64_t elapsed = time_cycles(sc_core::sc_time_stamp() - t0);
  const std::int64_t compute_part = engine >= buffers ? compute : 0;
  compute_bound_ += compute_part;
  memory_bound_ += elapsed - compute_part;
}

}  // namespace lpsim
