// The synthesizer: model x dataset x batch x epochs x schedule -> trace, no data.
#pragma once

#include <cstdint>
#include <string>

#include "traces/trace.h"

namespace lpsim {

struct SynthOptions {
  std::string model;      // zoo name, or a graph file (.json, .yaml, .yml: models/model_source.h)
  std::string dataset;    // "" = the model's default
  std::int64_t epochs = 1;
  std::int64_t batch = 128;
  std::int64_t iterations = 0;  // > 0: total iterations instead of epochs * ceil(samples/batch)
  std::string schedule = "static:8/8";
};

// Evaluates the schedule at every iteration and run-length encodes it.
// Throws InputError for an unknown model/dataset, a bad schedule, a
// schedule that needs training state, or non-positive counts.
Trace synthesize(const SynthOptions& options);

}  // namespace lpsim
