// The module tree and one job per sc_start.
#include "sim/accelerator.h"

#include <systemc>

#include "core/error.h"
#include "sim/buffer.h"
#include "sim/controller.h"
#include "sim/dram.h"
#include "sim/mac_array.h"
#include "sim/vector_unit.h"

// lpsim has its own main(); Debian's libsystemc.so still references sc_main
// from its built-in main(), so the link needs a definition. lpsim never
// enters SystemC through it.
int sc_main(int, char*[]) { throw lpsim::InternalError("sc_main: lpsim runs SystemC from its own main"); }

namespace lpsim {

struct Accelerator::Modules {
  Controller controller{"controller"};
  MacArray mac_array{"mac_array"};
  VectorUnit vector_unit{"vector_unit"};
  BufferBank buffers{"buffers"};
  Dram dram{"dram"};
  // One request and one reply channel per module; depth 1 is enough, the
  // controller waits for every reply before the next step.
  sc_core::sc_fifo<TileTxn> mac_req{"mac_req", 1}, vector_req{"vector_req", 1},
      buffers_req{"buffers_req", 1}, dram_req{"dram_req", 1};
  sc_core::sc_fifo<TileDone> mac_done{"mac_done", 1}, vector_done{"vector_done", 1},
      buffers_done{"buffers_done", 1}, dram_done{"dram_done", 1};

  Modules() {
    controller.to_mac(mac_req);
    controller.to_vector(vector_req);
    controller.to_buffers(buffers_req);
    controller.to_dram(dram_req);
    controller.from_mac(mac_done);
    controller.from_vector(vector_done);
    controller.from_buffers(buffers_done);
    controller.from_dram(dram_done);
    mac_array.in(mac_req);
    mac_array.out(mac_done);
    vector_unit.in(vector_req);
    vector_unit.out(vector_done);
    buffers.in(buffers_req);
    buffers.out(buffers_done);
    dram.in(dram_req);
    dram.out(dram_done);
  }
};

Accelerator& Accelerator::instance() {
  static Accelerator* const acc = new Accelerator();  // never destroyed, see m_
  return *acc;
}

Accelerator::Accelerator() : m_(new Modules()) {
  if (sc_core::sc_is_running())
    throw InternalError("Accelerator: the SystemC kernel was started before the module tree");
  // Elaborate and let every thread reach its first wait.
  sc_core::sc_start(sc_core::SC_ZERO_TIME);
}

OpStats Accelerator::run(const OpSchedule& schedule) {
  Modules& m = *m_;
  const auto buffers = static_cast<std::size_t>(schedule.buffers);
  m.mac_array.reset();
  m.vector_unit.reset();
  m.buffers.reset(buffers);
  m.dram.reset();
  m.controller.start(&schedule);
  sc_core::sc_start();  // runs until every thread waits again: the job is over
  if (!m.controller.done())
    throw InternalError("Accelerator: the controller stopped before the end of its schedule");
  ++jobs_;

  OpStats st;
  st.cycles = m.controller.cycles();
  st.compute_bound_cycles = m.controller.compute_bound_cycles();
  st.memory_bound_cycles = m.controller.memory_bound_cycles();
  st.mac_array_busy_cycles = m.mac_array.busy_cycles();
  st.vector_busy_cycles = m.vector_unit.busy_cycles();
  st.dram_busy_cycles = m.dram.busy_cycles();
  st.buffer_busy_cycles = m.buffers.busy_cycles();
  st.macs = m.mac_array.macs();
  st.vector_ops = m.vector_unit.element_ops();
  st.sram_read_bits = m.buffers.read_bits();
  st.sram_write_bits = m.buffers.write_bits();
  st.dram_read_bits = m.dram.read_bits();
  st.dram_write_bits = m.dram.write_bits();
  st.tiles = schedule.tiles;
  if (schedule.engine == Engine::MacArray) {
    st.run_a = schedule.pe.run_a;
    st.run_b = schedule.pe.run_b;
    st.peak_macs_per_cycle = schedule.peak_macs_per_cycle;
  }
  return st;
}

}  // namespace lpsim
