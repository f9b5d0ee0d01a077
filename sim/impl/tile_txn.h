// The transactions between the SystemC modules: a run of identical tile steps
// (counts, not data) and the busy time a module spent on it.
#pragma once

#include <cstdint>
#include <ostream>

#include "sim/mapper.h"

namespace lpsim {

// Controller -> module: do your part of `step->count` identical steps.
struct TileTxn {
  const TileStep* step = nullptr;
};

// Module -> controller: the cycles it was busy on the transaction.
struct TileDone {
  std::int64_t busy_cycles = 0;
};

// sc_fifo<T> prints its contents through operator<<.
inline std::ostream& operator<<(std::ostream& os, const TileTxn& t) {
  return os << "TileTxn{count=" << (t.step ? t.step->count : 0) << "}";
}
inline std::ostream& operator<<(std::ostream& os, const TileDone& d) {
  return os << "TileDone{busy=" << d.busy_cycles << "}";
}

}  // namespace lpsim
