// Checkpoints of a training run: everything needed to continue it so that
// the rest of the run is bit-identical to an uninterrupted one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "traces/trace.h"
#include "trainer/loss_scale.h"
#include "trainer/muppet.h"
#include "trainer/network.h"
#include "trainer/svrg.h"
#include "trainer/trainer.h"

namespace lpsim::trainer::impl {

struct Checkpoint {
  std::string fingerprint;  // the options that shape the results
  std::int64_t epochs_done = 0;
  std::vector<std::string> param_names;
  std::vector<std::vector<float>> values, momenta;
  std::vector<Buffer> buffers;
  LossScaler scaler;  // scale, good_steps, skipped_epoch are stored
  std::vector<Segment> segments;
  std::vector<EpochMetrics> metrics;
  MuppetState muppet;
  std::optional<RangeTestResult> range_test;
  std::string schedule;  // the schedule in force (after a range test)
  std::vector<std::string> events;
  VrState vr;  // svrg / halp only; written only when not empty
};

void save_checkpoint(const std::string& path, const Checkpoint& c);
Checkpoint load_checkpoint(const std::string& path);  // InputError naming the file

}  // namespace lpsim::trainer::impl
