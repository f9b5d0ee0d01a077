// The simulated accelerator: the SystemC module tree (controller, MAC array,
// vector unit, buffer bank, DRAM, joined by sc_fifo channels), built once per
// process. Design points and ops are run-time state: each op's tile schedule
// (sim/mapper.h) runs in its own sc_start.
#pragma once

#include "sim/mapper.h"
#include "sim/stats.h"

namespace lpsim {

class Accelerator {
 public:
  // The one module tree of this process, built on first use; SystemC allows
  // modules only before the first sc_start, so lpsim never calls sc_start
  // anywhere else.
  static Accelerator& instance();

  // Runs the schedule to completion and returns what the modules measured:
  // cycles from the kernel's clock, busy cycles and event counts from each
  // module. Equal to predict_stats(schedule) by construction of the modules
  // (tests/sim/accelerator_test.cpp checks it).
  OpStats run(const OpSchedule& schedule);

  // Jobs run so far (one per run()).
  long jobs() const { return jobs_; }

  Accelerator(const Accelerator&) = delete;
  Accelerator& operator=(const Accelerator&) = delete;

 private:
  Accelerator();
  struct Modules;
  Modules* m_;  // lives until the process exits (SystemC objects outlive static destruction)
  long jobs_ = 0;
};

}  // namespace lpsim
