// _lpsim: the C++ library as a Python extension (pybind11). Thin: each
// function resolves its arguments as the command line does, calls the library
// and hands back a C++ object (Trace, Graph, Arch) or the library's own JSON
// (sim/replay.h to_json) as plain Python values; python/lpsim/ wraps those in
// typed results. InputError becomes lpsim.InputError (a ValueError) with the
// command line's one-line message.
#include <fmt/format.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/input_file.h"
#include "core/precision.h"
#include "models/graph_io.h"
#include "models/model_source.h"
#include "models/training_step.h"
#include "models/zoo.h"
#include "sim/arch.h"
#include "sim/replay.h"
#include "study/compare.h"
#include "study/explore.h"
#include "traces/bitops.h"
#include "traces/synth.h"
#include "traces/trace.h"

namespace py = pybind11;

namespace lpsim {
namespace {

// JSON as Python values: objects keep nlohmann's (sorted) key order, integers
// stay int, floats stay float, so the dict equals json.loads of `--json`.
py::object to_python(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::null:
      return py::none();
    case nlohmann::json::value_t::boolean:
      return py::bool_(j.get<bool>());
    case nlohmann::json::value_t::number_integer:
      return py::int_(j.get<std::int64_t>());
    case nlohmann::json::value_t::number_unsigned:
      return py::int_(j.get<std::uint64_t>());
    case nlohmann::json::value_t::number_float:
      return py::float_(j.get<double>());
    case nlohmann::json::value_t::string:
      return py::str(j.get_ref<const std::string&>());
    case nlohmann::json::value_t::array: {
      py::list out;
      for (const auto& v : j) out.append(to_python(v));
      return out;
    }
    case nlohmann::json::value_t::object: {
      py::dict out;
      for (const auto& [k, v] : j.items()) out[py::str(k)] = to_python(v);
      return out;
    }
    default:
      throw InternalError("to_python: a JSON value of an unexpected type");
  }
}

// --arch / --set as the command line resolves them (tools/arch_options.cpp):
// no name = the built-in default design point; a shipped name or a YAML path.
ArchConfig resolve_arch(const std::optional<std::string>& arch,
                        const std::vector<std::string>& set) {
  if (!arch) return default_arch(set);
  const std::string path = resolve_arch_path(*arch);
  check_input_caps(path);
  return load_arch(path, set);
}

SimOptions sim_options(const std::string& timing, CostCache* cache) {
  SimOptions o;
  o.timing = parse_timing(timing);
  o.cache = cache;
  return o;
}

// Without a cache given, each call gets its own, so the report (its "cache"
// counts included) is the one a fresh `lpsim simulate` process prints.
py::object simulate_trace_json(const Trace& trace, const ArchConfig& arch,
                               const std::string& timing, CostCache* cache) {
  CostCache own;
  const Graph graph = trace_graph(trace);
  nlohmann::json j = to_json(simulate_trace(trace, graph, arch, energy_table_for(arch),
                                            sim_options(timing, cache ? cache : &own)));
  j["arch"] = arch.name;
  return to_python(j);
}

// `lpsim compare` (study/compare.h) for one model: each row as `lpsim compare
// --json` prints it, paired with its full simulation report (or None).
py::object compare_json(const std::string& model, const std::string& dataset, bool train,
                        const std::vector<std::string>& schedules,
                        const std::vector<ArchConfig>& archs, std::int64_t epochs,
                        std::int64_t batch, std::int64_t iterations, const std::string& count,
                        const std::string& timing, bool bitops_only, std::int64_t train_epochs,
                        std::int64_t train_limit, std::int64_t test_limit, std::uint64_t seed,
                        int threads, const std::string& data_dir) {
  if (schedules.empty() || schedules.front().empty())
    throw InputError("schedules: give at least one schedule, e.g. static:8/8");
  study::CompareOptions o;
  o.studies = {{model, train && dataset.empty() ? "fashion-mnist" : dataset, train, schedules}};
  o.synth.epochs = epochs;
  o.synth.batch = batch;
  o.synth.iterations = iterations;
  o.train.epochs = static_cast<int>(train_epochs);
  o.train.train_limit = train_limit;
  o.train.test_limit = test_limit;
  o.train.seed = seed;
  o.train.threads = threads;
  o.train.data_dir = data_dir;
  o.count = parse_count_convention(count);
  o.bitops_only = bitops_only;
  o.archs = archs;
  CostCache own;  // each call its own, so a row equals a fresh `lpsim compare`'s
  o.sim = sim_options(timing, &own);
  const study::Comparison c = study::run_compare(o);
  const nlohmann::json rows = study::comparison_json(c);
  py::list out;
  for (std::size_t i = 0; i < c.rows.size(); ++i) {
    py::object sim = py::none();
    if (c.rows[i].sim) {
      nlohmann::json j = to_json(*c.rows[i].sim);
      j["arch"] = c.rows[i].arch;
      sim = to_python(j);
    }
    out.append(py::make_tuple(to_python(rows[i]), sim));
  }
  return out;
}

// `lpsim explore` (study/explore.h): the results CSV is written as the command
// line writes it; the summary comes back as a dict.
py::object explore_json(const std::string& space, const std::vector<std::string>& traces,
                        const std::string& output, int jobs, std::int64_t samples,
                        const std::string& sampling, std::uint64_t seed, bool resume,
                        const std::string& report, const std::string& timing) {
  explore::ExploreOptions o;
  o.space_path = space;
  o.traces = traces;
  o.output = output;
  o.jobs = jobs;
  if (samples > 0) {
    if (sampling != "random" && sampling != "lhs")
      throw InputError(fmt::format("sampling = '{}': must be random or lhs", sampling));
    o.samples = samples;
    o.sampling = sampling == "lhs" ? explore::Sampling::LatinHypercube : explore::Sampling::Random;
  }
  o.seed = seed;
  o.resume = resume;
  o.report_dir = report;
  o.progress = false;
  o.timing = parse_timing(timing);
  const explore::ExploreResult r = explore::run_explore(o);
  if (r.exit_code != 0)
    throw InternalError(fmt::format("explore stopped by signal {}: the rows of finished points "
                                    "are in {}; rerun with resume=True to finish",
                                    r.exit_code - 128, output));
  return to_python(r.summary);
}

py::object simulate_graph_json(const Graph& graph, const ArchConfig& arch, const std::string& phase,
                               const std::string& precision, std::int64_t batch,
                               const std::string& timing, CostCache* cache) {
  if (phase != "train" && phase != "fwd")
    throw InputError(fmt::format("phase = '{}': must be train or fwd", phase));
  if (batch < 1) throw InputError(fmt::format("batch = {}: must be >= 1", batch));
  const auto slash = precision.find('/');
  if (slash == std::string::npos)
    throw InputError(fmt::format("precision = '{}': expected FW/BW, e.g. 8/8", precision));
  const PrecisionSet p =
      PrecisionSet::fw_bw(parse_format(precision.substr(0, slash), "precision"),
                          parse_format(precision.substr(slash + 1), "precision"));
  CostCache own;
  nlohmann::json j = to_json(
      simulate_step(graph, arch, energy_table_for(arch), p, batch, phase == "fwd",
                    sim_options(timing, cache ? cache : &own), layer_precision_of(graph, p)));
  // Input layers stand for data, not work: the layers list leaves them out, as
  // `lpsim simulate --topology --json` does.
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& l : j["layers"])
    if (l.value("kind", "") != "input") layers.push_back(l);
  j["layers"] = std::move(layers);
  j["arch"] = arch.name;
  return to_python(j);
}

py::dict bitops_dict(const BitopsReport& r) {
  py::dict bitops_by_phase, macs_by_phase;
  for (int p = 0; p < kNumPhases; ++p) {
    const py::str name(std::string(phase_name(static_cast<Phase>(p))));
    bitops_by_phase[name] = r.bitops_by_phase[std::size_t(p)];
    macs_by_phase[name] = r.macs_by_phase[std::size_t(p)];
  }
  py::dict d;
  d["total_bitops"] = r.total_bitops;
  d["total_macs"] = r.total_macs;
  d["bitops_by_phase"] = bitops_by_phase;
  d["macs_by_phase"] = macs_by_phase;
  d["bitops_by_epoch"] = r.bitops_by_epoch;
  d["macs_by_epoch"] = r.macs_by_epoch;
  d["iterations_by_precision"] = r.iterations_by_precision;
  d["total_iterations"] = r.total_iterations;
  d["total_images"] = r.total_images;
  return d;
}

py::dict graph_stats(const Graph& g) {
  const NetworkStats s = network_stats(g);
  py::dict d;
  d["forward_macs"] = s.forward_macs;
  d["parameters"] = s.parameters;
  d["training_macs"] = s.training_macs;
  return d;
}

}  // namespace
}  // namespace lpsim

PYBIND11_MODULE(_lpsim, m) {
  using namespace lpsim;
  m.doc() = "lpsim's C++ library (use the `lpsim` package, docs/python.md)";

  static py::exception<InputError> input_error(m, "InputError", PyExc_ValueError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const InputError& e) {
      input_error(one_line(e.what()).c_str());
    } catch (const InternalError& e) {
      PyErr_SetString(PyExc_RuntimeError, ("internal error: " + one_line(e.what())).c_str());
    }
  });

  py::class_<Trace>(m, "Trace", "A training trace (docs/trace-format.md)")
      .def_property_readonly("model", [](const Trace& t) { return t.header.model; })
      .def_property_readonly("dataset", [](const Trace& t) { return t.header.dataset; })
      .def_property_readonly("epochs", [](const Trace& t) { return t.header.epochs; })
      .def_property_readonly("batch", [](const Trace& t) { return t.header.batch; })
      .def_property_readonly("samples_per_epoch",
                             [](const Trace& t) { return t.header.samples_per_epoch; })
      .def_property_readonly("iterations", [](const Trace& t) { return t.header.total_iterations; })
      .def_property_readonly("iterations_per_epoch",
                             [](const Trace& t) { return t.header.iterations_per_epoch(); })
      .def_property_readonly("schedule", [](const Trace& t) { return t.header.schedule; })
      .def_property_readonly("producer", [](const Trace& t) { return t.header.producer; })
      .def_property_readonly("seed", [](const Trace& t) { return t.header.seed; })
      .def_property_readonly("source", [](const Trace& t) { return t.source; })
      .def_property_readonly(
          "segments",
          [](const Trace& t) {
            py::list out;
            for (const auto& s : t.segments)
              out.append(py::make_tuple(s.begin, s.end, s.layer, s.precision.label()));
            return out;
          },
          "(begin, end, layer or '', precision label) per segment")
      .def_property_readonly(
          "metrics",
          [](const Trace& t) {
            py::list out;
            for (const auto& e : t.metrics) {
              py::dict d;
              d["epoch"] = e.epoch;
              d["train_loss"] = e.train_loss;
              d["train_accuracy"] = e.train_accuracy;
              d["test_accuracy"] = e.test_accuracy;
              d["wall_s"] = e.wall_s;
              d["loss_scale"] = e.loss_scale;
              d["skipped_steps"] = e.skipped_steps;
              out.append(d);
            }
            return out;
          },
          "per-epoch metrics (trained traces; empty for synthesized ones)")
      .def(
          "save", [](const Trace& t, const std::string& path) { write_trace(path, t); },
          py::arg("path"), "Writes the trace (gzip when the path ends in .gz), whole or not at all")
      .def(
          "graph", [](const Trace& t) { return trace_graph(t); },
          "The graph the trace was recorded on")
      .def("__repr__", [](const Trace& t) {
        return fmt::format("<lpsim.Trace {} / {}, {} epochs, batch {}, {} iterations, {}>",
                           t.header.model, t.header.dataset, t.header.epochs, t.header.batch,
                           t.header.total_iterations, t.header.schedule);
      });

  py::class_<Graph>(m, "Graph", "A layer graph (docs/models.md)")
      .def_property_readonly("name", &Graph::name)
      .def("__len__", &Graph::size)
      .def_property_readonly(
          "layers",
          [](const Graph& g) {
            py::list out;
            for (int i = 0; i < g.size(); ++i) {
              const Layer& l = g.layer(i);
              py::dict d;
              d["name"] = l.name;
              d["kind"] = std::string(layer_kind_name(l.kind));
              d["out_shape"] = l.out_shape.dims;
              d["parameters"] = l.parameters();
              d["w_bits"] = l.w_bits;
              d["a_bits"] = l.a_bits;
              out.append(d);
            }
            return out;
          },
          "one dict per layer: name, kind, out_shape, parameters, w_bits, a_bits")
      .def("stats", &graph_stats, "forward_macs, parameters, training_macs (per sample)")
      .def(
          "to_json", [](const Graph& g) { return graph_to_json(g); },
          "The graph in lpsim's JSON graph format")
      .def("__repr__", [](const Graph& g) {
        return fmt::format("<lpsim.Graph {}, {} layers>", g.name(), g.size());
      });

  py::class_<ArchConfig>(m, "Arch", "A design point (docs/architecture.md)")
      .def_readonly("name", &ArchConfig::name)
      .def_readonly("source", &ArchConfig::source)
      .def_readonly("clock_ghz", &ArchConfig::clock_ghz)
      .def_readonly("node_nm", &ArchConfig::node_nm)
      .def_property_readonly("pe_type", [](const ArchConfig& a) { return a.pe.type; })
      .def_property_readonly("rows", [](const ArchConfig& a) { return a.array.rows; })
      .def_property_readonly("cols", [](const ArchConfig& a) { return a.array.cols; })
      .def_property_readonly(
          "dataflow", [](const ArchConfig& a) { return std::string(dataflow_name(a.dataflow)); })
      .def("to_yaml", &arch_to_yaml, "The design point as an architecture file (every key)")
      .def("__repr__", [](const ArchConfig& a) {
        return fmt::format("<lpsim.Arch {} ({}), {} {}x{} at {} GHz>", a.name, a.source, a.pe.type,
                           a.array.rows, a.array.cols, a.clock_ghz);
      });

  py::class_<CostCache>(m, "CostCache",
                        "Simulated op costs kept across simulate calls (sim/replay.h)")
      .def(py::init<>())
      .def("__len__", &CostCache::size)
      .def("clear", &CostCache::clear);

  m.def("read_trace", &read_trace, py::arg("path"));
  m.def(
      "synthesize",
      [](const std::string& model, const std::string& dataset, std::int64_t epochs,
         std::int64_t batch, std::int64_t iterations, const std::string& schedule) {
        SynthOptions o;
        o.model = model;
        o.dataset = dataset;
        o.epochs = epochs;
        o.batch = batch;
        o.iterations = iterations;
        o.schedule = schedule;
        return synthesize(o);
      },
      py::arg("model"), py::arg("dataset"), py::arg("epochs"), py::arg("batch"),
      py::arg("iterations"), py::arg("schedule"));
  m.def(
      "count_bitops",
      [](const Trace& t, const std::string& count) {
        return bitops_dict(count_bitops(t, trace_graph(t), parse_count_convention(count)));
      },
      py::arg("trace"), py::arg("count"));
  m.def("load_arch", &resolve_arch, py::arg("arch"), py::arg("set"));
  m.def("shipped_archs", &shipped_arch_names);
  m.def(
      "simulate_trace",
      [](const Trace& t, const ArchConfig& a, const std::string& timing, CostCache* cache) {
        return simulate_trace_json(t, a, timing, cache);
      },
      py::arg("trace"), py::arg("arch"), py::arg("timing"), py::arg("cache").none(true));
  m.def("simulate_graph", &simulate_graph_json, py::arg("graph"), py::arg("arch"), py::arg("phase"),
        py::arg("precision"), py::arg("batch"), py::arg("timing"), py::arg("cache").none(true));
  m.def("compare", &compare_json, py::arg("model"), py::arg("dataset"), py::arg("train"),
        py::arg("schedules"), py::arg("archs"), py::arg("epochs"), py::arg("batch"),
        py::arg("iterations"), py::arg("count"), py::arg("timing"), py::arg("bitops_only"),
        py::arg("train_epochs"), py::arg("train_limit"), py::arg("test_limit"), py::arg("seed"),
        py::arg("threads"), py::arg("data_dir"));
  m.def("explore", &explore_json, py::arg("space"), py::arg("traces"), py::arg("output"),
        py::arg("jobs"), py::arg("samples"), py::arg("sampling"), py::arg("seed"),
        py::arg("resume"), py::arg("report"), py::arg("timing"));
  m.def("read_graph_file", &read_graph_file, py::arg("path"));
  m.def("read_topology_csv", &read_topology_csv, py::arg("path"));
  // A zoo name or a graph file (models/model_source.h), as the command line takes.
  m.def(
      "make_model",
      [](const std::string& name, const std::string& dataset) {
        return load_model(name, dataset, false).graph;
      },
      py::arg("name"), py::arg("dataset"));
  m.def("zoo", []() {
    py::list out;
    for (const auto& e : zoo()) {
      py::dict d;
      d["name"] = e.name;
      d["dataset"] = e.dataset;
      d["description"] = e.description;
      out.append(d);
    }
    return out;
  });
}
