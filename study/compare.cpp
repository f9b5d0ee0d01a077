// The comparison job: which runs, how each is made, and what it costs.
#include "study/compare.h"

#include <fmt/format.h>


#include "core/error.h"
#include "study/format.h"
#include "traces/schedule.h"

namespace lpsim::study {

namespace {

std::vector<std::string> schedule_list(const std::optional<std::string>& given, bool trained) {
  auto s = split_schedules(given ? *given : trained ? kTrainSchedules : kSynthSchedules);
  if (s.empty() || s.front().empty())
    throw InputError("--schedules: give at least one schedule, e.g. static:8/8");
  return s;
}

// A trained run: its trace and accuracy, or (diverged) the trace of the
// schedule it followed, synthesized, and a note saying so.
void train_run(const CompareOptions& o, const CompareStudy& st, const std::string& spec,
               const std::string& counter, const CompareProgress& progress, Comparison& cmp,
               CompareRun& run) {
  trainer::TrainOptions t = o.train;
  t.model = st.model;
  t.dataset = st.dataset;
  t.batch = o.synth.batch;
  t.schedule = spec;
  trainer::ProgressFn fn;
  if (progress)
    fn = [&](const trainer::Progress& p) {
      if (p.iteration % 10 != 0 && p.iteration != p.iterations_per_epoch) return;
      progress(fmt::format("{} training {} {}: epoch {}/{} iter {}/{} loss {:.3f} prec {} ETA {}",
                           counter, st.model, spec, p.epoch + 1, p.epochs, p.iteration,
                           p.iterations_per_epoch, p.loss, p.precision.label(),
                           eta_text(p.eta_s)));
    };
  std::optional<trainer::TrainResult> r;
  try {
    r = trainer::train(t, fn);
  } catch (const trainer::TrainingDiverged& e) {
    // A run that diverges keeps its row: no accuracy, and the cost of the
    // schedule it was following (its synthesized trace), so one unstable
    // schedule does not stop the comparison.
    const std::string what = e.what();
    SynthOptions s = o.synth;
    s.model = st.model;
    s.dataset = st.dataset;
    s.schedule = spec;
    s.epochs = t.epochs;
    s.iterations =
        t.train_limit > 0 ? t.epochs * ((t.train_limit + t.batch - 1) / t.batch) : 0;
    run.trace = synthesize(s);
    cmp.notes.push_back(fmt::format(
        "{} {}: {}; its row has no accuracy, and the BitOPs, energy and latency of the "
        "schedule it was following (its synthesized trace)",
        st.model, spec, what));
    return;
  }
  if (!r->finished || r->trace.metrics.empty())
    throw InternalError(fmt::format("training {} {} stopped early", st.model, spec));
  run.trace = std::move(r->trace);
  run.test_accuracy = run.trace.metrics.back().test_accuracy;
  for (const auto& m : run.trace.metrics) run.train_wall_s += m.wall_s.value_or(0);
}

// The line of the preamble that says how a study's runs were made.
std::string study_note(const CompareOptions& o, const CompareStudy& st, const CompareRun& first) {
  const trainer::TrainOptions& t = o.train;
  if (st.trained)
    return fmt::format(
        "{}/{}: trained for real by the built-in trainer, {} epoch{} per schedule, batch {}, "
        "seed {}{}; accuracy on {} test images",
        st.model, first.dataset, t.epochs, t.epochs == 1 ? "" : "s", o.synth.batch, t.seed,
        t.train_limit > 0 ? fmt::format(", first {} training images", t.train_limit) : "",
        t.test_limit > 0 ? std::to_string(t.test_limit) : "all");
  return fmt::format(
      "{}/{}: synthesized (paper-scale shapes, no data), {} epochs of {} iterations, batch {}",
      st.model, first.dataset, first.trace.header.epochs,
      first.trace.header.iterations_per_epoch(), o.synth.batch);
}

}  // namespace

std::vector<std::string> default_compare_archs() { return {"tpu_int8", "bit_fusion"}; }

std::vector<CompareStudy> plan_compare(const CompareChoice& choice) {
  std::vector<CompareStudy> studies;
  if (choice.model || choice.dataset || choice.train) {
    CompareStudy st;
    st.trained = choice.train;
    st.model = choice.model.value_or(choice.train ? "lenet5" : "resnet74");
    // No dataset named: the trainer's Fashion-MNIST, or the model's own
    // (the synthesizer resolves "").
    st.dataset = choice.dataset.value_or(choice.train ? "fashion-mnist" : "");
    st.schedules = schedule_list(choice.schedules, st.trained);
    studies.push_back(st);
    return studies;
  }
  // Schedules that switch on training state (MuPPET) run where trained only.
  std::vector<std::string> synth;
  for (const auto& spec : schedule_list(choice.schedules, false))
    if (!parse_schedule(spec)->needs_training_state()) synth.push_back(spec);
  if (synth.empty())
    throw InputError(
        "--schedules: give at least one schedule the synthesizer can run, "
        "e.g. static:8/8 (muppet: needs training)");
  studies.push_back({"resnet74", "cifar100", false, synth});
  studies.push_back({"lenet5", "fashion-mnist", true, schedule_list(choice.schedules, true)});
  return studies;
}

Comparison run_compare(const CompareOptions& o, const CompareProgress& progress) {
  Comparison cmp;
  cmp.count = to_string(o.count);
  cmp.bitops_only = o.bitops_only;
  auto show = [&](const std::string& line) {
    if (progress) progress(line);
  };
  std::size_t total_runs = 0, done_runs = 0;
  for (const auto& st : o.studies) total_runs += st.schedules.size();

  for (const auto& st : o.studies) {
    for (const auto& spec : st.schedules) {
      CompareRun run;
      run.model = st.model;
      run.trained = st.trained;
      const std::string counter = fmt::format("[{}/{}]", ++done_runs, total_runs);
      if (st.trained) {
        train_run(o, st, spec, counter, progress, cmp, run);
      } else {
        SynthOptions s = o.synth;
        s.model = st.model;
        s.dataset = st.dataset;
        s.schedule = spec;
        show(fmt::format("{} synthesizing {} {}", counter, st.model, spec));
        run.trace = synthesize(s);
      }
      run.dataset = run.trace.header.dataset;
      run.schedule = run.trace.header.schedule;
      const Graph graph = trace_graph(run.trace);
      const BitopsReport bits = count_bitops(run.trace, graph, o.count);
      run.gbitops = bits.total_bitops / 1e9;
      run.total_macs = bits.total_macs;
      cmp.runs.push_back(std::move(run));
      const std::size_t index = cmp.runs.size() - 1;
      if (o.bitops_only) {
        cmp.rows.push_back({index, "", std::nullopt, ""});
        continue;
      }
      for (const auto& a : o.archs) {
        show(fmt::format("{} simulating {} {} on {}", counter, st.model, spec, a.name));
        CompareRow row{index, a.name, std::nullopt, ""};
        try {
          row.sim = simulate_trace(cmp.runs[index].trace, graph, a, energy_table_for(a), o.sim);
        } catch (const InputError& e) {
          // A design point that cannot run some of the trace's formats (12-bit
          // or FP32 operands on an INT8-only array) gets a row without figures.
          row.unsupported = e.what();
        }
        cmp.rows.push_back(std::move(row));
      }
    }
    cmp.notes.push_back(study_note(o, st, cmp.runs[cmp.runs.size() - st.schedules.size()]));
  }
  return cmp;
}

}  // namespace lpsim::study
