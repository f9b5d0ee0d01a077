#include "trainer/loss_scale.h"

#include <algorithm>
#include <cmath>

namespace lpsim::trainer {

bool LossScaler::step_ok(std::int64_t overflow) {
  if (!dynamic) return true;
  if (overflow > 0) {
    scale = std::max(floor, scale * 0.5);
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

double enhanced_floor(double floor0, double growth, std::int64_t epoch) {
  const double f = floor0 * std::pow(growth, static_cast<double>(epoch));
  return std::isfinite(f) ? std::min(f, kMaxLossScale) : kMaxLossScale;
}

}  // namespace lpsim::trainer
