// `lpsim compare`: precision schedules side by side — test accuracy (trained
// runs), training BitOPs, energy and latency per design point, and the change
// against the first schedule (the baseline). With no arguments: the main job
// (docs/user-guide.md). The job itself is study/compare.h; this file parses
// the options, shows progress and prints.
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>

#include "study/compare.h"
#include "tools/arch_options.h"
#include "tools/cli_common.h"
#include "tools/commands.h"

namespace lpsim::cli {

namespace {

using study::kSynthSchedules;

// One line on stderr, redrawn in place; only when stderr is a terminal, and
// erased when the work is done so that the table stands alone.
class ProgressLine {
 public:
  explicit ProgressLine(bool on) : on_(on) {}
  ~ProgressLine() { clear(); }
  void show(const std::string& text) {
    if (!on_) return;
    std::fprintf(stderr, "\r\033[K%s", text.c_str());
    std::fflush(stderr);
    shown_ = true;
  }
  void clear() {
    if (!shown_) return;
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
    shown_ = false;
  }
  bool on() const { return on_; }

 private:
  bool on_;
  bool shown_ = false;
};

}  // namespace

Action add_compare(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "compare",
      "Compare precision schedules: test accuracy (trained runs), training BitOPs, energy and "
      "latency on each design point, and the change against the first schedule.\n"
      "With no arguments, the main job: ResNet-74 / CIFAR-100 (synthesized, 160 epochs) and "
      "LeNet-5 / Fashion-MNIST (trained for real, 2 epochs per schedule) under static 8/8, "
      "static 4/4, progressive 3-8/8, cyclic 3-8/8 (and MuPPET where trained) on tpu_int8 "
      "and bit_fusion. --model or --train picks one model instead.\n"
      "Examples:\n"
      "  lpsim compare\n"
      "  lpsim compare --model resnet74 --dataset cifar100 --epochs 160 "
      "--schedules static:8/8,cyclic:3-8/8 --arch tpu_int8 --arch bit_fusion\n"
      "  lpsim compare --train --train-epochs 2 --report lenet5-report\n"
      "Exit codes: 0 ok, 2 bad input, 1 internal error.");
  auto opt = std::make_shared<SynthOptions>();
  auto schedules = std::make_shared<std::string>();
  auto count = std::make_shared<std::string>("gemm");
  auto arch = std::make_shared<ArchOptions>();
  auto json = std::make_shared<bool>(false);
  auto quiet = std::make_shared<bool>(false);
  auto bitops_only = std::make_shared<bool>(false);
  auto train = std::make_shared<bool>(false);
  auto report_dir = std::make_shared<std::string>();
  auto timing = std::make_shared<std::string>("systemc");
  auto topt = std::make_shared<trainer::TrainOptions>();
  opt->model = "resnet74";
  opt->dataset = "cifar100";
  opt->epochs = 160;
  topt->epochs = 2;
  topt->threads = 2;
  auto* model_opt = sub->add_option("--model", opt->model,
                                    "Zoo model name: compare this one model only (default: "
                                    "resnet74 synthesized and lenet5 trained)");
  auto* dataset_opt = sub->add_option("--dataset", opt->dataset,
                                      "Dataset (default: the model's; cifar100 for resnet74)");
  sub->add_option("--epochs", opt->epochs, "Epochs of synthesized runs")->default_val(160);
  sub->add_option("--batch", opt->batch, "Batch size (synthesized and trained runs)")
      ->default_val(128);
  sub->add_option("--iterations", opt->iterations,
                  "Synthesized runs: total iterations instead of epochs x ceil(samples/batch)");
  auto* schedules_opt = sub->add_option(
      "--schedules", *schedules,
      fmt::format("Comma-separated schedules; the first is the baseline (default: {}; trained "
                  "runs add muppet:8,12,14,16)",
                  kSynthSchedules));
  sub->add_option("--count", *count, "BitOPs counting convention: gemm | cpt (docs/bitops.md)")
      ->default_val("gemm");
  arch->add_to(*sub, true);
  add_timing_option(*sub, *timing);
  sub->get_option("--arch")->description(
      "Architecture file or shipped design point name (repeatable; default: tpu_int8 and "
      "bit_fusion)");
  sub->add_flag("--train", *train,
                "Train the model (default lenet5 / fashion-mnist) for real with the built-in "
                "trainer instead of synthesizing its trace");
  sub->add_option("--train-epochs", topt->epochs, "Epochs of each trained run")->default_val(2);
  sub->add_option("--train-limit", topt->train_limit,
                  "Trained runs: use only the first N training images (0 = all)")
      ->default_val(0);
  sub->add_option("--test-limit", topt->test_limit,
                  "Trained runs: test on the first N test images (0 = all)")
      ->default_val(0);
  sub->add_option("--seed", topt->seed, "Trained runs: seed")->default_val(1);
  sub->add_option("--threads", topt->threads,
                  "Trained runs: worker threads (results do not depend on it)")
      ->default_val(2);
  sub->add_option("--data-dir", topt->data_dir, "Trained runs: folder with the IDX files")
      ->default_val(trainer::kFashionMnistDir);
  sub->add_flag("--bitops-only", *bitops_only, "Count BitOPs only; do not simulate");
  sub->add_option("--report", *report_dir,
                  "Also write a report directory: report.json, report.csv, plots (SVG, PNG; "
                  "needs gnuplot) and index.html");
  sub->add_flag("--json", *json,
                "Print a JSON array, one object per (model, schedule, design point)");
  sub->add_flag("-q,--quiet", *quiet, "Print the table only; no progress");

  return [=]() {
    const auto started = std::chrono::steady_clock::now();
    if (!report_dir->empty()) study::check_report_target(*report_dir);

    study::CompareChoice choice;
    if (model_opt->count() > 0) choice.model = opt->model;
    if (dataset_opt->count() > 0) choice.dataset = opt->dataset;
    if (schedules_opt->count() > 0) choice.schedules = *schedules;
    choice.train = *train;
    study::CompareOptions o;
    o.studies = study::plan_compare(choice);
    o.synth = *opt;
    o.train = *topt;
    o.count = parse_count_convention(*count);
    o.bitops_only = *bitops_only;
    if (!*bitops_only) {
      ArchOptions a = *arch;
      if (a.arch.empty()) a.arch = study::default_compare_archs();
      o.archs = a.load();
    }
    o.sim.timing = parse_timing(*timing);

    ProgressLine progress(isatty(fileno(stderr)) != 0 && !*quiet);
    study::CompareProgress show;
    if (progress.on()) show = [&](const std::string& line) { progress.show(line); };
    const study::Comparison cmp = study::run_compare(o, show);
    progress.clear();

    std::vector<std::string> files;
    if (!report_dir->empty()) {
      progress.show(fmt::format("drawing the report in {}", *report_dir));
      files = study::write_report(cmp, *report_dir);
      progress.clear();
    }
    if (*json) {
      print_json(study::comparison_json(cmp));
      return 0;
    }
    if (!*quiet) std::cout << study::comparison_preamble(cmp) << "\n";
    std::cout << study::comparison_table(cmp);
    if (!*quiet && !files.empty())
      std::cout << fmt::format("\nreport: {}/index.html ({} files)\n", *report_dir, files.size());
    // Wall time only where a person watches: stdout stays the same run to run.
    if (progress.on()) {
      double train_wall_s = 0;
      for (const auto& run : cmp.runs) train_wall_s += run.train_wall_s;
      std::fprintf(
          stderr, "compare took %s (training %s)\n",
          seconds(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count())
              .c_str(),
          seconds(train_wall_s).c_str());
    }
    return 0;
  };
}

}  // namespace lpsim::cli
