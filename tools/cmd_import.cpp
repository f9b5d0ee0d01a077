// `lpsim import`: an ONNX model -> an lpsim graph file (models/onnx/onnx_import.h).
#include <fmt/format.h>

#include <cstdio>
#include <iostream>

#include "core/error.h"
#include "models/graph_io.h"
#include "models/training_step.h"
#include "tools/cli_common.h"
#include "tools/commands.h"
#ifdef LPSIM_WITH_ONNX
#include "models/onnx/onnx_import.h"
#endif

namespace lpsim::cli {

Action add_import(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "import",
      "Convert an ONNX model into an lpsim graph file (YAML or JSON by the output's extension), "
      "which synth, compare, simulate and explore then take as --model.\n"
      "Examples:\n  lpsim import resnet50.onnx -o resnet50.yaml\n"
      "  lpsim import encoder.onnx --input-shape 1x128 -o encoder.json --strict");
  auto path = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto shapes = std::make_shared<std::vector<std::string>>();
  auto batch = std::make_shared<std::int64_t>(1);
  auto strict = std::make_shared<bool>(false);
  auto no_loss = std::make_shared<bool>(false);
  auto json = std::make_shared<bool>(false);
  auto quiet = std::make_shared<bool>(false);
  sub->add_option("model", *path, "ONNX model file (.onnx)")->required();
  sub->add_option("-o,--output", *out, "Graph file to write: .yaml / .yml or .json")->required();
  sub->add_option("--input-shape", *shapes,
                  "Shape of the data input, batch first, e.g. 1x3x224x224 (NAME=1x3x224x224 "
                  "for one of several inputs); needed where the model has none or dynamic ones");
  sub->add_option("--batch", *batch,
                  "Value of a symbolic batch dimension; the graph is per sample either way")
      ->default_val(1);
  sub->add_flag("--strict", *strict, "An op lpsim cannot cost is an error (exit 2), not a warning");
  sub->add_flag("--no-loss", *no_loss,
                "Add no softmax + cross-entropy loss layer after the output");
  sub->add_flag("--json", *json, "Print a JSON summary");
  sub->add_flag("-q,--quiet", *quiet, "Print nothing on success (warnings still go to stderr)");
  return [=]() -> int {
#ifndef LPSIM_WITH_ONNX
    (void)batch;
    throw InputError(
        "import: this lpsim was built without ONNX (install libonnx-dev and libprotobuf-dev, "
        "then rebuild)");
#else
    OnnxImportOptions options;
    for (const auto& s : *shapes) options.input_shapes.push_back(parse_input_shape(s));
    options.batch = *batch;
    options.strict = *strict;
    options.loss = !*no_loss;
    OnnxImport r = import_onnx_file(*path, options);
    const std::string warning = r.uncosted_text();
    if (!warning.empty())
      std::fprintf(stderr, "lpsim: warning: %s: %s\n", path->c_str(), warning.c_str());
    write_graph_file(*out, r.graph);
    const NetworkStats s = network_stats(r.graph);
    std::int64_t layers = 0;
    for (int i = 0; i < r.graph.size(); ++i) layers += r.graph.layer(i).kind != LayerKind::Input;
    std::ostream& info = info_stream(*out);
    if (*json) {
      nlohmann::json uncosted = nlohmann::json::object();
      for (const auto& [op, count] : r.uncosted) uncosted[op] = count;
      print_json({{"output", *out},
                  {"name", r.graph.name()},
                  {"nodes", r.nodes},
                  {"opset", r.opset},
                  {"layers", layers},
                  {"forward_macs", s.forward_macs},
                  {"parameters", s.parameters},
                  {"uncosted", uncosted},
                  {"notes", r.notes}},
                 info);
    } else if (!*quiet) {
      info << fmt::format(
          "wrote {}: {} layers from {} ONNX nodes (opset {}); forward {} MACs and {} parameters "
          "per sample\n",
          *out, layers, r.nodes, r.opset, s.forward_macs, s.parameters);
      for (const auto& note : r.notes) info << "note: " << note << "\n";
    }
    return 0;
#endif
  };
}

}  // namespace lpsim::cli
