// A network as a layer graph (Boost.Graph): vertices are layers with their
// shapes, edges are data dependences (including residual adds and concats).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <boost/graph/adjacency_list.hpp>

#include "models/layer.h"

namespace lpsim {

// The output shape of `layer` from its in_shapes (as Graph::infer_shapes
// computes it for each layer); InputError naming the layer on a mismatch.
Shape infer_layer_shape(const Layer& layer);

class Graph {
 public:
  using BoostGraph =
      boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS, Layer>;

  explicit Graph(std::string name = "") : name_(std::move(name)) {}

  // Adds a layer fed by `inputs` (indices of earlier layers, in order) and
  // returns its index. Names must be unique (InputError otherwise).
  int add(Layer layer, const std::vector<int>& inputs = {});

  // Infers every layer's output shape from the input layers' shapes, in
  // topological order. Throws InputError naming the layer on any mismatch.
  void infer_shapes();

  const std::string& name() const { return name_; }
  int size() const { return static_cast<int>(boost::num_vertices(g_)); }
  const Layer& layer(int i) const { return g_[static_cast<std::size_t>(i)]; }
  std::vector<int> inputs(int i) const;        // in the order given to add()
  std::vector<int> consumers(int i) const;
  std::vector<int> topological_order() const;  // indices, inputs first
  int find(const std::string& layer_name) const;  // -1 if absent
  const BoostGraph& boost_graph() const { return g_; }

 private:
  std::string name_;
  BoostGraph g_;
  std::vector<std::vector<int>> inputs_;  // ordered inputs per vertex
};

}  // namespace lpsim
