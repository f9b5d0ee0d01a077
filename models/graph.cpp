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

// Output extent of a sliding window, PyTorch's floor convention: `pad` is the
// sum of both sides' padding, taps `dilation` apart.
std::int64_t window_out(const Layer& l, std::int64_t in, std::int64_t kernel, std::int64_t stride,
                        std::int64_t pad, std::int64_t dilation, const char* axis) {
  const std::int64_t extent = (kernel - 1) * dilation + 1;
  const std::int64_t span = in + pad - extent;
  require(l, span >= 0,
          std::string(axis) + " " + std::to_string(in) + " + padding " + std::to_string(pad) +
              " is smaller than the kernel " +
              (dilation == 1 ? std::to_string(kernel)
                             : std::to_string(kernel) + " dilated " + std::to_string(dilation) +
                                   " (" + std::to_string(extent) + ")"));
  return span / stride + 1;
}

// The [C,H,W] -> [C',OH,OW] window of a conv2d or pool layer, checked.
Shape window_shape(const Layer& l, const Shape& in, std::int64_t channels) {
  const Layer::Window w = l.window();
  require_positive(l, w.kernel_h, "kernel_h");
  require_positive(l, w.kernel_w, "kernel_w");
  require_positive(l, w.stride_h, "stride");
  require_positive(l, w.stride_w, "stride_w");
  require_positive(l, w.dilation_h, "dilation_h");
  require_positive(l, w.dilation_w, "dilation_w");
  for (auto p : {w.pad_top, w.pad_left, w.pad_bottom, w.pad_right})
    require(l, p >= 0, "padding = " + std::to_string(p) + ": must be >= 0");
  return Shape{{channels,
                window_out(l, in.dims[1], w.kernel_h, w.stride_h, w.pad_top + w.pad_bottom,
                           w.dilation_h, "height"),
                window_out(l, in.dims[2], w.kernel_w, w.stride_w, w.pad_left + w.pad_right,
                           w.dilation_w, "width")}};
}

// Numpy broadcasting of two shapes (aligned at the last dimension).
Shape broadcast(const Layer& l, const Shape& a, const Shape& b) {
  const std::size_t n = std::max(a.dims.size(), b.dims.size());
  Shape out;
  out.dims.assign(n, 1);
  for (std::size_t i = 0; i < n; ++i) {
    const std::int64_t x = i < n - a.dims.size() ? 1 : a.dims[i - (n - a.dims.size())];
    const std::int64_t y = i < n - b.dims.size() ? 1 : b.dims[i - (n - b.dims.size())];
    require(l, x == y || x == 1 || y == 1,
            "shapes " + to_string(a) + " and " + to_string(b) + " do not broadcast");
    out.dims[i] = x == 1 ? y : x;
  }
  return out;
}

// An axis in 0..rank-1, checked.
std::size_t axis_in(const Layer& l, std::int64_t axis, std::size_t rank, const char* what) {
  require(l, axis >= 0 && static_cast<std::size_t>(axis) < rank,
          std::string(what) + " " + std::to_string(axis) + " is not an axis of a rank-" +
              std::to_string(rank) + " input");
  return static_cast<std::size_t>(axis);
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
      require_positive(l, l.groups, "groups");
      const std::int64_t c = in[0].dims[0];
      require(l, c % l.groups == 0 && l.out_features % l.groups == 0,
              "groups = " + std::to_string(l.groups) + " does not divide input channels " +
                  std::to_string(c) + " and output channels " + std::to_string(l.out_features));
      return window_shape(l, in[0], l.out_features);
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
        require(l, is_function_of(l.activation, activation_functions()),
                "activation '" + l.activation + "' unknown; known: " +
                    std::string(activation_functions()));
      }
      return in[0];
    case LayerKind::Pool: {
      require_inputs(l, 1, 1);
      require_rank(l, in[0], 3, "[C,H,W]");
      if (l.pool_global) return Shape{{in[0].dims[0], 1, 1}};
      return window_shape(l, in[0], in[0].dims[0]);
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
      const std::size_t a = axis_in(l, l.axis, out.dims.size(), "axis");
      for (std::size_t i = 1; i < in.size(); ++i) {
        bool same_rest = in[i].dims.size() == out.dims.size();
        for (std::size_t d = 0; same_rest && d < out.dims.size(); ++d)
          same_rest = d == a || in[i].dims[d] == in[0].dims[d];
        require(l, same_rest,
                "input shapes " + to_string(in[0]) + " and " + to_string(in[i]) +
                    " differ beyond dimension " + std::to_string(a));
        out.dims[a] += in[i].dims[a];
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
    case LayerKind::MatMul: {
      require_inputs(l, 2, 2);
      const Shape& a = in[0];
      const Shape& b = in[1];
      require(l, a.dims.size() >= 2 && b.dims.size() >= 2,
              "input shapes " + to_string(a) + " and " + to_string(b) +
                  " are not matrices [..,M,K] and [..,K,N]");
      const std::int64_t m = a.dims[a.dims.size() - 2], k = a.dims.back();
      const std::int64_t k2 = b.dims[b.dims.size() - 2], n = b.dims.back();
      require(l, k == k2,
              "input shapes " + to_string(a) + " and " + to_string(b) +
                  ": the inner dimensions differ (" + std::to_string(k) + ", " +
                  std::to_string(k2) + ")");
      Shape out = broadcast(l, Shape{{a.dims.begin(), a.dims.end() - 2}},
                            Shape{{b.dims.begin(), b.dims.end() - 2}});
      out.dims.push_back(m);
      out.dims.push_back(n);
      return out;
    }
    case LayerKind::Elementwise: {
      require_inputs(l, 1, 2);
      require(l, is_function_of(l.activation, elementwise_functions()),
              "function '" + l.activation + "' unknown; known: " +
                  std::string(elementwise_functions()));
      require(l, !in[0].dims.empty(), "input has no dimensions");
      if (in.size() == 2) {
        require(l, l.operand.empty() && !l.learnable,
                "has 2 inputs and an operand; an operand goes with 1 input");
        return broadcast(l, in[0], in[1]);
      }
      for (auto d : l.operand) require_positive(l, d, "operand dimension");
      return broadcast(l, in[0], Shape{l.operand});
    }
    case LayerKind::Reduce: {
      require_inputs(l, 1, 1);
      require(l, is_function_of(l.activation, reduce_functions()),
              "function '" + l.activation + "' unknown; known: " +
                  std::string(reduce_functions()));
      require(l, !l.axes.empty(), "axes: give at least one");
      Shape out = in[0];
      std::vector<bool> reduced(out.dims.size(), false);
      for (auto a : l.axes) {
        const std::size_t i = axis_in(l, a, out.dims.size(), "axes: ");
        require(l, !reduced[i], "axes: " + std::to_string(a) + " given twice");
        reduced[i] = true;
      }
      Shape kept;
      for (std::size_t i = 0; i < out.dims.size(); ++i) {
        if (!reduced[i]) kept.dims.push_back(out.dims[i]);
        else if (l.keepdims) kept.dims.push_back(1);
      }
      if (kept.dims.empty()) kept.dims.push_back(1);  // a whole-sample reduction: one value
      return kept;
    }
    case LayerKind::Reshape:
    case LayerKind::Copy: {
      require_inputs(l, 1, 1);
      require(l, !l.target.empty(), "target: give the output shape");
      Shape out{l.target};
      for (auto d : out.dims) require_positive(l, d, "target dimension");
      if (l.kind == LayerKind::Reshape)
        require(l, out.elements() == in[0].elements(),
                "target " + to_string(out) + " has " + std::to_string(out.elements()) +
                    " elements; the input " + to_string(in[0]) + " has " +
                    std::to_string(in[0].elements()));
      return out;
    }
    case LayerKind::Transpose: {
      require_inputs(l, 1, 1);
      const std::size_t rank = in[0].dims.size();
      require(l, l.perm.size() == rank,
              "perm has " + std::to_string(l.perm.size()) + " axes; the input " +
                  to_string(in[0]) + " has " + std::to_string(rank));
      std::vector<bool> seen(rank, false);
      Shape out;
      for (auto p : l.perm) {
        const std::size_t i = axis_in(l, p, rank, "perm: axis");
        require(l, !seen[i], "perm: axis " + std::to_string(p) + " given twice");
        seen[i] = true;
        out.dims.push_back(in[0].dims[i]);
      }
      return out;
    }
  }
  throw InternalError("infer_shapes: unknown LayerKind");
}

}  // namespace

Shape infer_layer_shape(const Layer& layer) { return infer_one(layer); }

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
