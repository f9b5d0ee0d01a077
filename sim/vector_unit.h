// The vector unit as a SystemC module: non-GEMM ops (batch norm, activations,
// pooling, adds, softmax, the weight update) at `lanes` element ops per cycle.
#pragma once

#include <cstdint>

#include <systemc>

#include "sim/impl/tile_txn.h"

namespace lpsim {

class VectorUnit : public sc_core::sc_module {
 public:
  sc_core::sc_fifo_in<TileTxn> in;
  sc_core::sc_fifo_out<TileDone> out;

  explicit VectorUnit(sc_core::sc_module_name name);
  void reset();
  std::int64_t busy_cycles() const { return busy_cycles_; }
  double element_ops() const { return element_ops_; }

 private:
  void run();  // SC_THREAD: take a run of steps, wait count x ceil(ops / lanes), report
  std::int64_t busy_cycles_ = 0;
  double element_ops_ = 0;
};

}  // namespace lpsim
