// `lpsim train`: real quantized training with the built-in trainer, writing
// the trace it ran (docs/trainer.md).
#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "study/train_format.h"
#include "tools/cli_common.h"
#include "tools/commands.h"
#include "trainer/lr_policy.h"
#include "trainer/svrg.h"
#include "trainer/trainer.h"

namespace lpsim::cli {
namespace {

// --lr: a number (CLI11's own conversion, so "0.05" gives the same double as
// before policies existed) or an LRBench policy "KIND:KEY=VALUE,...".
void parse_lr(const std::string& text, trainer::TrainOptions& o) {
  double value = 0;
  if (CLI::detail::lexical_cast(text, value)) {
    o.lr = value;
    o.lr_policy.clear();
    return;
  }
  if (text.find(':') == std::string::npos)
    throw InputError(fmt::format(
        "--lr {}: must be a number > 0 or an LRBench policy KIND:KEY=VALUE,... (fix, step, "
        "nstep, exp, inv, poly, tri, tri2, triexp, sin, sin2, sinexp, cos, cos2, cosexp)",
        text));
  trainer::parse_lr_policy(text);  // fails here, before any data is read
  o.lr_policy = text;
}

}  // namespace

Action add_train(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "train",
      "Train a zoo network for real on Fashion-MNIST with quantized W/A/E/G per a precision "
      "schedule, and write the trace it ran.\n"
      "Example: lpsim train --model lenet5 --dataset fashion-mnist --epochs 10 "
      "--schedule cyclic:3-8/8 --seed 1 -o run.lpt");
  auto o = std::make_shared<trainer::TrainOptions>();
  auto out = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto quiet = std::make_shared<bool>(false);
  auto dump_dir = std::make_shared<std::string>();
  auto checkpoint = std::make_shared<std::string>();
  auto loss_scale = std::make_shared<std::string>("1");
  auto lr = std::make_shared<std::string>("0.05");
  sub->add_option("--model", o->model, "Zoo model: lenet5, mlp or resnet8-w8")
      ->default_val("lenet5");
  sub->add_option("--dataset", o->dataset, "Dataset (fashion-mnist)")->default_val("fashion-mnist");
  sub->add_option("--data-dir", o->data_dir, "Folder with the gzipped IDX files")
      ->default_val(trainer::kFashionMnistDir);
  sub->add_option("--epochs", o->epochs, "Training epochs")->default_val(10);
  sub->add_option("--batch", o->batch, "Batch size")->default_val(128);
  sub->add_option("--lr", *lr,
                  "Learning rate: a number (the start of --lr-schedule), or an LRBench policy "
                  "KIND:KEY=VALUE,... e.g. tri:k0=0.01,k1=0.1,l=500 (fix, step, nstep, exp, inv, "
                  "poly, tri, tri2, triexp, sin, sin2, sinexp, cos, cos2, cosexp)")
      ->default_val("0.05");
  auto* momentum_opt =
      sub->add_option("--momentum", o->momentum, "SGD momentum (svrg, halp: default 0)")
          ->default_val(0.9);
  sub->add_option("--weight-decay", o->weight_decay, "L2 weight decay")->default_val(5e-4);
  sub->add_option("--lr-schedule", o->lr_schedule,
                  "With a number --lr: auto | cosine | step | constant | muppet (auto: muppet "
                  "for muppet:, else cosine)")
      ->default_val("auto");
  sub->add_option("--lr-step", o->lr_step, "step: epochs between drops (0: epochs/3)")
      ->default_val(0);
  sub->add_option("--lr-gamma", o->lr_gamma, "step: factor per drop")->default_val(0.1);
  sub->add_option("--schedule", o->schedule,
                  "Precision schedule: static:8/8, static:fp32, progressive:3-8/8, "
                  "cyclic:3-8/8, two-phase:16/16->32/32, muppet:8,12,14,16, file:PATH")
      ->default_val("static:fp32");
  sub->add_option("--seed", o->seed, "Seed of initialisation, shuffling and rounding")
      ->default_val(1);
  sub->add_option("--threads", o->threads, "Worker threads (results do not depend on it)")
      ->default_val(1);
  sub->add_option("--quantizer", o->quantizer,
                  "Integer formats as: range (CPT min/max) | dfx (MuPPET dynamic fixed point) "
                  "| auto (dfx for muppet:, else range)")
      ->default_val("auto");
  sub->add_option("--rounding", o->rounding,
                  "auto (W, A nearest; E, G stochastic; all stochastic for muppet:) | nearest | "
                  "stochastic")
      ->default_val("auto");
  sub->add_option("--loss-scale", *loss_scale,
                  "Loss scale for minifloat E/G: a number (static), dynamic (from 2^16) or "
                  "dynamic:S (skip a step on overflow and halve; double after a clean window), "
                  "enhanced[:S] (dynamic with a floor growing per epoch), adaptive[:<form>] "
                  "(per-layer scales on top)")
      ->default_val("1");
  sub->add_option("--loss-scale-window", o->loss_scale_window,
                  "dynamic: clean steps in a row before the scale doubles")
      ->default_val(2000);
  sub->add_option("--loss-scale-floor", o->loss_scale_floor,
                  "enhanced: lower bound of the scale in epoch 0 (1..2^64)")
      ->default_val(1);
  sub->add_option("--loss-scale-floor-growth", o->loss_scale_floor_growth,
                  "enhanced: factor by which the lower bound grows each epoch (1..1024)")
      ->default_val(2);
  sub->add_option("--master-weights", o->master_weights,
                  "Format of the master weights and momenta the update stores: fp32 | fp16 | "
                  "bf16")
      ->default_val("fp32");
  sub->add_option("--master-rounding", o->master_rounding,
                  "Rounding of the stored update with fp16 / bf16 master weights: nearest | "
                  "stochastic")
      ->default_val("nearest");
  sub->add_option("--bn-recalibrate", o->bn_recalibrate,
                  "Before each test pass, re-estimate batch norm statistics over the first N "
                  "training batches at the test precision (0: off)")
      ->default_val(0);
  sub->add_option("--gemm-kernel", o->gemm_kernel,
                  "GEMMs of integer layers (<= 8 bits): auto | vnni | avx2 | scalar (integer "
                  "kernels) | reference (FP64 BLAS on the codes); all give the same bits")
      ->default_val("auto");
  sub->add_option("-o,--output", *out,
                  "Trace file to write (.lpt or .lpt.gz); - for standard output");
  sub->add_option("--checkpoint", *checkpoint, "Checkpoint file (default: <output>.ckpt)");
  sub->add_flag("--resume", o->resume, "Continue the run from its checkpoint");
  sub->add_flag(
      "--range-test", o->range_test,
      "CPT precision range test in the first epoch: picks B_min for cyclic:/progressive:");
  sub->add_option("--range-test-threshold", o->range_test_threshold,
                  "Training-accuracy gain (0..1) below which the range test stops")
      ->default_val(0.01);
  sub->add_option("--optimizer", o->optimizer,
                  "sgd | svrg (Johnson & Zhang 2013) | halp (SVRG with bit centering, De Sa et "
                  "al. 2018)")
      ->default_val("sgd");
  auto* epoch_length_opt =
      sub->add_option("--halp-epoch-length", o->halp_epoch_length,
                      "svrg, halp: steps between full-gradient anchors (0: half an epoch)")
          ->default_val(0);
  auto* bits_opt = sub->add_option("--halp-bits", o->halp_bits,
                                   "halp: bits of the offset from the anchor")
                       ->default_val(trainer::kHalpDefaultBits);
  auto* mu_opt = sub->add_option("--halp-mu", o->halp_mu,
                                 "halp: mu of the offset's scale ||g~|| / (mu (2^(b-1) - 1))")
                     ->default_val(trainer::kHalpDefaultMu);
  sub->add_flag("--json", *json, "Print a JSON summary on stdout");
  sub->add_flag("-q,--quiet", *quiet, "No progress and no summary line");
  // Hidden: for tests and the PyTorch reference check.
  sub->add_option("--train-limit", o->train_limit, "")->group("");
  sub->add_option("--test-limit", o->test_limit, "")->group("");
  sub->add_option("--stop-after", o->stop_after, "")->group("");
  sub->add_option("--range-test-from", o->range_test_from, "")->group("")->default_val(2);
  sub->add_option("--dump-batch", *dump_dir, "")->group("");

  return [o, out, json, quiet, dump_dir, checkpoint, loss_scale, lr, momentum_opt,
          epoch_length_opt, bits_opt, mu_opt]() {
    trainer::parse_loss_scale_option(*loss_scale, *o);
    parse_lr(*lr, *o);
    // Options of another optimizer are refused, not ignored.
    const trainer::OptimizerKind kind = trainer::parse_optimizer(o->optimizer);
    if (kind != trainer::OptimizerKind::Halp && (bits_opt->count() > 0 || mu_opt->count() > 0))
      throw InputError(fmt::format("{}: applies to --optimizer halp only (this run: {})",
                                   bits_opt->count() > 0 ? "--halp-bits" : "--halp-mu",
                                   o->optimizer));
    if (kind == trainer::OptimizerKind::Sgd && epoch_length_opt->count() > 0)
      throw InputError(
          "--halp-epoch-length: applies to --optimizer svrg or halp only (this run: sgd)");
    // SVRG and HALP as published (Johnson & Zhang 2013; De Sa et al. 2018,
    // torchhalp's examples) step without momentum.
    if (kind != trainer::OptimizerKind::Sgd && momentum_opt->count() == 0) o->momentum = 0;
    if (!dump_dir->empty()) {
      trainer::dump_batch(*o, *dump_dir);
      if (!*quiet) std::cout << fmt::format("wrote one batch's tensors to {}\n", *dump_dir);
      return 0;
    }
    if (out->empty()) throw InputError("lpsim train: -o/--output is required");
    // Checked before training, so a bad -o fails in a second, not after hours.
    const bool to_file = resolve_output(*out).kind == OutputKind::kAtomicFile;
    // A stream (-o -, a FIFO) has no <output>.ckpt: checkpoints only with --checkpoint.
    o->checkpoint = checkpoint->empty() ? (to_file ? *out + ".ckpt" : "") : *checkpoint;
    if (!o->checkpoint.empty()) resolve_output(o->checkpoint);
    std::ostream& info = info_stream(*out);
    ProgressLine line(isatty(fileno(stderr)) != 0 && !*quiet);
    trainer::ProgressFn progress;
    if (line.on()) {
      progress = [&line](const trainer::Progress& p) {
        if (p.iteration % 10 != 0 && p.iteration != p.iterations_per_epoch) return;
        line.show(fmt::format("epoch {}/{}  iter {}/{}  loss {:.4f}  prec {}{}  ETA {}",
                              p.epoch + 1, p.epochs, p.iteration, p.iterations_per_epoch, p.loss,
                              p.precision.label(),
                              p.loss_scale != 1 ? fmt::format("  S {:g}", p.loss_scale) : "",
                              eta_text(p.eta_s)));
      };
    }
    trainer::TrainResult r = trainer::train(*o, progress);
    line.clear();
    if (!r.finished) {
      if (!*quiet)
        info << fmt::format(
            "stopped after epoch {} of {}; checkpoint {} (continue with "
            "--resume)\n",
            r.trace.metrics.size(), o->epochs, o->checkpoint);
      return 0;
    }
    write_trace(*out, r.trace);
    if (*json)
      print_json(study::train_json(*o, r, *out), info);
    else if (!*quiet)
      info << study::train_summary(*o, r, *out);
    return 0;
  };
}

}  // namespace lpsim::cli
