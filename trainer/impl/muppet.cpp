// MuPPET's gradient-diversity switching policy (see muppet.h).
#include "trainer/muppet.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace lpsim::trainer {

double muppet_threshold(std::int64_t epoch) {
  return 1.0 + 1.5 * std::exp(-0.1 * static_cast<double>(epoch));
}

MuppetDecision muppet_end_epoch(MuppetState& s, std::int64_t epoch,
                                const std::vector<const std::vector<float>*>& grads, int levels) {
  MuppetDecision d;
  if (s.level >= levels - 1) return d;  // FP32 reached: nothing left to switch to
  if (s.sum_norms.empty()) {
    s.sum_norms.assign(grads.size(), 0.0);
    s.sum_grads.resize(grads.size());
    for (std::size_t p = 0; p < grads.size(); ++p) s.sum_grads[p].assign(grads[p]->size(), 0.0);
  }
  if (s.sum_norms.size() != grads.size()) throw InternalError("muppet: parameter count changed");
  for (std::size_t p = 0; p < grads.size(); ++p) {
    const auto& g = *grads[p];
    double norm2 = 0;
    for (std::size_t i = 0; i < g.size(); ++i) {
      norm2 += static_cast<double>(g[i]) * g[i];
      s.sum_grads[p][i] += g[i];
    }
    s.sum_norms[p] += norm2;
  }
  if (++s.epochs_summed < kMuppetResolution) return d;
  d.checked = true;
  double total = 0;
  int counted = 0;
  for (std::size_t p = 0; p < grads.size(); ++p) {
    double sum2 = 0;
    for (double v : s.sum_grads[p]) sum2 += v * v;
    // A tensor whose summed gradient is exactly zero has unbounded diversity;
    // it is left out of the mean rather than turning it into Inf.
    if (sum2 > 0) {
      total += s.sum_norms[p] / sum2;
      ++counted;
    }
  }
  d.delta = counted > 0 ? total / counted : 0.0;
  s.epochs_summed = 0;
  for (std::size_t p = 0; p < grads.size(); ++p) {
    s.sum_norms[p] = 0;
    std::fill(s.sum_grads[p].begin(), s.sum_grads[p].end(), 0.0);
  }
  if (counted == 0) return d;
  if (d.delta >= s.max_delta) {
    s.max_delta = d.delta;
  } else if (s.max_delta / d.delta > muppet_threshold(epoch)) {
    d.violation = true;
    if (++s.violations >= kMuppetGamma) {
      d.switched = true;
      ++s.level;
      s.violations = 0;
      s.max_delta = 0;
    }
  }
  return d;
}

}  // namespace lpsim::trainer
