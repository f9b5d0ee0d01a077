// Off-chip memory as a SystemC module: one channel whose busy time per step
// is latency + bits / bandwidth (computed by the mapper); counts bits.
#pragma once

#include <cstdint>

#include <systemc>

#include "sim/impl/tile_txn.h"

namespace lpsim {

class Dram : public sc_core::sc_module {
 public:
  sc_core::sc_fifo_in<TileTxn> in;
  sc_core::sc_fifo_out<TileDone> out;

  explicit Dram(sc_core::sc_module_name name);
  void reset();
  std::int64_t busy_cycles() const { return busy_cycles_; }
  double read_bits() const { return read_bits_; }
  double write_bits() const { return write_bits_; }

 private:
  void run();  // SC_THREAD
  std::int64_t busy_cycles_ = 0;
  double read_bits_ = 0, write_bits_ = 0;
};

}  // namespace lpsim
