// The layer graph: construction, traversal and shape inference.
#include "models/graph.h"

#include <algorithm>
#include <boost/graph/topological_sort.hpp>
#include <iterator>

#include "core/error.h"

namespace lpsim {

namespace {

[[noreturn]] void fail(const Layer& l, const std::string& what) {
  throw InputError("layer '" + l.name + "': " + what);
}

void require(const Layer& l, bool ok, const std::string& what) {
  if (!ok) fail(l, what);
}

void require_positive(const Layer& l, std::int64_t value, const char* field) {
  require(l, value >= 1, std::string(field) + " = " + std::to_string(value) + ": must be >= 1");
}

void require_inputs(const Layer& l, std::size_t min, std::size_t max) {
  const std::size_t n = l.in_shapes.size();
  if (n >= min && n <= max) return;
  std::string want = min == max        ? std::to_string(min)
                     : max == SIZE_MAX ? "at least " + std::to_string(min)
                                       : std::to_string(min) + " or " + std::to_string(max);
  fail(l, "has " + std::to_string(n) + " inputs; needs " + want);
}

void require_rank(const Layer& l, const Shape& s, std::size_t rank, const char* what) {
  require(l, s.dims.size() == rank, "input shape " + to_string(s) + " is not " + what);
}

// Output extent of a sliding window, PyTorch's floor convention.
std::int64_t window_out(const Layer& l, std::int64_t in, std::int64_t kernel, const char* axis) {
  const std::int64_t span = in + 2 * l.padding - kernel;
  require(l, span >= 0,
          std::string(axis) + " " + std::to_string(in) + " + 2*padding " +
              std::to_string(l.padding) + " is smaller than the kernel " + std::to_string(kernel));
  return span / l.stride + 1;
}

bool known_activation(const std::string& name) {
  return name == "relu" || name == "relu6" || name == "sigmoid" || name == "tanh";
}

Shape infer_one(const Layer& l) {
  const auto& in = l.in_shapes;
  switch (l.kind) {
    case LayerKind::Input: {
      require_inputs(l, 0, 0);
      require(l, !l.out_shape.dims.empty(), "has no shape");
      for (auto d : l.out_shape.dims) {
        require(l, d >= 1, "shape " + to_string(l.out_shape) + " has a dimension < 1");
      }
      return l.out_shape;
    }
    case LayerKind::Conv2d: {
      require_inputs(l, 1, 1);
      require_rank(l, in[0], 3, "[C,H,W]");
      require_positive(l, l.out_features, "out_channels");
      require_positive(l, l.kernel_h, "kernel_h");
      require_positive(l, l.kernel_w, "kernel_w");
      require_positive(l, l.stride, "stride");
      require_positive(l, l.groups, "groups");
      require(l, l.padding >= 0, "padding = " + std::to_string(l.padding) + ": must be >= 0");
      const std::int64_t c = in[0].dims[0];
      require(l, c % l.groups == 0 && l.out_features % l.groups == 0,
              "groups = " + std::to_string(l.groups) + " does not divide input channels " +
                  std::to_string(c) + " and output channels " + std::to_string(l.out_features));
      return Shape{{l.out_features, window_out(l, in[0].dims[1], l.kernel_h, "height"),
                    window_out(l, in[0].dims[2], l.kernel_w, "width")}};
    }
    case LayerKind::Linear: {
      require_inputs(l, 1, 1);
      require(l, !in[0].dims.empty(), "input has no dimensions");
      require_positive(l, l.out_features, "out_features");
      Shape out = in[0];
      out.dims.back() = l.out_features;
      return out;
    }
    case LayerKind::BatchNorm:
    case LayerKind::Activation:
    case LayerKind::LayerNorm:
    case LayerKind::Softmax:
      require_inputs(l, 1, 1);
      require(l, !in[0].dims.empty(), "input has no dimensions");
      if (l.kind == LayerKind::Activation) {
        require(l, known_activation(l.activation),
                "activation '" + l.activation + "' unknown; known: relu, relu6, sigmoid, tanh");
      }
      return in[0];
    case LayerKind::Pool: {
      require_inputs(l, 1, 1);
      require_rank(l, in[0], 3, "[C,H,W]");
      if (l.pool_global) return Shape{{in[0].dims[0], 1, 1}};
      require_positive(l, l.kernel_h, "kernel_h");
      require_positive(l, l.kernel_w, "kernel_w");
      require_positive(l, l.stride, "stride");
      require(l, l.padding >= 0, "padding = " + std::to_string(l.padding) + ": must be >= 0");
      return Shape{{in[0].dims[0], window_out(l, in[0].dims[1], l.kernel_h, "height"),
                    window_out(l, in[0].dims[2], l.kernel_w, "width")}};
    }
    case LayerKind::Add: {
      require_inputs(l, 2, SIZE_MAX);
      for (std::size_t i = 1; i < in.size(); ++i) {
        require(l, in[i] == in[0],
                "input shapes " + to_string(in[0]) + " and " + to_string(in[i]) + " differ");
      }
      return in[0];
    }
    case LayerKind::Concat: {
      require_inputs(l, 1, SIZE_MAX);
      Shape out = in[0];
      require(l, !out.dims.empty(), "input has no dimensions");
      for (std::size_t i = 1; i < in.size(); ++i) {
        const bool same_rest =
            in[i].dims.size() == out.dims.size() &&
            std::equal(in[i].dims.begin() + 1, in[i].dims.end(), in[0].dims.begin() + 1);
        require(l, same_rest,
                "input shapes " + to_string(in[0]) + " and " + to_string(in[i]) +
                    " differ beyond dimension 0");
        out.dims[0] += in[i].dims[0];
      }
      return out;
    }
    case LayerKind::Flatten:
      require_inputs(l, 1, 1);
      return Shape{{in[0].elements()}};
    case LayerKind::LstmCell:
      require_inputs(l, 1, 1);
      require_rank(l, in[0], 2, "a sequence [T,F]");
      require_positive(l, l.out_features, "hidden");
      return Shape{{in[0].dims[0], l.out_features}};
    case LayerKind::Attention: {
      // One input: self-attention of a [T,D] tensor on itself; three: Q, K, V.
      require_inputs(l, 1, 3);
      require(l, in.size() != 2, "has 2 inputs; needs 1 (Q=K=V) or 3 (Q, K, V)");
      require_rank(l, in[0], 2, "a sequence [T,D]");
      require_positive(l, l.heads, "heads");
      for (std::size_t i = 1; i < in.size(); ++i) {
        require(l, in[i] == in[0],
                "input shapes " + to_string(in[0]) + " and " + to_string(in[i]) + " differ");
      }
      require(l, in[0].dims[1] % l.heads == 0,
              "heads = " + std::to_string(l.heads) + " does not divide the width " +
                  std::to_string(in[0].dims[1]));
      return in[0];
    }
    case LayerKind::Embedding:
      require_inputs(l, 1, 1);
      require_rank(l, in[0], 1, "a token sequence [T]");
      require_positive(l, l.vocab, "vocab");
      require_positive(l, l.out_features, "dim");
      return Shape{{in[0].dims[0], l.out_features}};
  }
  throw InternalError("infer_shapes: unknown LayerKind");
}

}  // namespace

int Graph::add(Layer layer, const std::vector<int>& inputs) {
  if (layer.name.empty()) throw InputError("a layer of graph '" + name_ + "' has no name");
  if (find(layer.name) >= 0) {
    throw InputError("layer '" + layer.name + "': the name is used twice in graph '" + name_ + "'");
  }
  const int index = size();
  for (int in : inputs) {
    if (in < 0 || in >= index) {
      throw InputError("layer '" + layer.name + "': input index " + std::to_string(in) +
                       " is not an earlier layer (0.." + std::to_string(index - 1) + ")");
    }
  }
  if (layer.kind == LayerKind::Input && !inputs.empty()) {
    throw InputError("layer '" + layer.name + "' (input): an input layer takes no inputs");
  }
  const auto v = boost::add_vertex(std::move(layer), g_);
  for (int in : inputs) boost::add_edge(static_cast<std::size_t>(in), v, g_);
  inputs_.push_back(inputs);
  return index;
}

std::vector<int> Graph::inputs(int i) const { return inputs_.at(static_cast<std::size_t>(i)); }

std::vector<int> Graph::consumers(int i) const {
  std::vector<int> out;
  for (auto [e, end] = boost::out_edges(static_cast<std::size_t>(i), g_); e != end; ++e) {
    const int t = static_cast<int>(boost::target(*e, g_));
    // A layer that takes the same tensor twice consumes it once per use.
    out.push_back(t);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<int> Graph::topological_order() const {
  std::vector<std::size_t> reversed;
  boost::topological_sort(g_, std::back_inserter(reversed));
  std::vector<int> order;
  order.reserve(reversed.size());
  for (auto it = reversed.rbegin(); it != reversed.rend(); ++it)
    order.push_back(static_cast<int>(*it));
  return order;
}

int Graph::find(const std::string& layer_name) const {
  for (int i = 0; i < size(); ++i) {
    if (layer(i).name == layer_name) return i;
  }
  return -1;
}

void Graph::infer_shapes() {
  for (int i : topological_order()) {
    Layer& l = g_[static_cast<std::size_t>(i)];
    l.in_shapes.clear();
    for (int in : inputs_[static_cast<std::size_t>(i)]) l.in_shapes.push_back(layer(in).out_shape);
    l.out_shape = infer_one(l);
    // 2^36 elements per sample: times a batch of <= 2^24 stays inside int64.
    std::int64_t n = 1;
    for (auto d : l.out_shape.dims)
      if (d < 1 || __builtin_mul_overflow(n, d, &n) || n > (std::int64_t{1} << 36))
        fail(l, "output shape " + to_string(l.out_shape) +
                    ": must have 1..2^36 elements (every dimension >= 1)");
  }
}

}  // namespace lpsim
