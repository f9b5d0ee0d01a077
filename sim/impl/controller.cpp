// The controller module (docs/simulator.md, "SystemC modules").
#include "sim/impl/controller.h"

namespace lpsim {

Controller::Controller(sc_core::sc_module_name name, StepState& state, JobQueue& to_load)
    : sc_core::sc_module(name), state_(state), to_load_(to_load) {
  SC_HAS_PROCESS(Controller);
  SC_THREAD(run);
}

void Controller::start(const std::vector<StepOp>* ops, std::int64_t head) {
  ops_ = ops;
  head_ = head;
  done_ = false;
  end_ = 0;
  start_event_.notify(sc_core::SC_ZERO_TIME);
}

void Controller::issue(const StepOp& ref, int index) {
  const OpSchedule& s = *ref.schedule;
  bool first = true;
  auto job = [&](const TileRun& r) {
    TileJob j;
    j.op = index;
    j.run = &r;
    j.engine = s.engine;
    j.waits_for_earlier = first && ref.waits_for_earlier;
    first = false;
    return j;
  };
  for (const TileRun& r : s.runs) {
    const bool compress = head_ > 0 && r.count > 2 * head_;
    const std::int64_t issued = compress ? 2 * head_ : r.count;
    for (std::int64_t t = 0; t < issued; ++t) {
      TileJob j = job(r);
      if (compress && t == head_) {
        j.measure = true;
        j.extra_tiles = r.count - 2 * head_;
      }
      to_load_.push(j);
    }
  }
}

void Controller::run() {
  for (;;) {
    sc_core::wait(start_event_);
    const int n = static_cast<int>(ops_->size());
    for (int i = 0; i < n; ++i) {
      std::int64_t issued = 0;
      for (const TileRun& r : (*ops_)[static_cast<std::size_t>(i)].schedule->runs)
        issued += head_ > 0 && r.count > 2 * head_ ? 2 * head_ : r.count;
      state_.ops[static_cast<std::size_t>(i)].tiles_left = issued;
    }
    // Ops without tiles are complete at once (the prefix skips them).
    while (state_.completed_prefix < n &&
           state_.ops[static_cast<std::size_t>(state_.completed_prefix)].tiles_left == 0)
      ++state_.completed_prefix;
    for (int i = 0; i < n; ++i) issue((*ops_)[static_cast<std::size_t>(i)], i);
    while (state_.completed_prefix < n) sc_core::wait(state_.op_completed);
    end_ = now_cycles();
    done_ = true;
  }
}

}  // namespace lpsim
