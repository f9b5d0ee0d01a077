// `lpsim synth`: synthesize a training trace for a zoo model (or a graph file) and a schedule.
#include <fmt/format.h>

#include <iostream>

#include "core/atomic_file.h"
#include "tools/cli_common.h"
#include "tools/commands.h"
#include "traces/synth.h"

namespace lpsim::cli {

Action add_synth(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "synth",
      "Synthesize a training trace (no data): model x dataset x batch x epochs x schedule.\n"
      "Example: lpsim synth --model resnet74 --dataset cifar100 --epochs 160 --batch 128 "
      "--schedule cyclic:3-8/8 -o r74.lpt");
  auto opt = std::make_shared<SynthOptions>();
  auto out = std::make_shared<std::string>();
  auto quiet = std::make_shared<bool>(false);
  auto json = std::make_shared<bool>(false);
  sub->add_option("--model", opt->model,
                  "Zoo model name (see `lpsim models`) or graph file (.json, .yaml, .yml; "
                  "`lpsim import` writes one from ONNX)")
      ->required();
  sub->add_option("--dataset", opt->dataset, "Dataset (default: the model's own)");
  sub->add_option("--epochs", opt->epochs, "Training epochs")->default_val(1);
  sub->add_option("--batch", opt->batch, "Batch size")->default_val(128);
  sub->add_option("--iterations", opt->iterations,
                  "Total iterations instead of epochs x ceil(samples/batch)");
  sub->add_option("--schedule", opt->schedule, "Precision schedule, e.g. cyclic:3-8/8")
      ->default_val("static:8/8");
  sub->add_option("-o,--output", *out,
                  "Trace file to write (.lpt, or .lpt.gz); - for standard output")
      ->required();
  sub->add_flag("--json", *json, "Print a JSON summary");
  sub->add_flag("-q,--quiet", *quiet, "Print nothing on success");
  return [opt, out, quiet, json]() {
    Trace trace = synthesize(*opt);
    write_trace(*out, trace);
    std::ostream& info = info_stream(*out);
    if (*json) {
      print_json({{"output", *out},
                  {"iterations", trace.header.total_iterations},
                  {"segments", trace.segments.size()}},
                 info);
    } else if (!*quiet) {
      info << fmt::format(
          "wrote {}: {} {} x {} epochs, batch {}, {} iterations, "
          "{} segments, schedule {}\n",
          is_stdout_path(*out) ? "standard output" : *out, opt->model, trace.header.dataset,
          trace.header.epochs, trace.header.batch, trace.header.total_iterations,
          trace.segments.size(), trace.header.schedule);
    }
    return 0;
  };
}

}  // namespace lpsim::cli
