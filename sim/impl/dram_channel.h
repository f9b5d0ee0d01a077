// Off-chip memory as a SystemC module: one channel shared by every requester
// (the load engine and the store engine). A transfer holds the channel for
// ceil(bits / bits per cycle) cycles; its data arrives `latency` cycles after
// that, while the channel already serves the next request (the latency is
// pipelined, the bandwidth is not). Arbitration: requests are served one at
// a time in arrival order; requests that arrive at the same time are served
// round robin, starting with the requester not served last.
#pragma once

#include <array>
#include <cstdint>

#include <systemc>

namespace lpsim {

class DramChannel : public sc_core::sc_module {
 public:
  enum Requester { kLoad = 0, kStore = 1 };
  static constexpr int kRequesters = 2;

  explicit DramChannel(sc_core::sc_module_name name);
  void reset();

  // Called from a requester's thread: blocks until the transfer's data has
  // arrived. Returns the cycles the channel was busy with it.
  std::int64_t transfer(Requester who, std::int64_t channel_cycles, std::int64_t latency_cycles);

  std::int64_t busy_cycles() const { return busy_cycles_; }

 private:
  void arbiter();  // SC_THREAD: grant the channel, hold it, release it

  struct Request {
    bool pending = false;
    std::int64_t cycles = 0, latency = 0;
    sc_core::sc_event done;
  };
  std::array<Request, kRequesters> req_;
  sc_core::sc_event requested_;
  int last_served_ = kRequesters - 1;
  std::int64_t busy_cycles_ = 0;
};

}  // namespace lpsim
