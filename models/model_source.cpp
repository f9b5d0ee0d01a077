// Zoo name or graph file: the one place that tells them apart.
#include "models/model_source.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "core/error.h"
#include "models/graph_io.h"
#include "models/zoo.h"

namespace lpsim {

namespace {

std::string lower_extension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext;
}

std::string shape_text(const std::vector<std::int64_t>& dims) { return to_string(Shape{dims}); }

// The first dataset whose sample shape is the graph's one input's shape.
std::string dataset_for(const Graph& g, const std::string& path) {
  std::vector<int> inputs;
  for (int i = 0; i < g.size(); ++i)
    if (g.layer(i).kind == LayerKind::Input && !g.layer(i).input_grad) inputs.push_back(i);
  std::string shapes;
  for (const auto& name : dataset_names()) {
    const DatasetInfo& d = dataset_info(name);
    shapes += (shapes.empty() ? "" : ", ") + name + " " + shape_text(d.input_shape);
    if (inputs.size() == 1 && g.layer(inputs[0]).out_shape.dims == d.input_shape) return name;
  }
  const std::string what = inputs.size() == 1
                               ? "its input shape " + to_string(g.layer(inputs[0]).out_shape)
                               : "it has " + std::to_string(inputs.size()) + " inputs, and";
  throw InputError(path + ": " + what + " is the sample shape of no dataset; name the dataset (" +
                   shapes + ")");
}

}  // namespace

bool is_graph_file(const std::string& model) {
  const std::string ext = lower_extension(model);
  return ext == ".json" || ext == ".yaml" || ext == ".yml";
}

ModelSource load_model(const std::string& model, const std::string& dataset, bool need_dataset) {
  ModelSource s;
  if (lower_extension(model) == ".onnx")
    throw InputError(model + ": an ONNX model; convert it to a graph file first: lpsim import " +
                     model + " -o " + std::filesystem::path(model).stem().string() + ".yaml");
  if (!is_graph_file(model)) {
    s.graph = make_model(model, dataset);  // its errors as before (golden output)
    s.dataset = dataset;
    if (s.dataset.empty()) {
      for (const ZooEntry& e : zoo())
        if (e.name == model) s.dataset = e.dataset;
    }
    return s;
  }
  s.graph = read_graph_file(model);
  s.from_file = true;
  if (dataset.empty()) {
    try {
      s.dataset = dataset_for(s.graph, model);
    } catch (const InputError&) {
      if (need_dataset) throw;
    }
  } else {
    (void)dataset_info(dataset);  // InputError for an unknown name
    s.dataset = dataset;
  }
  return s;
}

}  // namespace lpsim
