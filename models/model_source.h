// A network named wherever lpsim takes a model: a zoo name or a graph file.
#pragma once

#include <string>

#include "models/graph.h"

namespace lpsim {

struct ModelSource {
  Graph graph;             // shapes inferred
  std::string dataset;     // the dataset asked for, or the default one
  bool from_file = false;  // a graph file: traces carry the graph itself (`graph` key)
};

// Whether `model` names a graph file (it ends in .json, .yaml or .yml, any
// case) rather than a zoo model.
bool is_graph_file(const std::string& model);

// The network `model` names: a zoo name (make_model), or the path of a graph
// file (read_graph_file: written by hand, by graph_io or by `lpsim import`).
// `dataset` "" takes the zoo entry's dataset; for a graph file, the first
// dataset whose sample shape is the graph's input shape (InputError naming
// the shapes when none is). A graph file takes any dataset: the dataset only
// sets the samples per epoch of its run. An ONNX file is refused with the
// `lpsim import` command that converts it. With `need_dataset` false a graph
// file that fits no dataset gets dataset "" instead of the error.
ModelSource load_model(const std::string& model, const std::string& dataset = "",
                       bool need_dataset = true);

}  // namespace lpsim
