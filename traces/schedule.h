// Precision schedules: (epoch, iteration, training state) -> precision of
// every tensor role. Parsed from one string each, e.g. "cyclic:3-8/8".
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/precision.h"

namespace lpsim {

// Where in training a precision is asked for. Iterations count from 0 over the
// whole run; an epoch has iterations_per_epoch iterations.
struct ScheduleContext {
  std::int64_t iteration = 0;
  std::int64_t total_iterations = 1;
  std::int64_t iterations_per_epoch = 1;
  std::int64_t epoch() const { return iteration / iterations_per_epoch; }
};

// A fixed precision for one named layer over the whole run (file schedules
// may list them); it overrides the all-layer precision for that layer.
struct LayerPrecision {
  std::string layer;
  PrecisionSet precision;
};

class Schedule {
 public:
  virtual ~Schedule() = default;
  // Canonical spec string; parse_schedule(spec()) gives the same schedule.
  virtual std::string spec() const = 0;
  // Precision of every tensor role at this point of training (all layers).
  virtual PrecisionSet at(const ScheduleContext& ctx) const = 0;
  // True for schedules that depend on training state (e.g. MuPPET's
  // gradient-diversity switching): only the trainer can run them, and `at`
  // returns the schedule's starting precision.
  virtual bool needs_training_state() const { return false; }
  // Per-layer precisions fixed for the whole run; the synthesizer writes them
  // as per-layer segments. Empty for every built-in kind but file:.
  virtual std::vector<LayerPrecision> layer_overrides() const { return {}; }
  // Training-state schedules: the precisions they may switch between, in
  // order (MuPPET: each fixed-point level, then FP32). Empty for the others.
  virtual std::vector<PrecisionSet> levels() const { return {}; }
};

// Parses: static:8/8 | static:fp32 | progressive:3-8/8[,ramp=0.5] |
// cyclic:3-8/8[,cycles=32] | two-phase:16/16->32/32[,at=0.5] | file:PATH |
// muppet:8,12,14,16 . Throws InputError naming the spec and the allowed range.
std::unique_ptr<Schedule> parse_schedule(std::string_view spec);

// CPT (Fu et al., ICLR 2021) cyclic precision at iteration t:
// round_half_even(b_min + 0.5 (b_max - b_min) (1 - cos(pi (t mod T_n) / T_n))),
// T_n = total_iterations / cycles.
int cpt_cyclic_bits(int b_min, int b_max, std::int64_t t, std::int64_t total_iterations,
                    int cycles);

}  // namespace lpsim
