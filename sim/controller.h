// The controller as a SystemC module: walks an op's tile schedule and issues
// each run of identical steps to the compute engine, the buffers and DRAM.
// Double buffered steps go to all three at once (the step lasts as long as the
// slowest); otherwise DRAM goes first, then compute with the buffers.
#pragma once

#include <cstdint>

#include <systemc>

#include "sim/impl/tile_txn.h"

namespace lpsim {

class Controller : public sc_core::sc_module {
 public:
  sc_core::sc_fifo_out<TileTxn> to_mac, to_vector, to_buffers, to_dram;
  sc_core::sc_fifo_in<TileDone> from_mac, from_vector, from_buffers, from_dram;

  explicit Controller(sc_core::sc_module_name name);

  // Run-time state of one job: the schedule to walk (not owned). `start()`
  // is called between sc_start calls; the job runs during the next one.
  void start(const OpSchedule* schedule);
  bool done() const { return done_; }
  std::int64_t cycles() const { return cycles_; }
  std::int64_t compute_bound_cycles() const { return compute_bound_; }
  std::int64_t memory_bound_cycles() const { return memory_bound_; }

 private:
  void run();  // SC_THREAD: wait for a job, walk its steps
  void issue_overlapped(const TileTxn& txn, bool on_mac);
  void issue_sequential(const TileTxn& txn, bool on_mac);

  sc_core::sc_event start_event_;
  const OpSchedule* schedule_ = nullptr;
  bool done_ = true;
  std::int64_t cycles_ = 0, compute_bound_ = 0, memory_bound_ = 0;
};

// SystemC time of `cycles` cycles: one cycle is one unit of the kernel's time
// resolution, so a cycle count is exact in sc_time (64-bit).
sc_core::sc_time cycles_time(std::int64_t cycles);
std::int64_t time_cycles(const sc_core::sc_time& t);

}  // namespace lpsim
