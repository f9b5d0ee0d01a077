// Formatters of a built-in training run (trainer/trainer.h TrainResult), one
// place each: the JSON `lpsim train --json` prints and its summary lines.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "trainer/trainer.h"

namespace lpsim::study {

// {"output", "model", "dataset", "schedule", "seed", "threads", "optimizer",
//  "iterations", "steps", "data_passes", "segments", "test_accuracy",
//  "final_test", "total_gbitops", "total_gmacs" (the gemm convention),
//  "wall_s", "epochs": [...], "events", "range_test"?, "lr_policy"?}
// (docs/trainer.md). `output` is where the trace went.
nlohmann::json train_json(const trainer::TrainOptions& options, const trainer::TrainResult& result,
                          const std::string& output);

// The run's events, the loss scale's record (dynamic scaling) and one line:
// accuracy, loss, GBitOPs, wall time and the trace file.
std::string train_summary(const trainer::TrainOptions& options, const trainer::TrainResult& result,
                          const std::string& output);

}  // namespace lpsim::study
