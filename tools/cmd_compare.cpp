// `lpsim compare`: precision schedules side by side — test accuracy (trained
// runs), training BitOPs, energy and latency per design point, and the change
// against the first schedule (the baseline). With no arguments: the main job
// (docs/user-guide.md), ResNet-74 / CIFAR-100 synthesized at paper scale and
// LeNet-5 / Fashion-MNIST trained for real, on a fixed INT8 array and a
// precision-scalable one.
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <optional>

#include "core/error.h"
#include "sim/replay.h"
#include "tools/arch_options.h"
#include "tools/cli_common.h"
#include "tools/commands.h"
#include "tools/report.h"
#include "traces/bitops.h"
#include "traces/schedule.h"
#include "traces/synth.h"
#include "trainer/trainer.h"

namespace lpsim::cli {

namespace {

constexpr const char* kSynthSchedules = "static:8/8,static:4/4,progressive:3-8/8,cyclic:3-8/8";
constexpr const char* kTrainSchedules =
    "static:8/8,static:4/4,progressive:3-8/8,cyclic:3-8/8,muppet:8,12,14,16";
// A fixed INT8 array and a precision-scalable one (docs/architecture.md).
const std::vector<std::string> kDefaultArchs{"tpu_int8", "bit_fusion"};

// One model to study: synthesized from its shapes, or trained for real.
struct Study {
  std::string model, dataset;
  bool trained = false;
  std::vector<std::string> schedules;
};

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

std::string eta_text(double s) {
  const auto t = static_cast<long long>(std::llround(std::max(0.0, s)));
  return t >= 3600 ? fmt::format("{}h{:02}m", t / 3600, (t % 3600) / 60)
                   : fmt::format("{}m{:02}s", t / 60, t % 60);
}

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
    Comparison cmp;
    cmp.count = to_string(parse_count_convention(*count));
    cmp.bitops_only = *bitops_only;
    if (!report_dir->empty()) check_report_target(*report_dir);

    // Which models: one named (or --train alone), else the main job's two.
    std::vector<Study> studies;
    const bool one_model = model_opt->count() > 0 || dataset_opt->count() > 0 || *train;
    auto schedule_list = [&](bool trained) {
      auto s = split_schedules(schedules_opt->count() > 0 ? *schedules
                               : trained                  ? kTrainSchedules
                                                          : kSynthSchedules);
      if (s.empty() || s.front().empty())
        throw InputError("--schedules: give at least one schedule, e.g. static:8/8");
      return s;
    };
    if (one_model) {
      Study st{opt->model, opt->dataset, *train, {}};
      if (*train && model_opt->count() == 0) st.model = "lenet5";
      // No --dataset: the trainer's Fashion-MNIST, or the zoo entry's own
      // dataset (synth resolves "").
      if (dataset_opt->count() == 0) st.dataset = *train ? "fashion-mnist" : "";
      st.schedules = schedule_list(st.trained);
      studies.push_back(st);
    } else {
      // Schedules that switch on training state (MuPPET) run where trained only.
      std::vector<std::string> synth;
      for (const auto& spec : schedule_list(false))
        if (!parse_schedule(spec)->needs_training_state()) synth.push_back(spec);
      if (synth.empty())
        throw InputError(
            "--schedules: give at least one schedule the synthesizer can run, "
            "e.g. static:8/8 (muppet: needs training)");
      studies.push_back({opt->model, opt->dataset, false, synth});
      studies.push_back({"lenet5", "fashion-mnist", true, schedule_list(true)});
    }

    std::vector<ArchConfig> archs;
    if (!*bitops_only) {
      ArchOptions a = *arch;
      if (a.arch.empty()) a.arch = kDefaultArchs;
      archs = a.load();
    }
    const CountConvention convention = parse_count_convention(*count);
    SimOptions sim_options;
    sim_options.timing = parse_timing(*timing);
    ProgressLine progress(isatty(fileno(stderr)) != 0 && !*quiet);
    std::size_t total_runs = 0, done_runs = 0;
    for (const auto& st : studies) total_runs += st.schedules.size();

    double train_wall_s = 0;
    for (const auto& st : studies) {
      for (const auto& spec : st.schedules) {
        CompareRun run;
        run.model = st.model;
        run.trained = st.trained;
        ++done_runs;
        if (st.trained) {
          trainer::TrainOptions t = *topt;
          t.model = st.model;
          t.dataset = st.dataset;
          t.batch = opt->batch;
          t.schedule = spec;
          trainer::ProgressFn fn;
          if (progress.on())
            fn = [&, spec](const trainer::Progress& p) {
              if (p.iteration % 10 != 0 && p.iteration != p.iterations_per_epoch) return;
              progress.show(fmt::format(
                  "[{}/{}] training {} {}: epoch {}/{} iter {}/{} loss {:.3f} prec {} ETA {}",
                  done_runs, total_runs, st.model, spec, p.epoch + 1, p.epochs, p.iteration,
                  p.iterations_per_epoch, p.loss, p.precision.label(), eta_text(p.eta_s)));
            };
          std::optional<trainer::TrainResult> r;
          try {
            r = trainer::train(t, fn);
          } catch (const InputError& e) {
            // A run that diverges keeps its row: no accuracy, and the cost of
            // the schedule it was following (its synthesized trace), so one
            // unstable schedule does not stop the comparison.
            const std::string what = e.what();
            if (what.rfind("training diverged", 0) != 0) throw;
            SynthOptions o = *opt;
            o.model = st.model;
            o.dataset = st.dataset;
            o.schedule = spec;
            o.epochs = t.epochs;
            o.iterations = t.train_limit > 0 ? t.epochs * ((t.train_limit + t.batch - 1) / t.batch)
                                             : 0;
            run.trace = synthesize(o);
            cmp.notes.push_back(fmt::format(
                "{} {}: {}; its row has no accuracy, and the BitOPs, energy and latency of the "
                "schedule it was following (its synthesized trace)",
                st.model, spec, what));
          }
          if (r) {
            if (!r->finished || r->trace.metrics.empty())
              throw InternalError(fmt::format("training {} {} stopped early", st.model, spec));
            run.trace = std::move(r->trace);
            run.test_accuracy = run.trace.metrics.back().test_accuracy;
            for (const auto& m : run.trace.metrics) run.train_wall_s += m.wall_s.value_or(0);
            train_wall_s += run.train_wall_s;
          }
        } else {
          SynthOptions o = *opt;
          o.model = st.model;
          o.dataset = st.dataset;
          o.schedule = spec;
          progress.show(
              fmt::format("[{}/{}] synthesizing {} {}", done_runs, total_runs, st.model, spec));
          run.trace = synthesize(o);
        }
        run.dataset = run.trace.header.dataset;
        run.schedule = run.trace.header.schedule;
        const Graph graph = trace_graph(run.trace);
        const BitopsReport bits = count_bitops(run.trace, graph, convention);
        run.gbitops = bits.total_bitops / 1e9;
        run.total_macs = bits.total_macs;
        cmp.runs.push_back(std::move(run));
        const std::size_t index = cmp.runs.size() - 1;
        if (*bitops_only) {
          cmp.rows.push_back({index, "", nullptr, ""});
          continue;
        }
        for (const auto& a : archs) {
          progress.show(fmt::format("[{}/{}] simulating {} {} on {}", done_runs, total_runs,
                                    st.model, spec, a.name));
          CompareRow row{index, a.name, nullptr, ""};
          try {
            nlohmann::json r =
                to_json(simulate_trace(cmp.runs[index].trace, graph, a, energy_table_for(a),
                                       sim_options));
            r.erase("layers");
            row.sim = std::move(r);
          } catch (const InputError& e) {
            // A design point that cannot run some of the trace's formats (12-bit
            // or FP32 operands on an INT8-only array) gets a row without figures.
            row.unsupported = e.what();
          }
          cmp.rows.push_back(std::move(row));
        }
      }
      const auto& first = cmp.runs[cmp.runs.size() - st.schedules.size()];
      cmp.notes.push_back(
          st.trained
              ? fmt::format("{}/{}: trained for real by the built-in trainer, {} epoch{} per "
                            "schedule, batch {}, seed {}{}; accuracy on {} test images",
                            st.model, first.dataset, topt->epochs, topt->epochs == 1 ? "" : "s",
                            opt->batch, topt->seed,
                            topt->train_limit > 0
                                ? fmt::format(", first {} training images", topt->train_limit)
                                : "",
                            topt->test_limit > 0 ? std::to_string(topt->test_limit) : "all")
              : fmt::format("{}/{}: synthesized (paper-scale shapes, no data), {} epochs of "
                            "{} iterations, batch {}",
                            st.model, first.dataset, first.trace.header.epochs,
                            first.trace.header.iterations_per_epoch(), opt->batch));
    }
    progress.clear();

    std::vector<std::string> files;
    if (!report_dir->empty()) {
      progress.show(fmt::format("drawing the report in {}", *report_dir));
      files = write_report(cmp, *report_dir);
      progress.clear();
    }
    if (*json) {
      print_json(comparison_json(cmp));
      return 0;
    }
    if (!*quiet) std::cout << comparison_preamble(cmp) << "\n";
    std::cout << comparison_table(cmp);
    if (!*quiet && !files.empty())
      std::cout << fmt::format("\nreport: {}/index.html ({} files)\n", *report_dir, files.size());
    // Wall time only where a person watches: stdout stays the same run to run.
    if (progress.on())
      std::fprintf(
          stderr, "compare took %s (training %s)\n",
          seconds(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count())
              .c_str(),
          seconds(train_wall_s).c_str());
    return 0;
  };
}

}  // namespace lpsim::cli
