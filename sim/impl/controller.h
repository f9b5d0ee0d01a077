// The controller as a SystemC module: turns a step's ops into tile jobs and
// issues them all to the load engine in schedule order, then waits until
// every op has completed. It never waits for one tile before issuing the
// next: the modules pace themselves through the slot pools and the DRAM
// channel. Runs of identical tiles longer than 2 x `head` are issued as their
// first `head` and last `head` tiles (docs/simulator.md, "Long runs").
#pragma once

#include <cstdint>
#include <vector>

#include <systemc>

#include "sim/accelerator.h"
#include "sim/impl/step_state.h"

namespace lpsim {

class Controller : public sc_core::sc_module {
 public:
  Controller(sc_core::sc_module_name name, StepState& state, JobQueue& to_load);

  // Run-time state of one job: the ops to issue (not owned). `start()` is
  // called between sc_start calls; the job runs during the next one.
  void start(const std::vector<StepOp>* ops, std::int64_t head);
  bool done() const { return done_; }
  std::int64_t end_cycles() const { return end_; }

 private:
  void run();  // SC_THREAD: wait for a job, issue its tiles, wait for the last op
  void issue(const StepOp& op, int index);

  StepState& state_;
  JobQueue& to_load_;
  sc_core::sc_event start_event_;
  const std::vector<StepOp>* ops_ = nullptr;
  std::int64_t head_ = 0;
  bool done_ = true;
  std::int64_t end_ = 0;
};

}  // namespace lpsim
