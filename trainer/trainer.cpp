// The training loop: data, schedule, quantized steps, MuPPET switching, the
// CPT range test, metrics, checkpoints, and the trace of what ran.
#include "trainer/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <numbers>
#include <optional>
#include <regex>

#include <fmt/format.h>

#include "core/atomic_file.h"
#include "core/error.h"
#include "models/zoo.h"
#include "traces/schedule.h"
#include "trainer/confidence.h"
#include "trainer/impl/checkpoint.h"
#include "trainer/loss_scale.h"
#include "trainer/lr_policy.h"
#include "trainer/master_weights.h"
#include "trainer/muppet.h"
#include "trainer/network.h"
#include "trainer/svrg.h"

namespace lpsim::trainer {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::uint64_t kShuffleStream = 0x5eed5eedULL;
constexpr std::uint64_t kEvalIterationBase = std::uint64_t{1} << 62;
constexpr std::uint64_t kRecalibrationIterationBase = (std::uint64_t{1} << 62) + (std::uint64_t{1} << 61);
constexpr std::uint64_t kAnchorIterationBase = (std::uint64_t{1} << 62) + (std::uint64_t{1} << 60);

void validate(const TrainOptions& o) {
  auto positive = [](const char* name, double v) {
    if (!(v > 0)) throw InputError(fmt::format("{} = {}: must be > 0", name, v));
  };
  if (o.epochs < 1 || o.epochs > 100000)
    throw InputError(fmt::format("--epochs = {}: must be in 1..100000", o.epochs));
  if (o.batch < 1 || o.batch > 65536)
    throw InputError(fmt::format("--batch = {}: must be in 1..65536", o.batch));
  positive("--lr", o.lr);
  if (!(o.momentum >= 0 && o.momentum < 1))
    throw InputError(fmt::format("--momentum = {}: must be in [0, 1)", o.momentum));
  if (!(o.weight_decay >= 0 && o.weight_decay < 1))
    throw InputError(fmt::format("--weight-decay = {}: must be in [0, 1)", o.weight_decay));
  if (!(o.loss_scale >= 1 && o.loss_scale <= kMaxLossScale))
    throw InputError(fmt::format("--loss-scale = {}: must be in 1..2^64", o.loss_scale));
  if (o.loss_scale_window < 1 || o.loss_scale_window > 1000000000)
    throw InputError(fmt::format("--loss-scale-window = {}: must be in 1..1e9",
                                 o.loss_scale_window));
  if (o.bn_recalibrate < 0 || o.bn_recalibrate > 1000000)
    throw InputError(fmt::format("--bn-recalibrate = {}: must be in 0..1000000 batches",
                                 o.bn_recalibrate));
  if (o.threads < 1 || o.threads > 256)
    throw InputError(fmt::format("--threads = {}: must be in 1..256", o.threads));
  if (o.train_limit < 0 || o.test_limit < 0)
    throw InputError("--train-limit / --test-limit: must be >= 0");
  if (o.lr_step < 0) throw InputError(fmt::format("--lr-step = {}: must be >= 0", o.lr_step));
  if (!(o.lr_gamma > 0 && o.lr_gamma <= 1))
    throw InputError(fmt::format("--lr-gamma = {}: must be in (0, 1]", o.lr_gamma));
  const std::vector<std::string> lr_kinds = {"auto", "cosine", "step", "constant", "muppet"};
  if (std::find(lr_kinds.begin(), lr_kinds.end(), o.lr_schedule) == lr_kinds.end())
    throw InputError(fmt::format("--lr-schedule {}: must be one of auto, cosine, step, "
                                 "constant, muppet",
                                 o.lr_schedule));
  if (!o.lr_policy.empty()) {
    // An LRBench policy carries its own LR, decay and step: the number-path
    // options would be silently ignored.
    if (o.lr_schedule != "auto")
      throw InputError(fmt::format("--lr-schedule {}: cannot be combined with the LRBench "
                                   "policy --lr {}; leave it at auto",
                                   o.lr_schedule, o.lr_policy));
    if (o.lr_step != 0 || o.lr_gamma != 0.1)
      throw InputError(fmt::format("--lr-step / --lr-gamma: apply to --lr-schedule step only, "
                                   "not to the LRBench policy --lr {} (give its gamma, l there)",
                                   o.lr_policy));
  }
  if (o.rounding != "auto" && o.rounding != "nearest" && o.rounding != "stochastic")
    throw InputError(fmt::format("--rounding {}: must be one of auto, nearest, stochastic",
                                 o.rounding));
  if (o.quantizer != "auto") parse_int_method(o.quantizer);
  if (o.dataset != "fashion-mnist")
    throw InputError(fmt::format("--dataset {}: the trainer reads fashion-mnist only", o.dataset));
  if (!(o.range_test_threshold > 0 && o.range_test_threshold < 1))
    throw InputError(fmt::format("--range-test-threshold = {}: must be in (0, 1)",
                                 o.range_test_threshold));
  if (o.range_test_from < 1 || o.range_test_from > 16)
    throw InputError(fmt::format("--range-test-from = {}: must be in 1..16", o.range_test_from));
  const Format master = parse_master_format(o.master_weights);
  parse_master_rounding(o.master_rounding);
  if (master == Format::fp32() && o.master_rounding != "nearest")
    throw InputError(fmt::format("--master-rounding {}: needs --master-weights fp16 or bf16 "
                                 "(an fp32 master copy is not rounded)",
                                 o.master_rounding));
  if (!o.enhanced_loss_scale && (o.loss_scale_floor != 1 || o.loss_scale_floor_growth != 2))
    throw InputError("--loss-scale-floor / --loss-scale-floor-growth: only with --loss-scale "
                     "enhanced");
  if (!(o.loss_scale_floor >= 1 && o.loss_scale_floor <= kMaxLossScale))
    throw InputError(fmt::format("--loss-scale-floor = {}: must be in 1..2^64", o.loss_scale_floor));
  if (!(o.loss_scale_floor_growth >= 1 && o.loss_scale_floor_growth <= 1024))
    throw InputError(fmt::format("--loss-scale-floor-growth = {}: must be in 1..1024 (per epoch)",
                                 o.loss_scale_floor_growth));
  if (o.resume && o.checkpoint.empty())
    throw InputError("--resume needs a checkpoint file (-o sets it to <output>.ckpt)");
  const OptimizerKind opt = parse_optimizer(o.optimizer);
  if (o.halp_epoch_length < 0 || o.halp_epoch_length > 1000000000)
    throw InputError(fmt::format("--halp-epoch-length = {}: must be in 1..1e9 iterations (0: half "
                                 "an epoch)",
                                 o.halp_epoch_length));
  if (o.halp_bits < kHalpMinBits || o.halp_bits > kHalpMaxBits)
    throw InputError(fmt::format("--halp-bits = {}: must be in {}..{}", o.halp_bits, kHalpMinBits,
                                 kHalpMaxBits));
  if (!(o.halp_mu > 0 && o.halp_mu <= 1e12))
    throw InputError(fmt::format("--halp-mu = {}: must be in (0, 1e12]", o.halp_mu));
  if (opt != OptimizerKind::Sgd && (master != Format::fp32() || o.adaptive_loss_scale ||
                                    o.enhanced_loss_scale))
    throw InputError(fmt::format("--optimizer {} with {}: not supported (SVRG and HALP keep an "
                                 "fp32 anchor and one global loss scale)",
                                 o.optimizer,
                                 master != Format::fp32() ? "--master-weights " + o.master_weights
                                 : o.adaptive_loss_scale  ? std::string("--loss-scale adaptive")
                                                          : std::string("--loss-scale enhanced")));
  if (opt != OptimizerKind::Sgd && o.dynamic_loss_scale)
    throw InputError(fmt::format("--optimizer {} with --loss-scale dynamic: not supported (a "
                                 "skipped step would leave the anchor's gradient unchecked); use "
                                 "a static --loss-scale",
                                 o.optimizer));
}

QuantPolicy make_policy(const TrainOptions& o, const Schedule& schedule) {
  QuantPolicy q;
  const bool muppet = schedule.needs_training_state();
  q.int_method = o.quantizer == "auto" ? (muppet ? IntMethod::DynamicFixed : IntMethod::Range)
                                       : parse_int_method(o.quantizer);
  if (o.rounding == "auto" && muppet) {
    q.w = q.a = q.e = q.g = Rounding::Stochastic;  // MuPPET rounds stochastically
  } else if (o.rounding == "nearest") {
    q.w = q.a = q.e = q.g = Rounding::Nearest;
  } else if (o.rounding == "stochastic") {
    q.w = q.a = q.e = q.g = Rounding::Stochastic;
  }
  q.loss_scale = static_cast<float>(o.loss_scale);
  q.adaptive = o.adaptive_loss_scale;
  return q;
}

// The FP8-recipe options, only where they differ from their defaults, so
// that checkpoints of runs without them keep their fingerprint.
std::string fp8_fingerprint(const TrainOptions& o) {
  std::string out;
  if (o.adaptive_loss_scale) out += " adaptive=1";
  if (o.enhanced_loss_scale)
    out += fmt::format(" enhanced=1 floor={} floor_growth={}", o.loss_scale_floor,
                       o.loss_scale_floor_growth);
  if (o.master_weights != "fp32")
    out += fmt::format(" master={} master_rounding={}", o.master_weights, o.master_rounding);
  return out;
}

std::string fingerprint(const TrainOptions& o, std::int64_t train_n, std::int64_t test_n) {
  // The LR policy is appended only when set, so checkpoints written before
  // policies existed still resume.
  const std::string policy =
      o.lr_policy.empty() ? "" : " lr_policy=" + to_string(parse_lr_policy(o.lr_policy));
  return fmt::format(
      "model={} dataset={} train={} test={} epochs={} batch={} lr={} momentum={} wd={} "
      "lr_schedule={} lr_step={} lr_gamma={} schedule={} seed={} quantizer={} rounding={} "
      "loss_scale={} dynamic={} window={} bn_recalibrate={} range_test={} rt_threshold={} "
      "rt_from={}",
      o.model, o.dataset, train_n, test_n, o.epochs, o.batch, o.lr, o.momentum, o.weight_decay,
      o.lr_schedule, o.lr_step, o.lr_gamma, o.schedule, o.seed, o.quantizer, o.rounding,
      o.loss_scale, o.dynamic_loss_scale, o.loss_scale_window, o.bn_recalibrate, o.range_test,
      o.range_test_threshold, o.range_test_from) + policy +
         // Only for svrg / halp, so SGD checkpoints of earlier versions still resume.
         (o.optimizer == "sgd" ? std::string()
                               : fmt::format(" optimizer={} T={} halp_bits={} halp_mu={}",
                                             o.optimizer, o.halp_epoch_length, o.halp_bits,
                                             o.halp_mu)) +
         fp8_fingerprint(o);
}

// "key: checkpoint a, this run b; ..." for the keys whose values differ.
std::string fingerprint_diff(const std::string& saved, const std::string& now) {
  auto split = [](const std::string& text) {
    std::vector<std::pair<std::string, std::string>> kv;
    std::size_t pos = 0;
    while (pos < text.size()) {
      std::size_t end = text.find(' ', pos);
      if (end == std::string::npos) end = text.size();
      const std::string item = text.substr(pos, end - pos);
      const std::size_t eq = item.find('=');
      kv.emplace_back(item.substr(0, eq), eq == std::string::npos ? "" : item.substr(eq + 1));
      pos = end + 1;
    }
    return kv;
  };
  const auto a = split(saved), b = split(now);
  std::string out;
  for (const auto& [key, value] : b) {
    std::string old = "(absent)";
    for (const auto& [k, v] : a)
      if (k == key) old = v;
    if (old != value)
      out += fmt::format("{}{}: checkpoint {}, this run {}", out.empty() ? "" : "; ", key, old, value);
  }
  return out.empty() ? "options differ" : out;
}

std::vector<std::uint32_t> shuffled(std::int64_t n, std::uint64_t seed, std::int64_t epoch) {
  std::vector<std::uint32_t> perm(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) perm[static_cast<std::size_t>(i)] = static_cast<std::uint32_t>(i);
  const std::uint64_t base = RngKey{seed, static_cast<std::uint64_t>(epoch), kShuffleStream}.base();
  for (std::int64_t i = n - 1; i > 0; --i) {  // Fisher-Yates
    const std::uint32_t j = uniform_below(base, static_cast<std::uint64_t>(i),
                                          static_cast<std::uint32_t>(i + 1));
    std::swap(perm[static_cast<std::size_t>(i)], perm[j]);
  }
  return perm;
}

void append_segment(std::vector<Segment>& segs, std::int64_t it, const PrecisionSet& p,
                    std::int64_t count = 1) {
  if (!segs.empty() && segs.back().end == it && segs.back().precision == p) {
    segs.back().end += count;
    return;
  }
  Segment s;
  s.begin = it;
  s.end = it + count;
  s.precision = p;
  segs.push_back(s);
}

// Rewrites B_min of "cyclic:3-8/8,..." or "progressive:3-8/8,...".
std::string with_b_min(const std::string& spec, int b_min) {
  static const std::regex re(R"(^(cyclic|progressive):(\d+)-(\d+)(.*)$)");
  std::smatch m;
  if (!std::regex_match(spec, m, re)) return spec;
  const int b_max = std::stoi(m[3].str());
  return fmt::format("{}:{}-{}{}", m[1].str(), std::min(b_min, b_max), b_max, m[4].str());
}

// Widest W and A (by total bits) of a list of precisions: the test-time precision.
PrecisionSet widest(const std::vector<PrecisionSet>& used) {
  PrecisionSet best = used.front();
  for (const auto& p : used)
    if (std::pair(p[Role::W].bits, p[Role::A].bits) > std::pair(best[Role::W].bits, best[Role::A].bits))
      best = p;
  return best;
}

struct Run {
  const TrainOptions& o;
  ImageData data;
  Graph graph;
  std::unique_ptr<Schedule> schedule;
  std::vector<PrecisionSet> levels;  // muppet
  QuantPolicy policy;
  std::unique_ptr<Network> net;
  std::optional<LrPolicy> lr_policy;
  std::int64_t ipe = 0, total = 0;
  OptimizerKind optimizer = OptimizerKind::Sgd;
  std::int64_t vr_epoch_length = 0;  // svrg / halp: T

  explicit Run(const TrainOptions& opts) : o(opts) {
    validate(o);
    if (!o.lr_policy.empty()) lr_policy = parse_lr_policy(o.lr_policy);
    schedule = parse_schedule(o.schedule);
    if (!schedule->layer_overrides().empty())
      throw InputError(fmt::format("--schedule {}: per-layer precisions are not supported by "
                                   "the trainer (all layers share one precision)",
                                   o.schedule));
    levels = schedule->levels();
    graph = make_model(o.model, o.dataset);
    data = load_fashion_mnist(o.data_dir, o.train_limit, o.test_limit);
    const auto& in = graph.layer(graph.topological_order().front()).out_shape.dims;
    if (in != std::vector<std::int64_t>{data.train.channels, data.train.height, data.train.width})
      throw InputError(fmt::format("model {}: input shape {} does not match the data's {}x{}x{}",
                                   o.model, to_string(Shape{in}), data.train.channels,
                                   data.train.height, data.train.width));
    policy = make_policy(o, *schedule);
    net = std::make_unique<Network>(graph, o.seed, o.threads);
    net->set_gemm_kernel(o.gemm_kernel);
    ipe = (data.train.n + o.batch - 1) / o.batch;
    total = ipe * o.epochs;
    optimizer = parse_optimizer(o.optimizer);
    if (optimizer != OptimizerKind::Sgd) {
      if (schedule->needs_training_state())
        throw InputError(fmt::format("--optimizer {} with --schedule {}: MuPPET's switching reads "
                                     "SGD's gradients; use a static, progressive or cyclic "
                                     "schedule",
                                     o.optimizer, o.schedule));
      vr_epoch_length = o.halp_epoch_length > 0 ? o.halp_epoch_length : default_epoch_length(ipe);
    }
  }

  // svrg / halp: passes over the training data before epoch `epoch` (the
  // trace's epochs, docs/trace-format.md): per epoch, its anchors' FP32
  // passes plus the passes at w and at w~; sgd: one per epoch.
  std::int64_t passes_before(std::int64_t epoch) const {
    if (optimizer == OptimizerKind::Sgd) return epoch;
    return 2 * epoch + anchors_before(epoch * ipe, vr_epoch_length);
  }

  double lr_at(std::int64_t it, std::int64_t fp32_since_epoch) const {
    if (lr_policy) return trainer::lr_at(*lr_policy, it, total);
    const std::int64_t epoch = it / ipe;
    std::string kind = o.lr_schedule;
    if (kind == "auto") kind = schedule->needs_training_state() ? "muppet" : "cosine";
    if (kind == "cosine")
      return o.lr * 0.5 *
             (1.0 + std::cos(std::numbers::pi * static_cast<double>(it) / static_cast<double>(total)));
    if (kind == "step") {
      const std::int64_t step = o.lr_step > 0 ? o.lr_step : std::max<std::int64_t>(1, o.epochs / 3);
      return o.lr * std::pow(o.lr_gamma, static_cast<double>(epoch / step));
    }
    if (kind == "muppet") {
      // MuPPET: constant while quantized; in FP32 x0.1 every 15 epochs, down to lr / 100.
      if (fp32_since_epoch < 0 || epoch < fp32_since_epoch) return o.lr;
      return std::max(o.lr / 100.0, o.lr * std::pow(0.1, static_cast<double>((epoch - fp32_since_epoch) / 15)));
    }
    return o.lr;
  }

  // Batch norm recalibration (TrainOptions::bn_recalibrate): the k-th batch
  // gets weight 1/k, so the running statistics end as the plain average.
  void recalibrate_bn(const PrecisionSet& p, std::int64_t epoch) {
    if (o.bn_recalibrate == 0 || net->buffers().empty()) return;
    const ImageSet& t = data.train;
    const std::int64_t e = t.image_elements();
    for (std::int64_t k = 0; k < o.bn_recalibrate && k * o.batch < t.n; ++k) {
      const std::int64_t s0 = k * o.batch;
      net->set_bn_momentum(1.0 / static_cast<double>(k + 1));
      net->forward(t.images.data() + s0 * e, t.labels.data() + s0, std::min(o.batch, t.n - s0), p,
                   policy, kRecalibrationIterationBase + static_cast<std::uint64_t>(epoch),
                   Mode::Train);
    }
    net->set_bn_momentum(kBnMomentum);
  }

  // Test accuracy; with `metrics`, also LRBench's loss and confidence figures.
  double evaluate(const PrecisionSet& p, std::int64_t epoch, FinalTestMetrics* metrics = nullptr) {
    recalibrate_bn(p, epoch);
    std::int64_t correct = 0;
    double loss_sum = 0;
    ConfidenceTally tally;
    const ImageSet& t = data.test;
    const std::int64_t e = t.image_elements();
    for (std::int64_t s0 = 0; s0 < t.n; s0 += o.batch) {
      const std::int64_t b = std::min(o.batch, t.n - s0);
      BatchStats st = net->forward(t.images.data() + s0 * e, t.labels.data() + s0, b, p, policy,
                                   kEvalIterationBase + static_cast<std::uint64_t>(epoch),
                                   Mode::Eval);
      correct += st.correct;
      loss_sum += st.loss_sum;
      if (metrics) {
        const std::vector<float> probs = net->tensors_of(net->layer_names().back()).out;
        tally.add(probs.data(), t.labels.data() + s0, b, static_cast<std::int64_t>(probs.size()) / b);
      }
    }
    if (metrics) {
      metrics->confidence = tally.result();
      metrics->loss = t.n > 0 ? loss_sum / static_cast<double>(t.n) : 0.0;
    }
    return t.n > 0 ? static_cast<double>(correct) / static_cast<double>(t.n) : 0.0;
  }
};

// An epoch's steps with float (minifloat) errors: how many overflowed, how
// many non-zero errors the E quantizers flushed to zero, the adaptive
// scales of the epoch's last step. One event line per epoch.
struct FloatErrorTally {
  std::int64_t steps = 0, overflow_steps = 0, nonzero = 0, flushed = 0;
  std::vector<double> last_scales;

  void add(const Format& e, std::int64_t overflow, const BackwardReport& r) {
    if (!e.is_float() || e == Format::fp32()) return;
    ++steps;
    overflow_steps += overflow > 0 ? 1 : 0;
    nonzero += r.e_nonzero;
    flushed += r.e_flushed;
    last_scales = r.layer_scales;
  }
  std::string event(std::int64_t epoch) const {
    std::string scales;
    if (std::any_of(last_scales.begin(), last_scales.end(), [](double a) { return a != 1; }))
      for (double a : last_scales)
        scales += fmt::format("{}2^{}", scales.empty() ? "" : " ", std::ilogb(a));
    return fmt::format(
        "fp errors: epoch {} E underflow {:.4f}% ({} of {} non-zero errors flushed to zero), "
        "{} of {} steps overflowed{}",
        epoch, nonzero > 0 ? 100.0 * static_cast<double>(flushed) / static_cast<double>(nonzero) : 0.0,
        flushed, nonzero, overflow_steps, steps,
        scales.empty() ? "" : "; adaptive layer scales at the last step (output first): " + scales);
  }
};

int b_max_of(const Schedule& s, std::int64_t total, std::int64_t ipe) {
  int b = 0;
  for (std::int64_t it = 0; it < total; ++it) {
    const PrecisionSet p = s.at(ScheduleContext{it, total, ipe});
    if (!p[Role::W].is_float()) b = std::max(b, p[Role::W].bits);
  }
  return b > 0 ? b : 8;
}

}  // namespace

TrainResult train(const TrainOptions& o, const ProgressFn& progress) {
  Run run(o);
  const auto t_start = Clock::now();
  Network& net = *run.net;
  const ImageSet& tr = run.data.train;
  const std::int64_t e = tr.image_elements();
  const std::string fp = fingerprint(o, tr.n, run.data.test.n);

  TrainResult result;
  result.threads = net.threads();
  Trace& trace = result.trace;
  TraceHeader& h = trace.header;
  h.producer = "lpsim-train 0.1.0";
  h.model = o.model;
  h.dataset = o.dataset;
  h.samples_per_epoch = tr.n;
  h.batch = o.batch;
  // svrg / halp: one trace epoch per pass over the data (docs/trace-format.md).
  h.epochs = run.passes_before(o.epochs);
  h.total_iterations = h.epochs * run.ipe;
  std::optional<VarianceReduced> vr;
  if (run.optimizer != OptimizerKind::Sgd) {
    VrConfig vc;
    vc.kind = run.optimizer;
    vc.epoch_length = run.vr_epoch_length;
    vc.bits = o.halp_bits;
    vc.mu = o.halp_mu;
    vc.seed = o.seed;
    vr.emplace(vc);
    h.producer += run.optimizer == OptimizerKind::Halp
                      ? fmt::format(" (halp: T={}, offset bits {}, mu {})", vc.epoch_length,
                                    vc.bits, vc.mu)
                      : fmt::format(" (svrg: T={})", vc.epoch_length);
  }
  h.schedule = o.schedule;
  h.seed = o.seed;

  MuppetState muppet;
  LossScaler scaler;
  scaler.dynamic = o.dynamic_loss_scale;
  scaler.scale = o.loss_scale;
  scaler.window = o.loss_scale_window;
  MasterWeights master;
  master.format = parse_master_format(o.master_weights);
  master.rounding = parse_master_rounding(o.master_rounding);
  std::string schedule_spec = o.schedule;
  std::int64_t first_epoch = 0;
  if (o.resume) {
    impl::Checkpoint c = impl::load_checkpoint(o.checkpoint);
    if (c.fingerprint != fp)
      throw InputError(fmt::format("{}: checkpoint is of a different run: {}", o.checkpoint,
                                   fingerprint_diff(c.fingerprint, fp)));
    auto params = net.params();
    if (params.size() != c.values.size())
      throw InputError(fmt::format("{}: checkpoint has {} parameter tensors, model {} has {}",
                                   o.checkpoint, c.values.size(), o.model, params.size()));
    for (std::size_t i = 0; i < params.size(); ++i) {
      if (params[i]->name != c.param_names[i] || params[i]->value.size() != c.values[i].size())
        throw InputError(fmt::format("{}: parameter {} does not match the model", o.checkpoint,
                                     c.param_names[i]));
      params[i]->value = c.values[i];
      params[i]->momentum = c.momenta[i];
    }
    auto buffers = net.buffers();
    if (buffers.size() != c.buffers.size())
      throw InputError(fmt::format("{}: checkpoint has {} buffers, model {} has {}", o.checkpoint,
                                   c.buffers.size(), o.model, buffers.size()));
    for (std::size_t i = 0; i < buffers.size(); ++i) {
      if (buffers[i]->name != c.buffers[i].name ||
          buffers[i]->value.size() != c.buffers[i].value.size())
        throw InputError(fmt::format("{}: buffer {} does not match the model", o.checkpoint,
                                     c.buffers[i].name));
      buffers[i]->value = c.buffers[i].value;
    }
    scaler.scale = c.scaler.scale;
    scaler.good_steps = c.scaler.good_steps;
    scaler.skipped_epoch = c.scaler.skipped_epoch;
    first_epoch = c.epochs_done;
    trace.segments = std::move(c.segments);
    trace.metrics = std::move(c.metrics);
    muppet = std::move(c.muppet);
    result.range_test = std::move(c.range_test);
    result.events = std::move(c.events);
    schedule_spec = c.schedule;
    if (schedule_spec != o.schedule) run.schedule = parse_schedule(schedule_spec);
    if (vr) {
      const VrState& v = c.vr;
      const bool halp = run.optimizer == OptimizerKind::Halp;
      bool fits = v.anchor.size() == params.size() && v.full_grad.size() == params.size() &&
                  (!halp || (v.offset.size() == params.size() && v.scale.size() == params.size()));
      for (std::size_t i = 0; fits && i < params.size(); ++i)
        fits = v.anchor[i].size() == params[i]->value.size() &&
               v.full_grad[i].size() == params[i]->value.size() &&
               (!halp || v.offset[i].size() == params[i]->value.size());
      if (!fits)
        throw InputError(fmt::format("{}: checkpoint's {} state does not match the model's {} "
                                     "parameter tensors",
                                     o.checkpoint, o.optimizer, params.size()));
      vr->state() = std::move(c.vr);
    }
    // The checkpoint stores W..Opt; the master format is an option of the run.
    if (!master.is_fp32())
      for (Segment& s : trace.segments) s.precision.master = master.format;
  } else if (!master.is_fp32()) {
    round_params_to_master(net.params(), master);
  }

  // Epoch at which MuPPET reached FP32 (-1: not yet), recovered from the segments.
  std::int64_t fp32_since = -1;
  if (!run.levels.empty())
    for (const Segment& s : trace.segments)
      if (s.precision == run.levels.back()) {
        fp32_since = s.begin / run.ipe;
        break;
      }

  // Range test state (first epoch only).
  const bool range_testing = o.range_test && first_epoch == 0;
  std::vector<int> rt_bits;
  std::int64_t rt_step_iters = 0;
  bool rt_active = false;
  if (range_testing) {
    const int b_max = b_max_of(*run.schedule, run.total, run.ipe);
    for (int b = std::min(o.range_test_from, b_max); b <= b_max; ++b) rt_bits.push_back(b);
    rt_step_iters = std::max<std::int64_t>(1, run.ipe / static_cast<std::int64_t>(rt_bits.size()));
    rt_active = true;
    result.range_test = RangeTestResult{};
  }
  std::int64_t rt_correct = 0, rt_samples = 0, rt_iters = 0;

  std::vector<float> batch_images(static_cast<std::size_t>(o.batch * e));
  std::vector<std::uint8_t> batch_labels(static_cast<std::size_t>(o.batch));
  std::int64_t iterations_this_process = 0;
  const std::int64_t last_epoch = o.stop_after > 0 ? std::min(o.stop_after, o.epochs) : o.epochs;

  for (std::int64_t epoch = first_epoch; epoch < last_epoch; ++epoch) {
    const auto t_epoch = Clock::now();
    const auto perm = shuffled(tr.n, o.seed, epoch);
    double loss_sum = 0;
    std::int64_t correct = 0, samples = 0;
    std::vector<PrecisionSet> used;
    if (o.enhanced_loss_scale) {
      scaler.floor = enhanced_floor(o.loss_scale_floor, o.loss_scale_floor_growth, epoch);
      scaler.scale = std::max(scaler.scale, scaler.floor);
    }
    FloatErrorTally tally;
    for (std::int64_t it = 0; it < run.ipe; ++it) {
      const std::int64_t global = epoch * run.ipe + it;
      PrecisionSet p;
      if (!run.levels.empty()) {
        p = run.levels[static_cast<std::size_t>(muppet.level)];
      } else {
        p = run.schedule->at(ScheduleContext{global, run.total, run.ipe});
      }
      const std::size_t rt_step = rt_active ? static_cast<std::size_t>(it / rt_step_iters) : 0;
      if (rt_active) {
        p[Role::W] = Format::integer(rt_bits[rt_step]);
        p[Role::A] = Format::integer(rt_bits[rt_step]);
      }
      if (!master.is_fp32()) {  // momenta are stored in the master format too
        p.master = master.format;
        p[Role::Opt] = master.format;
      }
      const std::int64_t s0 = it * o.batch;
      const std::int64_t b = std::min(o.batch, tr.n - s0);
      for (std::int64_t i = 0; i < b; ++i) {
        const std::uint32_t src = perm[static_cast<std::size_t>(s0 + i)];
        std::copy(tr.images.begin() + src * e, tr.images.begin() + (src + 1) * e,
                  batch_images.begin() + i * e);
        batch_labels[static_cast<std::size_t>(i)] = tr.labels[src];
      }
      run.policy.loss_scale = static_cast<float>(scaler.scale);
      if (vr && vr->anchor_due(global))
        vr->take_anchor(net, tr, o.batch, run.policy,
                        kAnchorIterationBase + static_cast<std::uint64_t>(global));
      const BatchStats st = net.forward(batch_images.data(), batch_labels.data(), b, p,
                                        run.policy, static_cast<std::uint64_t>(global));
      if (!std::isfinite(st.loss_sum))
        throw TrainingDiverged(fmt::format("training diverged: loss {} at epoch {} iteration {} "
                                     "(precision {}, lr {}): lower --lr",
                                     st.loss_sum / static_cast<double>(b), epoch, it, p.label(),
                                     run.lr_at(global, fp32_since)));
      const std::int64_t overflow = net.backward(p, run.policy, static_cast<std::uint64_t>(global));
      if (scaler.diverged(overflow))
        throw TrainingDiverged(fmt::format(
            "training diverged: {} error / gradient values overflow E {} / G {} at loss scale 1 "
            "(epoch {} iteration {}): lower --lr or widen the formats",
            overflow, p[Role::E].name(), p[Role::G].name(), epoch, it));
      tally.add(p[Role::E], overflow, net.last_backward());
      if (vr) {
        vr->step(net, batch_images.data(), batch_labels.data(), b, p, run.policy,
                 static_cast<std::uint64_t>(global),
                 static_cast<float>(run.lr_at(global, fp32_since)),
                 static_cast<float>(o.momentum), static_cast<float>(o.weight_decay));
        // HALP's update reads and writes the b-bit offset: its optimizer state.
        if (run.optimizer == OptimizerKind::Halp) p[Role::Opt] = Format::integer(o.halp_bits);
      } else {
        if (scaler.step_ok(overflow)) {  // else skipped: weights and momenta stay as they were
          const auto lr = static_cast<float>(run.lr_at(global, fp32_since));
          if (master.is_fp32())
            net.sgd_step(lr, static_cast<float>(o.momentum), static_cast<float>(o.weight_decay));
          else
            sgd_step_master(net.params(), lr, static_cast<float>(o.momentum),
                            static_cast<float>(o.weight_decay), master, o.seed,
                            static_cast<std::uint64_t>(global));
        }
        append_segment(trace.segments, global, p);
      }
      used.push_back(p);
      loss_sum += st.loss_sum;
      correct += st.correct;
      samples += st.samples;
      ++iterations_this_process;

      if (rt_active) {
        rt_correct += st.correct;
        rt_samples += st.samples;
        ++rt_iters;
        const bool step_end = (it + 1) % rt_step_iters == 0 || it + 1 == run.ipe;
        if (step_end) {
          auto& curve = result.range_test->curve;
          curve.push_back({rt_bits[rt_step], rt_iters,
                           static_cast<double>(rt_correct) / static_cast<double>(rt_samples)});
          rt_correct = rt_samples = rt_iters = 0;
          const std::size_t k = curve.size() - 1;
          bool done = false;
          if (k >= 1 && curve[k].train_accuracy - curve[k - 1].train_accuracy < o.range_test_threshold) {
            result.range_test->b_min = curve[k - 1].bits;
            done = true;
          } else if (k + 1 == rt_bits.size() || it + 1 == run.ipe) {
            result.range_test->b_min = curve[k].bits;
            done = true;
          }
          if (done) {
            rt_active = false;
            schedule_spec = with_b_min(o.schedule, result.range_test->b_min);
            result.range_test->schedule = schedule_spec;
            run.schedule = parse_schedule(schedule_spec);
            result.events.push_back(fmt::format("range test: B_min = {} after {} steps; schedule {}",
                                                result.range_test->b_min, curve.size(),
                                                schedule_spec));
          }
        }
      }

      if (progress) {
        Progress pr;
        pr.epoch = epoch;
        pr.epochs = o.epochs;
        pr.iteration = it + 1;
        pr.iterations_per_epoch = run.ipe;
        pr.loss = loss_sum / static_cast<double>(samples);
        pr.precision = p;
        pr.loss_scale = scaler.scale;
        const double elapsed = std::chrono::duration<double>(Clock::now() - t_start).count();
        const std::int64_t left = last_epoch * run.ipe - (global + 1);
        pr.eta_s = elapsed / static_cast<double>(iterations_this_process) * static_cast<double>(left);
        progress(pr);
      }
    }

    if (!run.levels.empty()) {
      std::vector<const std::vector<float>*> grads;
      for (Param* prm : net.params()) grads.push_back(&prm->grad);
      const int level_before = muppet.level;
      const MuppetDecision d =
          muppet_end_epoch(muppet, epoch, grads, static_cast<int>(run.levels.size()));
      if (d.checked)
        result.events.push_back(fmt::format(
            "muppet: epoch {} diversity {:.4g} (max {:.4g}, T {:.4g}){}{}", epoch, d.delta,
            muppet.max_delta, muppet_threshold(epoch), d.violation ? ", violation" : "",
            d.switched ? fmt::format(", switch {} -> {}",
                                     run.levels[static_cast<std::size_t>(level_before)].label(),
                                     run.levels[static_cast<std::size_t>(muppet.level)].label())
                       : std::string()));
      if (d.switched && muppet.level + 1 == static_cast<int>(run.levels.size()) && fp32_since < 0)
        fp32_since = epoch + 1;
    }

    if (vr) {
      // This epoch's passes, in the trace's order: its anchors' FP32 passes
      // (all roles FP32), then the gradients at w, then those at w~ (the
      // same minibatches at the same precisions).
      std::int64_t at = run.passes_before(epoch) * run.ipe;
      const std::int64_t anchors = anchors_before((epoch + 1) * run.ipe, run.vr_epoch_length) -
                                   anchors_before(epoch * run.ipe, run.vr_epoch_length);
      if (anchors > 0) append_segment(trace.segments, at, PrecisionSet{}, anchors * run.ipe);
      at += anchors * run.ipe;
      for (int pass = 0; pass < 2; ++pass)
        for (const PrecisionSet& p : used) append_segment(trace.segments, at++, p);
    }

    if (tally.steps > 0) result.events.push_back(tally.event(epoch));

    EpochMetrics m;
    m.epoch = run.passes_before(epoch + 1) - 1;  // sgd: the epoch; svrg / halp: its last pass
    if (scaler.dynamic || scaler.scale != 1) m.loss_scale = scaler.scale;
    if (scaler.dynamic) {
      m.skipped_steps = scaler.skipped_epoch;
      scaler.skipped_epoch = 0;
    }
    m.train_loss = loss_sum / static_cast<double>(samples);
    m.train_accuracy = static_cast<double>(correct) / static_cast<double>(samples);
    m.test_accuracy =
        run.evaluate(widest(used), epoch, epoch + 1 == o.epochs ? &result.final_test : nullptr);
    m.wall_s = std::chrono::duration<double>(Clock::now() - t_epoch).count();
    trace.metrics.push_back(m);

    if (!o.checkpoint.empty()) {
      impl::Checkpoint c;
      c.fingerprint = fp;
      c.epochs_done = epoch + 1;
      for (Param* prm : net.params()) {
        c.param_names.push_back(prm->name);
        c.values.push_back(prm->value);
        c.momenta.push_back(prm->momentum);
      }
      for (Buffer* buf : net.buffers()) c.buffers.push_back(*buf);
      c.scaler = scaler;
      c.segments = trace.segments;
      c.metrics = trace.metrics;
      c.muppet = muppet;
      c.range_test = result.range_test;
      c.schedule = schedule_spec;
      c.events = result.events;
      if (vr) c.vr = vr->state();
      impl::save_checkpoint(o.checkpoint, c);
    }
  }
  result.finished = static_cast<std::int64_t>(trace.metrics.size()) == o.epochs;
  if (result.finished) validate_trace(trace, "lpsim train");
  return result;
}

void dump_batch(const TrainOptions& options, const std::string& dir) {
  TrainOptions o = options;
  o.train_limit = o.batch;
  o.test_limit = 1;
  Run run(o);
  std::filesystem::create_directories(dir);
  const ImageSet& tr = run.data.train;
  PrecisionSet p = run.levels.empty()
                       ? run.schedule->at(ScheduleContext{0, run.total, run.ipe})
                       : run.levels.front();
  auto write_floats = [&](const std::string& name, const std::vector<float>& v) {
    write_file_atomic(dir + "/" + name,
                      std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float)));
  };
  Network& net = *run.net;
  std::string params_json;
  for (Param* prm : net.params()) {
    write_floats(prm->name + ".init", prm->value);
    params_json += fmt::format("{}\"{}\"", params_json.empty() ? "" : ", ", prm->name);
  }
  const BatchStats st = net.forward(tr.images.data(), tr.labels.data(), tr.n, p, run.policy, 0);
  net.backward(p, run.policy, 0);
  for (Param* prm : net.params()) write_floats(prm->name + ".grad", prm->grad);
  write_floats("input", std::vector<float>(tr.images.begin(), tr.images.end()));
  std::vector<float> labels(tr.labels.begin(), tr.labels.end());
  write_floats("labels", labels);
  std::string layers_json;
  for (const std::string& name : net.layer_names()) {
    const auto t = net.tensors_of(name);
    write_floats(name + ".out", t.out);
    write_floats(name + ".out_grad", t.out_grad);
    const bool gemm = !t.wq.empty();
    if (gemm) {
      write_floats(name + ".qin", t.qin);
      write_floats(name + ".wq", t.wq);
      write_floats(name + ".eq", t.eq);
      write_floats(name + ".g_pre_w", t.g_pre_w);
      write_floats(name + ".g_pre_b", t.g_pre_b);
    }
    layers_json += fmt::format("{}{{\"name\": \"{}\", \"gemm\": {}}}",
                               layers_json.empty() ? "" : ", ", name, gemm ? "true" : "false");
  }
  auto fmt_name = [&](Role r) { return p[r].name(); };
  const std::string manifest = fmt::format(
      "{{\n  \"model\": \"{}\", \"batch\": {}, \"seed\": {},\n  \"W\": \"{}\", \"A\": \"{}\", "
      "\"E\": \"{}\", \"G\": \"{}\",\n  \"quantizer\": \"{}\",\n  \"rounding\": {{\"W\": \"{}\", "
      "\"A\": \"{}\", \"E\": \"{}\", \"G\": \"{}\"}},\n  \"loss\": {:.9g}, \"correct\": {},\n  "
      "\"params\": [{}],\n  \"layers\": [{}]\n}}\n",
      o.model, tr.n, o.seed, fmt_name(Role::W), fmt_name(Role::A), fmt_name(Role::E),
      fmt_name(Role::G), to_string(run.policy.int_method), to_string(run.policy.w),
      to_string(run.policy.a), to_string(run.policy.e), to_string(run.policy.g),
      st.loss_sum / static_cast<double>(tr.n), st.correct, params_json, layers_json);
  write_file_atomic(dir + "/manifest.json", manifest);
}

}  // namespace lpsim::trainer
