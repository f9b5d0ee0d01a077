// The DMA engines as SystemC modules. The load engine takes tile jobs in
// schedule order, waits for a free input slot (back-pressure from the
// buffers), for the op's producers when the op depends on earlier ops, then
// for its DRAM transfer, and hands the tile to its compute engine. The store
// engine writes computed tiles back to DRAM in the order they finish and
// frees their output slots.
#pragma once

#include <systemc>

#include "sim/impl/dram_channel.h"
#include "sim/impl/step_state.h"

namespace lpsim {

class LoadEngine : public sc_core::sc_module {
 public:
  JobQueue in;  // from the controller, schedule order
  LoadEngine(sc_core::sc_module_name name, StepState& state, DramChannel& dram,
             JobQueue& to_mac_array, JobQueue& to_vector_unit);

 private:
  void run();  // SC_THREAD
  StepState& state_;
  DramChannel& dram_;
  JobQueue &to_mac_array_, &to_vector_unit_;
};

class StoreEngine : public sc_core::sc_module {
 public:
  JobQueue in;  // from both compute engines, in the order they finish
  StoreEngine(sc_core::sc_module_name name, StepState& state, DramChannel& dram);

 private:
  void run();  // SC_THREAD
  StepState& state_;
  DramChannel& dram_;
};

}  // namespace lpsim
