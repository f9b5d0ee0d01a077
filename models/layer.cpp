// Layer kinds, shapes and parameter counts.
#include "models/layer.h"

#include <array>
#include <utility>

#include "core/error.h"

namespace lpsim {

namespace {

constexpr std::array<std::pair<LayerKind, std::string_view>, 14> kKindNames{{
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

}  // namespace lpsim
