// MuPPET's precision switching by gradient diversity (REFERENCES.md):
// once per epoch, after its last minibatch, for every parameter tensor p:
//   sum_norms[p] += ||g_p||^2,  sum_grads[p] += g_p.
// Every r = 3 epochs: Delta = mean_p(sum_norms[p] / ||sum_grads[p]||^2), sums
// reset. Delta >= max_delta: max_delta = Delta. Otherwise a violation when
// max_delta / Delta > T(j) = 1 + 1.5 exp(-0.1 j), j the global epoch index;
// gamma = 2 violations (cumulative within a level) switch to the next level
// and reset the count and max_delta.
#pragma once

#include <cstdint>
#include <vector>

namespace lpsim::trainer {

struct MuppetState {
  int level = 0;            // index into Schedule::levels()
  int violations = 0;
  int epochs_summed = 0;    // epochs accumulated since the last check
  double max_delta = 0;
  std::vector<double> sum_norms;               // per parameter tensor
  std::vector<std::vector<double>> sum_grads;  // per parameter tensor, per element
};

inline constexpr int kMuppetResolution = 3;  // r: epochs between checks
inline constexpr int kMuppetGamma = 2;       // violations that trigger a switch

double muppet_threshold(std::int64_t epoch);  // T(j) = 1 + 1.5 exp(-0.1 j)

struct MuppetDecision {
  bool checked = false;   // this epoch ended a window of r epochs
  double delta = 0;       // gradient diversity of the window (when checked)
  bool violation = false;
  bool switched = false;  // moved to the next level
};

// Call at the end of epoch `epoch` (0-based, global) with the last
// minibatch's gradient of every parameter tensor. `levels` = number of
// levels (the last is FP32; no check happens once there).
MuppetDecision muppet_end_epoch(MuppetState& state, std::int64_t epoch,
                                const std::vector<const std::vector<float>*>& grads, int levels);

}  // namespace lpsim::trainer
