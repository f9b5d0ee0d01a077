// The DRAM channel: one arbiter thread grants the channel to one request at
// a time (docs/simulator.md, "DRAM channel").
#include "sim/impl/dram_channel.h"

#include "sim/impl/step_state.h"

namespace lpsim {

DramChannel::DramChannel(sc_core::sc_module_name name) : sc_core::sc_module(name) {
  SC_HAS_PROCESS(DramChannel);
  SC_THREAD(arbiter);
}

void DramChannel::reset() {
  busy_cycles_ = 0;
  last_served_ = kRequesters - 1;
  for (auto& r : req_) r.pending = false;
}

std::int64_t DramChannel::transfer(Requester who, std::int64_t channel_cycles,
                                   std::int64_t latency_cycles) {
  Request& r = req_[who];
  r.pending = true;
  r.cycles = channel_cycles;
  r.latency = latency_cycles;
  requested_.notify(sc_core::SC_ZERO_TIME);
  sc_core::wait(r.done);
  return channel_cycles;
}

void DramChannel::arbiter() {
  for (;;) {
    bool any = false;
    for (const auto& r : req_) any = any || r.pending;
    if (!any) {
      sc_core::wait(requested_);
      // A request posted one delta later in the same cycle joins this round.
      sc_core::wait(sc_core::SC_ZERO_TIME);
      continue;
    }
    int who = -1;
    for (int i = 1; i <= kRequesters && who < 0; ++i) {
      const int c = (last_served_ + i) % kRequesters;
      if (req_[static_cast<std::size_t>(c)].pending) who = c;
    }
    Request& r = req_[static_cast<std::size_t>(who)];
    r.pending = false;
    last_served_ = who;
    if (r.cycles > 0) sc_core::wait(cycles_time(r.cycles));
    busy_cycles_ += r.cycles;
    r.done.notify(cycles_time(r.latency));
  }
}

}  // namespace lpsim
