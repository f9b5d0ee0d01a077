// The JSON and text forms of a training run.
#include "study/train_format.h"

#include <fmt/format.h>

#include <cmath>

#include "models/zoo.h"
#include "study/format.h"
#include "traces/bitops.h"
#include "trainer/lr_policy.h"

namespace lpsim::study {

namespace {

// BitOPs and MACs of the run's trace, the gemm convention (docs/bitops.md).
BitopsReport bitops_of(const trainer::TrainOptions& o, const trainer::TrainResult& r) {
  return count_bitops(r.trace, make_model(o.model, o.dataset), CountConvention::Gemm);
}

double wall_of(const trainer::TrainResult& r) {
  double wall = 0;
  for (const auto& m : r.trace.metrics) wall += m.wall_s.value_or(0);
  return wall;
}

std::string opt_num(const std::optional<double>& v, int digits) {
  return v ? fmt::format("{:.{}f}", *v, digits) : "-";
}

}  // namespace

nlohmann::json train_json(const trainer::TrainOptions& o, const trainer::TrainResult& r,
                          const std::string& output) {
  const BitopsReport bits = bitops_of(o, r);
  const auto& last = r.trace.metrics.back();
  nlohmann::json epochs = nlohmann::json::array();
  const bool passes = o.optimizer != "sgd";
  for (std::size_t k = 0; k < r.trace.metrics.size(); ++k) {
    const auto& m = r.trace.metrics[k];
    nlohmann::json e = {{"epoch", k},
                        {"train_loss", m.train_loss.value_or(NAN)},
                        {"train_accuracy", m.train_accuracy.value_or(NAN)},
                        {"test_accuracy", m.test_accuracy.value_or(NAN)},
                        {"wall_s", m.wall_s.value_or(NAN)}};
    if (m.loss_scale) e["loss_scale"] = *m.loss_scale;
    if (m.skipped_steps) e["skipped_steps"] = *m.skipped_steps;
    if (passes) e["data_passes"] = m.epoch + 1;  // the trace's epochs so far
    epochs.push_back(e);
  }
  nlohmann::json j = {{"output", output},
                      {"model", o.model},
                      {"dataset", o.dataset},
                      {"schedule", o.schedule},
                      {"seed", o.seed},
                      {"threads", r.threads},
                      {"optimizer", o.optimizer},
                      {"iterations", r.trace.header.total_iterations},
                      {"steps", o.epochs * r.trace.header.iterations_per_epoch()},
                      {"data_passes", r.trace.header.epochs},
                      {"segments", r.trace.segments.size()},
                      {"test_accuracy", last.test_accuracy.value_or(NAN)},
                      {"final_test",
                       {{"loss", r.final_test.loss},
                        {"confidence_mean", r.final_test.confidence.mean},
                        {"confidence_sd", r.final_test.confidence.sd},
                        {"cdac", r.final_test.confidence.cdac}}},
                      {"total_gbitops", bits.total_bitops / 1e9},
                      {"total_gmacs", bits.total_macs / 1e9},
                      {"wall_s", wall_of(r)},
                      {"epochs", epochs},
                      {"events", r.events}};
  if (r.range_test) {
    nlohmann::json curve = nlohmann::json::array();
    for (const auto& s : r.range_test->curve)
      curve.push_back(
          {{"bits", s.bits}, {"iterations", s.iterations}, {"train_accuracy", s.train_accuracy}});
    j["range_test"] = {
        {"b_min", r.range_test->b_min}, {"schedule", r.range_test->schedule}, {"curve", curve}};
  }
  if (!o.lr_policy.empty())
    j["lr_policy"] = trainer::to_string(trainer::parse_lr_policy(o.lr_policy));
  return j;
}

std::string train_summary(const trainer::TrainOptions& o, const trainer::TrainResult& r,
                          const std::string& output) {
  const auto& last = r.trace.metrics.back();
  std::string out;
  for (const auto& ev : r.events) out += ev + "\n";
  if (o.dynamic_loss_scale) {
    std::int64_t skipped = 0;
    for (const auto& m : r.trace.metrics) skipped += m.skipped_steps.value_or(0);
    out += fmt::format("dynamic loss scale: {} step(s) skipped for overflow, final scale {:g}\n",
                       skipped, last.loss_scale.value_or(1));
  }
  out += fmt::format(
      "{} {} {} epochs, schedule {}{}: test accuracy {}, train loss {}, {} GBitOPs, {} -> {}\n",
      o.model, o.dataset, o.epochs, o.schedule,
      o.optimizer == "sgd" ? std::string()
                           : fmt::format(", optimizer {} ({} passes over the data)", o.optimizer,
                                         r.trace.header.epochs),
      opt_num(last.test_accuracy, 4), opt_num(last.train_loss, 4),
      sig(bitops_of(o, r).total_bitops / 1e9), seconds(wall_of(r)), output);
  return out;
}

}  // namespace lpsim::study
