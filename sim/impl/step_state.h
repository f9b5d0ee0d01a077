// What the SystemC modules share while one step runs: the tile jobs that
// travel between them (counts, never data) and each op's measurements.
#pragma once

#include <cstdint>
#include <deque>
#include <ostream>
#include <vector>

#include <systemc>

#include "sim/mapper.h"

namespace lpsim {

// One cycle is one unit of the kernel's time resolution, so cycle counts are
// exact 64-bit integers in sc_time.
inline sc_core::sc_time cycles_time(std::int64_t cycles) {
  return sc_core::sc_time::from_value(static_cast<sc_dt::uint64>(cycles));
}
inline std::int64_t now_cycles() {
  return static_cast<std::int64_t>(sc_core::sc_time_stamp().value());
}

// One tile on its way through load -> compute -> store.
struct TileJob {
  int op = 0;                     // index of the op in the step
  const TileRun* run = nullptr;   // the tile's cycles and counts
  Engine engine = Engine::MacArray;
  bool waits_for_earlier = false;  // the op's first tile of a dependent op: barrier
  bool last_of_op = false;
  bool measure = false;  // first tile after a compressed run's head: the period is measured here
  std::int64_t extra_tiles = 0;  // with `measure`: tiles of the run not simulated
  // Filled on the way:
  std::int64_t load_start = 0;       // the load engine took it (before any barrier)
  std::int64_t barrier_release = 0;  // the barrier let it go (== load_start without one)
  int barrier_holder = -1;           // the op whose completion released the barrier
};

inline std::ostream& operator<<(std::ostream& os, const TileJob& j) {
  return os << "TileJob{op=" << j.op << "}";
}

// A FIFO queue of tile jobs between two modules, any number of writers, one
// reader; unbounded (back-pressure comes from the slot semaphores, which
// bound the jobs in flight to the buffering depth).
class JobQueue {
 public:
  void push(const TileJob& j) {
    q_.push_back(j);
    written_.notify(sc_core::SC_ZERO_TIME);
  }
  // Blocks the calling thread until a job is there.
  TileJob pop() {
    while (q_.empty()) sc_core::wait(written_);
    TileJob j = q_.front();
    q_.pop_front();
    return j;
  }
  void clear() { q_.clear(); }

 private:
  std::deque<TileJob> q_;
  sc_core::sc_event written_;
};

// Tile slots of the buffers: a counting semaphore whose size is run-time
// state (sc_semaphore's is fixed at construction, and the module tree is
// built once while the buffering depth is a design-point parameter).
class SlotPool {
 public:
  void reset(std::int64_t slots) { free_ = slots; }
  // Blocks the calling thread until a slot is free, and takes it.
  void acquire() {
    while (free_ == 0) sc_core::wait(released_);
    --free_;
  }
  void release() {
    ++free_;
    released_.notify(sc_core::SC_ZERO_TIME);
  }

 private:
  std::int64_t free_ = 0;
  sc_core::sc_event released_;
};

// What the modules measured for one op of the step.
struct OpRecord {
  Engine engine = Engine::MacArray;
  std::int64_t tiles_left = 0;  // tiles not yet complete (stored, or computed when nothing to store)
  std::int64_t start = -1;      // when the load engine took its first tile
  std::int64_t end = 0;         // when its last tile completed
  OpStats stats;                // busy, stall and event counts (cycles filled at the end)
};

// A compressed run's steady state: `extra_tiles` more tiles at `period_cycles`
// each, inserted in the timeline at `at` (docs/simulator.md, "Long runs").
struct Insertion {
  std::int64_t at = 0;
  std::int64_t extra_cycles = 0;
};

// The state of the step being run; reset before each job.
struct StepState {
  const MachineParams* machine = nullptr;
  std::vector<OpRecord> ops;
  int completed_prefix = 0;  // ops [0, completed_prefix) are complete
  int last_completed = -1;   // the op that completed most recently
  sc_core::sc_event op_completed;
  std::vector<Insertion> insertions;
  SlotPool input_slots, output_slots;

  // A tile of op `op` is complete: when it was the op's last, the op is.
  void tile_complete(int op) {
    OpRecord& r = ops[static_cast<std::size_t>(op)];
    if (--r.tiles_left > 0) return;
    r.end = now_cycles();
    last_completed = op;
    while (completed_prefix < static_cast<int>(ops.size()) &&
           ops[static_cast<std::size_t>(completed_prefix)].tiles_left == 0)
      ++completed_prefix;
    op_completed.notify(sc_core::SC_ZERO_TIME);
  }
};

}  // namespace lpsim
