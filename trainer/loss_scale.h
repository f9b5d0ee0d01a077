// Loss scaling for low-precision errors and gradients (docs/trainer.md):
// the loss gradient is multiplied by S so that small errors survive a narrow
// float format, and the weight gradients are divided by S after G
// quantization. Static: S fixed. Dynamic (Micikevicius et al. 2018, Sec. 3.2;
// PyTorch's GradScaler): a step whose errors or gradients overflow is
// skipped and S halves; after `window` clean steps in a row S doubles.
// Enhanced (Sun et al. 2019, HFP8): dynamic, with a lower bound on S that
// grows over training, so that late, small gradients are not flushed by a
// scale that sporadic overflows drove down.
#pragma once

#include <cstdint>

namespace lpsim::trainer {

// S stays in [1, kMaxLossScale]: below 1 it would shrink the gradients it
// exists to protect; 2^64 leaves float32 range for S / batch and more.
inline constexpr double kMaxLossScale = 18446744073709551616.0;  // 2^64
inline constexpr double kDefaultDynamicLossScale = 65536.0;      // GradScaler's init_scale

struct LossScaler {
  bool dynamic = false;
  double scale = 1;
  std::int64_t window = 2000;      // GradScaler's growth_interval
  std::int64_t good_steps = 0;     // clean steps since S last changed
  std::int64_t skipped_epoch = 0;  // steps skipped in the current epoch
  double floor = 1;                // S never halves below it (enhanced: enhanced_floor)

  // True when a dynamic scaler meets an overflow it cannot back off from
  // (S = 1 already): training has diverged.
  bool diverged(std::int64_t overflow) const { return dynamic && overflow > 0 && scale <= 1; }
  // After the backward pass of a step with `overflow` overflowing values
  // (quantize.h): whether to apply the update. Dynamic: an overflow skips it
  // and halves S (not below `floor`); the window's last clean step doubles S (not
  // above kMaxLossScale). Static: always update, S unchanged.
  bool step_ok(std::int64_t overflow);
};

// Enhanced loss scaling's lower bound in epoch `epoch` (0-based):
// floor0 x growth^epoch, at most kMaxLossScale.
double enhanced_floor(double floor0, double growth, std::int64_t epoch);

}  // namespace lpsim::trainer
