// The DRAM module: busy latency + bits / bandwidth per step (mapper), counts bits.
#include "sim/dram.h"

#include "sim/controller.h"

namespace lpsim {

Dram::Dram(sc_core::sc_module_name name) : sc_core::sc_module(name) {
  SC_HAS_PROCESS(Dram);
  SC_THREAD(run);
}

void Dram::reset() {
  busy_cycles_ = 0;
  read_bits_ = write_bits_ = 0;
}

void Dram::run() {
  for (;;) {
    const TileTxn txn = in.read();
    const TileStep& s = *txn.step;
    const std::int64_t busy = s.count * s.dram_cycles;
    wait(cycles_time(busy));
    busy_cycles_ += busy;
    read_bits_ += double(s.count) * s.dram_read_bits;
    write_bits_ += double(s.count) * s.dram_write_bits;
    out.write({busy});
  }
}

}  // namespace lpsim
