// The buffer bank module: every buffer's ports work in parallel; the bank is
// busy as long as its slowest port (mapper: bits / port bandwidth).
#include "sim/buffer.h"

#include <algorithm>

#include "sim/controller.h"

namespace lpsim {

BufferBank::BufferBank(sc_core::sc_module_name name) : sc_core::sc_module(name) {
  SC_HAS_PROCESS(BufferBank);
  SC_THREAD(run);
}

void BufferBank::reset(std::size_t buffers) {
  busy_cycles_.assign(buffers, 0);
  read_bits_.assign(buffers, 0);
  write_bits_.assign(buffers, 0);
}

void BufferBank::run() {
  for (;;) {
    const TileTxn txn = in.read();
    const TileStep& s = *txn.step;
    std::int64_t slowest = 0;
    for (std::size_t b = 0; b < busy_cycles_.size(); ++b) {
      const std::int64_t busy = s.count * s.buffer_cycles[b];
      busy_cycles_[b] += busy;
      read_bits_[b] += double(s.count) * s.sram_read_bits[b];
      write_bits_[b] += double(s.count) * s.sram_write_bits[b];
      slowest = std::max(slowest, busy);
    }
    wait(cycles_time(slowest));
    out.write({slowest});
  }
}

}  // namespace lpsim
