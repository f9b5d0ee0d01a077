// The vector unit module: waits ceil(element ops / lanes) per tile (mapper).
#include "sim/vector_unit.h"

#include "sim/controller.h"

namespace lpsim {

VectorUnit::VectorUnit(sc_core::sc_module_name name) : sc_core::sc_module(name) {
  SC_HAS_PROCESS(VectorUnit);
  SC_THREAD(run);
}

void VectorUnit::reset() {
  busy_cycles_ = 0;
  element_ops_ = 0;
}

void VectorUnit::run() {
  for (;;) {
    const TileTxn txn = in.read();
    const TileStep& s = *txn.step;
    const std::int64_t busy = s.count * s.compute_cycles;
    wait(cycles_time(busy));
    busy_cycles_ += busy;
    element_ops_ += double(s.count) * s.vector_ops;
    out.write({busy});
  }
}

}  // namespace lpsim
