// LRBench's learning-rate functions (Wu, Liu et al., "Demystifying Learning
// Rate Policies for High Accuracy Training of Deep Neural Networks", IEEE
// BigData 2019, Table I; code: github git-disl/LRBench, LRBench/lr/LRfunctions.py),
// selected with `--lr KIND:KEY=VALUE,...` (docs/trainer.md, "Learning-rate
// policies"). t is the 0-based iteration over the whole run.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lpsim::trainer {

// The paper's 13 (FIX, STEP, NSTEP, EXP, INV, POLY, TRI, TRI2, TRIEXP, SIN,
// SIN2, SINEXP, COS) plus COS2 and COSEXP from LRfunctions.py.
enum class LrFunction {
  Fix, Step, NStep, Exp, Inv, Poly,
  Tri, Tri2, TriExp, Sin, Sin2, SinExp, Cos, Cos2, CosExp,
};

struct LrPolicy {
  LrFunction function = LrFunction::Fix;
  double k0 = 0;     // FIX and decaying: the initial LR; cyclic: the LR where g(t) = 0
  double k1 = 0;     // cyclic: the LR where g(t) = 1; POLY: the final LR (default 0)
  double gamma = 0;  // decay factor (STEP, NSTEP, EXP, INV, *EXP)
  double p = 0;      // power (INV, POLY)
  std::int64_t l = 0;               // iterations: step size (STEP), half period (cyclic),
                                    // POLY's end (0: the run's total iterations)
  std::vector<std::int64_t> steps;  // NSTEP: l_0 < l_1 < ..., iterations
  bool operator==(const LrPolicy&) const = default;
};

// The lower-case name used in specs ("tri2", "cosexp").
std::string_view lr_function_name(LrFunction f);

// Parses "tri:k0=0.01,k1=0.1,l=500" (NSTEP: "nstep:k0=0.05,gamma=0.1,l=150+180").
// Throws InputError "--lr '<spec>': <what>; expected <form>", naming the
// field and its allowed range.
LrPolicy parse_lr_policy(std::string_view spec);

// Canonical spec: parameters in the form's order, shortest round-trip
// decimals, POLY's defaults omitted. parse_lr_policy(to_string(p)) == p.
std::string to_string(const LrPolicy& policy);

// The learning rate at iteration t of a run of `total_iterations`.
double lr_at(const LrPolicy& policy, std::int64_t t, std::int64_t total_iterations);

}  // namespace lpsim::trainer
