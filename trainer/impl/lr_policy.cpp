// LRBench's learning-rate functions: the spec parser and k(t), one formula
// per function as LRBench's LRfunctions.py computes it (docs/trainer.md).
#include "trainer/lr_policy.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <numbers>

#include "core/error.h"

namespace lpsim::trainer {
namespace {

enum Key : unsigned { kK0 = 1, kK1 = 2, kGamma = 4, kP = 8, kL = 16 };

struct Form {
  LrFunction function;
  std::string_view name;
  unsigned required;
  unsigned optional;
  std::string_view text;  // for error messages
};

constexpr Form kForms[] = {
    {LrFunction::Fix, "fix", kK0, 0, "fix:k0=K0"},
    {LrFunction::Step, "step", kK0 | kGamma | kL, 0, "step:k0=K0,gamma=G,l=L"},
    {LrFunction::NStep, "nstep", kK0 | kGamma | kL, 0, "nstep:k0=K0,gamma=G,l=L0+L1+..."},
    {LrFunction::Exp, "exp", kK0 | kGamma, 0, "exp:k0=K0,gamma=G"},
    {LrFunction::Inv, "inv", kK0 | kGamma | kP, 0, "inv:k0=K0,gamma=G,p=P"},
    {LrFunction::Poly, "poly", kK0 | kP, kK1 | kL, "poly:k0=K0,p=P[,k1=K1][,l=L]"},
    {LrFunction::Tri, "tri", kK0 | kK1 | kL, 0, "tri:k0=K0,k1=K1,l=L"},
    {LrFunction::Tri2, "tri2", kK0 | kK1 | kL, 0, "tri2:k0=K0,k1=K1,l=L"},
    {LrFunction::TriExp, "triexp", kK0 | kK1 | kGamma | kL, 0, "triexp:k0=K0,k1=K1,gamma=G,l=L"},
    {LrFunction::Sin, "sin", kK0 | kK1 | kL, 0, "sin:k0=K0,k1=K1,l=L"},
    {LrFunction::Sin2, "sin2", kK0 | kK1 | kL, 0, "sin2:k0=K0,k1=K1,l=L"},
    {LrFunction::SinExp, "sinexp", kK0 | kK1 | kGamma | kL, 0, "sinexp:k0=K0,k1=K1,gamma=G,l=L"},
    {LrFunction::Cos, "cos", kK0 | kK1 | kL, 0, "cos:k0=K0,k1=K1,l=L"},
    {LrFunction::Cos2, "cos2", kK0 | kK1 | kL, 0, "cos2:k0=K0,k1=K1,l=L"},
    {LrFunction::CosExp, "cosexp", kK0 | kK1 | kGamma | kL, 0, "cosexp:k0=K0,k1=K1,gamma=G,l=L"},
};

constexpr std::string_view kKinds =
    "KIND:KEY=VALUE,... with KIND one of fix, step, nstep, exp, inv, poly, tri, tri2, triexp, "
    "sin, sin2, sinexp, cos, cos2, cosexp";
constexpr std::int64_t kMaxIterations = 1'000'000'000'000;

const Form& form_of(LrFunction f) {
  for (const Form& form : kForms)
    if (form.function == f) return form;
  return kForms[0];
}

bool cyclic(LrFunction f) { return f >= LrFunction::Tri; }

[[noreturn]] void fail(std::string_view spec, std::string_view what, std::string_view form) {
  throw InputError(fmt::format("--lr '{}': {}; expected {}", spec, what, form));
}

struct Field {
  std::string_view spec, form;

  double number(std::string_view key, std::string_view text) const {
    double v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v))
      fail(spec, fmt::format("{} = '{}' is not a number", key, text), form);
    return v;
  }
  double positive(std::string_view key, std::string_view text) const {
    const double v = number(key, text);
    if (!(v > 0)) fail(spec, fmt::format("{} = {} is outside (0, inf)", key, text), form);
    return v;
  }
  double non_negative(std::string_view key, std::string_view text) const {
    const double v = number(key, text);
    if (!(v >= 0)) fail(spec, fmt::format("{} = {} is outside [0, inf)", key, text), form);
    return v;
  }
  double decay(std::string_view key, std::string_view text) const {
    const double v = number(key, text);
    if (!(v > 0 && v <= 1)) fail(spec, fmt::format("{} = {} is outside (0, 1]", key, text), form);
    return v;
  }
  std::int64_t iterations(std::string_view key, std::string_view text) const {
    long long v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size())
      fail(spec, fmt::format("{} = '{}' is not a whole number of iterations", key, text), form);
    if (v < 1 || v > kMaxIterations)
      fail(spec, fmt::format("{} = {} is outside 1..{} iterations", key, text, kMaxIterations),
           form);
    return v;
  }
};

// "150+180" -> {150, 180}, strictly increasing.
std::vector<std::int64_t> step_list(const Field& field, std::string_view text) {
  std::vector<std::int64_t> steps;
  std::size_t pos = 0;
  while (true) {
    const std::size_t plus = text.find('+', pos);
    const std::int64_t v = field.iterations("l", text.substr(pos, plus - pos));
    if (!steps.empty() && v <= steps.back())
      fail(field.spec,
           fmt::format("l = {}: the steps must increase ({} is not above {})", text, v,
                       steps.back()),
           field.form);
    steps.push_back(v);
    if (plus == std::string_view::npos) return steps;
    pos = plus + 1;
  }
}

unsigned key_bit(std::string_view key) {
  if (key == "k0") return kK0;
  if (key == "k1") return kK1;
  if (key == "gamma") return kGamma;
  if (key == "p") return kP;
  if (key == "l") return kL;
  return 0;
}

void set_field(LrPolicy& policy, unsigned bit, std::string_view key, std::string_view value,
               const Field& field) {
  const LrFunction f = policy.function;
  switch (bit) {
    case kK0:
      policy.k0 = cyclic(f) ? field.non_negative(key, value) : field.positive(key, value);
      break;
    case kK1:
      policy.k1 = field.non_negative(key, value);
      break;
    case kGamma:
      policy.gamma = f == LrFunction::Inv ? field.positive(key, value) : field.decay(key, value);
      break;
    case kP:
      policy.p = field.positive(key, value);
      break;
    default:  // kL
      if (f == LrFunction::NStep)
        policy.steps = step_list(field, value);
      else
        policy.l = field.iterations(key, value);
  }
}

// The triangle, sine and cosine shapes g(t) in [0, 1] of Table I, with LRBench's
// period = 2 l.
double tri(double t, double l) {
  return (2 / std::numbers::pi) * std::fabs(std::asin(std::sin(std::numbers::pi * t / (2 * l))));
}
double sine(double t, double l) { return std::fabs(std::sin(std::numbers::pi * t / (2 * l))); }
double cosine(double t, double l) { return 0.5 * (1 + std::cos(std::numbers::pi * t / l)); }

}  // namespace

std::string_view lr_function_name(LrFunction f) { return form_of(f).name; }

LrPolicy parse_lr_policy(std::string_view spec) {
  const std::size_t colon = spec.find(':');
  if (colon == std::string_view::npos) fail(spec, "no function given", kKinds);
  const std::string_view kind = spec.substr(0, colon);
  const Form* form = nullptr;
  for (const Form& f : kForms)
    if (f.name == kind) form = &f;
  if (form == nullptr) fail(spec, fmt::format("unknown function '{}'", kind), kKinds);
  LrPolicy policy;
  policy.function = form->function;
  const Field field{spec, form->text};
  unsigned seen = 0;
  std::string_view rest = spec.substr(colon + 1);
  while (true) {
    const std::size_t comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    const std::size_t eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0)
      fail(spec, fmt::format("'{}' is not KEY=VALUE", item), form->text);
    const std::string_view key = item.substr(0, eq), value = item.substr(eq + 1);
    const unsigned bit = key_bit(key);
    if ((bit & (form->required | form->optional)) == 0)
      fail(spec, fmt::format("{} takes no key '{}'", form->name, key), form->text);
    if (seen & bit) fail(spec, fmt::format("{} given twice", key), form->text);
    seen |= bit;
    set_field(policy, bit, key, value, field);
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  for (const char* key : {"k0", "k1", "gamma", "p", "l"})
    if ((form->required & key_bit(key)) && !(seen & key_bit(key)))
      fail(spec, fmt::format("missing {}", key), form->text);
  if (cyclic(policy.function) && policy.k0 == 0 && policy.k1 == 0)
    fail(spec, "k0 = 0 and k1 = 0 give a zero LR throughout; one must be > 0", form->text);
  return policy;
}

std::string to_string(const LrPolicy& p) {
  const Form& form = form_of(p.function);
  const unsigned keys = form.required | form.optional;
  std::string out = fmt::format("{}:k0={}", form.name, p.k0);
  if ((keys & kK1) && (p.function != LrFunction::Poly || p.k1 != 0)) out += fmt::format(",k1={}", p.k1);
  if (keys & kGamma) out += fmt::format(",gamma={}", p.gamma);
  if (keys & kP) out += fmt::format(",p={}", p.p);
  if (p.function == LrFunction::NStep) {
    out += ",l=";
    for (std::size_t i = 0; i < p.steps.size(); ++i)
      out += fmt::format("{}{}", i ? "+" : "", p.steps[i]);
  } else if ((keys & kL) && p.l > 0) {
    out += fmt::format(",l={}", p.l);
  }
  return out;
}

double lr_at(const LrPolicy& p, std::int64_t iteration, std::int64_t total_iterations) {
  const double t = static_cast<double>(iteration);
  const double l = static_cast<double>(p.l);
  const double range = p.k1 - p.k0;
  switch (p.function) {
    case LrFunction::Fix:
      return p.k0;
    case LrFunction::Step:
      return p.k0 * std::pow(p.gamma, std::floor(t / l));
    case LrFunction::NStep: {
      int passed = 0;  // LRBench: i such that l_{i-1} <= t < l_i
      for (std::int64_t s : p.steps) passed += iteration >= s ? 1 : 0;
      return p.k0 * std::pow(p.gamma, passed);
    }
    case LrFunction::Exp:
      return p.k0 * std::pow(p.gamma, t);
    case LrFunction::Inv:
      return p.k0 * std::pow(1 + p.gamma * t, -p.p);
    case LrFunction::Poly: {
      // Table I: k0 (1 - t/l)^p, l = max_iter by default; LRfunctions.py adds
      // the final LR (there named k0, here k1, so k0 stays the initial LR).
      const double end = p.l > 0 ? l : static_cast<double>(total_iterations);
      if (t >= end) return p.k1;
      return (p.k0 - p.k1) * std::pow(1.0 - t / end, p.p) + p.k1;
    }
    case LrFunction::Tri:
      return range * tri(t, l) + p.k0;
    case LrFunction::Tri2:
      return range * tri(t, l) / std::pow(2.0, std::floor(t / (2 * l))) + p.k0;
    case LrFunction::TriExp:
      return range * tri(t, l) * std::pow(p.gamma, t) + p.k0;
    case LrFunction::Sin:
      return range * sine(t, l) + p.k0;
    case LrFunction::Sin2:
      return range * sine(t, l) / std::pow(2.0, std::floor(t / (2 * l))) + p.k0;
    case LrFunction::SinExp:
      return range * sine(t, l) * std::pow(p.gamma, t) + p.k0;
    case LrFunction::Cos:
      return range * cosine(t, l) + p.k0;
    case LrFunction::Cos2:  // halves at the troughs, t = l, 3l, 5l, ...: continuous
      return range * cosine(t, l) / std::pow(2.0, std::floor((t + l) / (2 * l))) + p.k0;
    case LrFunction::CosExp:
      return range * cosine(t, l) * std::pow(p.gamma, t) + p.k0;
  }
  return p.k0;
}

}  // namespace lpsim::trainer
