// The on-chip SRAM buffers as one SystemC module (a bank of buffers): the
// module tree is built once per process, while the number of buffers is a
// design-point parameter, so the buffers are run-time state of one module.
// Each buffer's ports are busy for its share of a step; the bank reports the
// slowest port.
#pragma once

#include <cstdint>
#include <vector>

#include <systemc>

#include "sim/impl/tile_txn.h"

namespace lpsim {

class BufferBank : public sc_core::sc_module {
 public:
  sc_core::sc_fifo_in<TileTxn> in;
  sc_core::sc_fifo_out<TileDone> out;

  explicit BufferBank(sc_core::sc_module_name name);
  void reset(std::size_t buffers);
  const std::vector<std::int64_t>& busy_cycles() const { return busy_cycles_; }
  const std::vector<double>& read_bits() const { return read_bits_; }
  const std::vector<double>& write_bits() const { return write_bits_; }

 private:
  void run();  // SC_THREAD
  std::vector<std::int64_t> busy_cycles_;
  std::vector<double> read_bits_, write_bits_;
};

}  // namespace lpsim
