#include "trainer/loss_scale.h"

#include <algorithm>

namespace lpsim::trainer {

bool LossScaler::step_ok(std::int64_t overflow) {
  if (!dynamic) return true;
  if (overflow > 0) {
    scale = std::max(1.0, scale * 0.5);
    good_steps = 0;
    ++skipped_epoch;
    return false;
  }
  if (++good_steps == window) {
    scale = std::min(kMaxLossScale, scale * 2.0);
    good_steps = 0;
  }
  return true;
}

}  // namespace lpsim::trainer
