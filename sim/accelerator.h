// The simulated accelerator: the SystemC module tree (controller, load and
// store engines, MAC array, vector unit, DRAM channel, with the buffers' tile
// slots between them), built once per process. Design points and steps are
// run-time state: each job (one training step's ops, or one op) runs in its
// own sc_start, and the timing comes out of the modules' interplay
// (docs/simulator.md, "SystemC modules").
#pragma once

#include <cstdint>
#include <vector>

#include "sim/mapper.h"
#include "sim/stats.h"

namespace lpsim {

// One op of a job: its tile schedule (not owned), and whether its loads must
// wait until every earlier op of the job has completed (it reads what they
// write: sim/replay.cpp decides).
struct StepOp {
  const OpSchedule* schedule = nullptr;
  bool waits_for_earlier = false;
};

class Accelerator {
 public:
  // The one module tree of this process, built on first use; SystemC allows
  // modules only before the first sc_start, so lpsim never calls sc_start
  // anywhere else.
  static Accelerator& instance();

  // Runs the ops in order on `machine`, each op's loads starting as soon as
  // buffer slots (and its dependencies) allow, so consecutive ops overlap.
  // Per op: the cycles attributed to it (its completion minus the latest
  // completion of the ops before it: they add up to the job's cycles), busy
  // and stall cycles from the modules, event counts.
  std::vector<OpStats> run(const std::vector<StepOp>& ops, const MachineParams& machine);
  // One op alone.
  OpStats run(const OpSchedule& schedule, const MachineParams& machine);

  // Runs of identical tiles longer than 2 x head are simulated as their
  // first and last `head` tiles, the rest at the steady-state period measured
  // between them (docs/simulator.md, "Long runs"); 0 simulates every tile.
  // The default is buffering + 4 tiles (set_head(-1)).
  void set_head(std::int64_t tiles) { head_ = tiles; }

  // Jobs run so far (one per run()).
  long jobs() const { return jobs_; }

  Accelerator(const Accelerator&) = delete;
  Accelerator& operator=(const Accelerator&) = delete;

 private:
  Accelerator();
  struct Modules;
  Modules* m_;  // lives until the process exits (SystemC objects outlive static destruction)
  long jobs_ = 0;
  std::int64_t head_ = -1;
};

}  // namespace lpsim
