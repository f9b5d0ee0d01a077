// Layer kinds, shapes and parameter counts.
#include "models/layer.h"

#include <array>
#include <utility>

#include "core/error.h"

namespace lpsim {

namespace {

constexpr std::array<std::pair<LayerKind, std::string_view>, 20> kKindNames{{
    {LayerKind::Input, "input"},
    {LayerKind::Conv2d, "conv2d"},
    {LayerKind::Linear, "linear"},
    {LayerKind::BatchNorm, "batchnorm"},
    {LayerKind::Activation, "activation"},
    {LayerKind::Pool, "pool"},
    {LayerKind::Add, "add"},
    {LayerKind::Concat, "concat"},
    {LayerKind::Flatten, "flatten"},
    {LayerKind::LstmCell, "lstm"},
    {LayerKind::Attention, "attention"},
    {LayerKind::Embedding, "embedding"},
    {LayerKind::LayerNorm, "layernorm"},
    {LayerKind::Softmax, "softmax"},
    {LayerKind::MatMul, "matmul"},
    {LayerKind::Elementwise, "elementwise"},
    {LayerKind::Reduce, "reduce"},
    {LayerKind::Reshape, "reshape"},
    {LayerKind::Transpose, "transpose"},
    {LayerKind::Copy, "copy"},
}};

// The shape a parameter count needs; a layer whose shapes were never inferred
// is a programming error, not bad input.
const Shape& first_input(const Layer& l) {
  if (l.in_shapes.empty() || l.in_shapes[0].dims.empty()) {
    throw InternalError("layer '" + l.name + "': parameters() called before infer_shapes()");
  }
  return l.in_shapes[0];
}

}  // namespace

std::string_view layer_kind_name(LayerKind kind) {
  for (const auto& [k, name] : kKindNames) {
    if (k == kind) return name;
  }
  throw InternalError("layer_kind_name: unknown LayerKind " +
                      std::to_string(static_cast<int>(kind)));
}

bool layer_kind_from_name(std::string_view name, LayerKind& kind) {
  for (const auto& [k, n] : kKindNames) {
    if (n == name) {
      kind = k;
      return true;
    }
  }
  return false;
}

std::string layer_kind_names() {
  std::string out;
  for (const auto& [k, name] : kKindNames) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

std::string_view activation_functions() {
  return "relu, relu6, sigmoid, tanh, clip, leaky_relu, hard_sigmoid, hard_swish, erf, sqrt, "
         "square, exp, log, neg, abs, reciprocal, softmax, log_softmax, dropout";
}
std::string_view elementwise_functions() { return "add, sub, mul, div, pow, max, min"; }
std::string_view reduce_functions() { return "mean, sum, max"; }

bool is_function_of(std::string_view name, std::string_view list) {
  while (!list.empty()) {
    const auto comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    if (item == name) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
    while (!list.empty() && list.front() == ' ') list.remove_prefix(1);
  }
  return false;
}

std::string to_string(const Shape& shape) {
  std::string out = "[";
  for (std::size_t i = 0; i < shape.dims.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(shape.dims[i]);
  }
  return out + "]";
}

Layer make_layer(std::string name, LayerKind kind) {
  Layer l;
  l.name = std::move(name);
  l.kind = kind;
  return l;
}

std::int64_t Layer::parameters() const {
  switch (kind) {
    case LayerKind::Conv2d: {
      const std::int64_t cin = first_input(*this).dims[0];
      return out_features * (cin / groups) * kernel_h * kernel_w + (bias ? out_features : 0);
    }
    case LayerKind::Linear: {
      const std::int64_t fin = first_input(*this).dims.back();
      return fin * out_features + (bias ? out_features : 0);
    }
    case LayerKind::BatchNorm:  // affine scale and shift per channel (dimension 0)
      return 2 * first_input(*this).dims[0];
    case LayerKind::LayerNorm:  // affine scale and shift per feature (last dimension)
      return 2 * first_input(*this).dims.back();
    case LayerKind::LstmCell: {
      // Four gates, input and recurrent weights; two bias vectors as PyTorch's nn.LSTM.
      const std::int64_t fin = first_input(*this).dims.back();
      const std::int64_t h = out_features;
      return 4 * h * (fin + h) + (bias ? 8 * h : 0);
    }
    case LayerKind::Embedding:
      return vocab * out_features;
    case LayerKind::Elementwise: {
      if (!learnable) return 0;
      std::int64_t n = 1;
      for (auto d : operand) n *= d;
      return n;
    }
    case LayerKind::MatMul:
    case LayerKind::Reduce:
    case LayerKind::Reshape:
    case LayerKind::Transpose:
    case LayerKind::Copy:
    case LayerKind::Input:
    case LayerKind::Activation:
    case LayerKind::Pool:
    case LayerKind::Add:
    case LayerKind::Concat:
    case LayerKind::Flatten:
    case LayerKind::Attention:
    case LayerKind::Softmax:
      return 0;
  }
  throw InternalError("Layer::parameters: unknown LayerKind");
}

Layer::Window Layer::window() const {
  Window w{};
  w.kernel_h = kernel_h;
  w.kernel_w = kernel_w;
  w.stride_h = stride;
  w.stride_w = stride_w < 0 ? stride : stride_w;
  w.pad_top = padding;
  w.pad_left = padding_w < 0 ? padding : padding_w;
  w.pad_bottom = padding_bottom < 0 ? padding : padding_bottom;
  w.pad_right = padding_right < 0 ? w.pad_left : padding_right;
  w.dilation_h = dilation_h;
  w.dilation_w = dilation_w;
  return w;
}

}  // namespace lpsim
