// A compute engine as a SystemC module: the MAC array (GEMM tiles) or the
// vector unit (non-GEMM tiles): one class, two instances. It takes tiles
// whose loads have arrived, waits for a free output slot (back-pressure
// from the store engine), holds the tile max(compute cycles, slowest SRAM
// port) cycles, frees the tile's input slot, and passes it on to the store
// engine. It measures its own busy and stall cycles per op.
#pragma once

#include <systemc>

#include "sim/impl/step_state.h"

namespace lpsim {

class ComputeEngine : public sc_core::sc_module {
 public:
  JobQueue in;  // from the load engine
  ComputeEngine(sc_core::sc_module_name name, Engine kind, StepState& state, JobQueue& to_store);
  void reset();

 private:
  void run();  // SC_THREAD
  // Splits the wait for a tile's data between the dependency barrier and DRAM.
  void charge_input_wait(const TileJob& j, std::int64_t from, std::int64_t arrived, OpStats& st);

  Engine kind_;
  StepState& state_;
  JobQueue& to_store_;
  std::int64_t last_start_ = 0;  // when the previous tile started (period of a compressed run)
};

}  // namespace lpsim
