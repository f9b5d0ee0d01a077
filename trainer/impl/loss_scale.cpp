#include "trainer/loss_scale.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "core/error.h"
#include "trainer/trainer.h"

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

// --loss-scale: "S" (static), "dynamic" (from 2^16) or "dynamic:S";
// "enhanced" / "enhanced:S" (dynamic with a growing floor); "adaptive:" in
// front of any of the static / dynamic forms, or alone ("adaptive" = S 1),
// adds per-layer adaptive scales.
void parse_loss_scale_option(const std::string& full, TrainOptions& o) {
  std::string text = full;
  o.adaptive_loss_scale = false;
  o.enhanced_loss_scale = false;
  if (text == "adaptive") text = "1";
  if (text.rfind("adaptive:", 0) == 0) {
    o.adaptive_loss_scale = true;
    text = text.substr(9);
  } else if (full == "adaptive") {
    o.adaptive_loss_scale = true;
  }
  if (text == "enhanced" || text.rfind("enhanced:", 0) == 0) {
    o.enhanced_loss_scale = true;
    text = text == "enhanced" ? "dynamic" : "dynamic:" + text.substr(9);
  }
  const std::string allowed =
      "must be a number in 1..2^64 (static), dynamic, dynamic:<initial scale>, "
      "enhanced[:<initial scale>], or adaptive[:<static or dynamic form>]";
  if (o.adaptive_loss_scale && o.enhanced_loss_scale)
    throw InputError(fmt::format("--loss-scale {}: {}", full, allowed));
  std::string number = text;
  o.dynamic_loss_scale = false;
  if (text == "dynamic") {
    o.dynamic_loss_scale = true;
    o.loss_scale = kDefaultDynamicLossScale;
    return;
  }
  if (text.rfind("dynamic:", 0) == 0) {
    o.dynamic_loss_scale = true;
    number = text.substr(8);
  }
  std::size_t used = 0;
  try {
    o.loss_scale = std::stod(number, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != number.size())
    throw InputError(fmt::format("--loss-scale {}: {}", full, allowed));
}

}  // namespace lpsim::trainer
