// The MAC array as a SystemC module: takes a run of tile steps, stays busy
// for count x compute_cycles (the mapper's fold arithmetic), counts MACs.
#pragma once

#include <cstdint>

#include <systemc>

#include "sim/impl/tile_txn.h"

namespace lpsim {

class MacArray : public sc_core::sc_module {
 public:
  sc_core::sc_fifo_in<TileTxn> in;
  sc_core::sc_fifo_out<TileDone> out;

  explicit MacArray(sc_core::sc_module_name name);
  void reset();
  std::int64_t busy_cycles() const { return busy_cycles_; }
  double macs() const { return macs_; }

 private:
  void run();  // SC_THREAD: take a run of steps, wait its cycles, report
  std::int64_t busy_cycles_ = 0;
  double macs_ = 0;
};

}  // namespace lpsim
