// The MAC array module: waits what the mapper's fold arithmetic says.
#include "sim/mac_array.h"

#include "sim/controller.h"

namespace lpsim {

MacArray::MacArray(sc_core::sc_module_name name) : sc_core::sc_module(name) {
  SC_HAS_PROCESS(MacArray);
  SC_THREAD(run);
}

void MacArray::reset() {
  busy_cycles_ = 0;
  macs_ = 0;
}

void MacArray::run() {
  for (;;) {
    const TileTxn txn = in.read();
    const TileStep& s = *txn.step;
    const std::int64_t busy = s.count * s.compute_cycles;
    wait(cycles_time(busy));
    busy_cycles_ += busy;
    macs_ += double(s.count) * s.macs;
    out.write({busy});
  }
}

}  // namespace lpsim
