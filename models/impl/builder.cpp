// Zoo network builder: thin wrappers over Graph::add.
#include "models/impl/builder.h"

#include <utility>

namespace lpsim::impl {

int Builder::input(const std::string& name, std::vector<std::int64_t> dims) {
  Layer l = make_layer(name, LayerKind::Input);
  l.out_shape.dims = std::move(dims);
  return g_.add(std::move(l));
}

int Builder::conv(const std::string& name, int in, std::int64_t out_channels, std::int64_t kernel,
                  std::int64_t stride, std::int64_t padding, std::int64_t groups, bool bias) {
  Layer l = make_layer(name, LayerKind::Conv2d);
  l.out_features = out_channels;
  l.kernel_h = l.kernel_w = kernel;
  l.stride = stride;
  l.padding = padding;
  l.groups = groups;
  l.bias = bias;
  return g_.add(std::move(l), {in});
}

int Builder::linear(const std::string& name, int in, std::int64_t out_features, bool bias) {
  Layer l = make_layer(name, LayerKind::Linear);
  l.out_features = out_features;
  l.bias = bias;
  return g_.add(std::move(l), {in});
}

int Builder::bn(const std::string& name, int in) {
  return g_.add(make_layer(name, LayerKind::BatchNorm), {in});
}

int Builder::act(const std::string& name, int in, const std::string& function) {
  Layer l = make_layer(name, LayerKind::Activation);
  l.activation = function;
  return g_.add(std::move(l), {in});
}

int Builder::max_pool(const std::string& name, int in, std::int64_t kernel, std::int64_t stride,
                      std::int64_t padding) {
  Layer l = make_layer(name, LayerKind::Pool);
  l.pool_max = true;
  l.kernel_h = l.kernel_w = kernel;
  l.stride = stride;
  l.padding = padding;
  return g_.add(std::move(l), {in});
}

int Builder::global_avg_pool(const std::string& name, int in) {
  Layer l = make_layer(name, LayerKind::Pool);
  l.pool_max = false;
  l.pool_global = true;
  return g_.add(std::move(l), {in});
}

int Builder::add(const std::string& name, std::vector<int> ins) {
  return g_.add(make_layer(name, LayerKind::Add), ins);
}

int Builder::flatten(const std::string& name, int in) {
  return g_.add(make_layer(name, LayerKind::Flatten), {in});
}

int Builder::lstm(const std::string& name, int in, std::int64_t hidden) {
  Layer l = make_layer(name, LayerKind::LstmCell);
  l.out_features = hidden;
  l.bias = true;
  return g_.add(std::move(l), {in});
}

int Builder::attention(const std::string& name, int q, int k, int v, std::int64_t heads) {
  Layer l = make_layer(name, LayerKind::Attention);
  l.heads = heads;
  return g_.add(std::move(l), {q, k, v});
}

int Builder::embedding(const std::string& name, int in, std::int64_t vocab, std::int64_t dim) {
  Layer l = make_layer(name, LayerKind::Embedding);
  l.vocab = vocab;
  l.out_features = dim;
  return g_.add(std::move(l), {in});
}

int Builder::layer_norm(const std::string& name, int in) {
  return g_.add(make_layer(name, LayerKind::LayerNorm), {in});
}

int Builder::softmax(const std::string& name, int in) {
  return g_.add(make_layer(name, LayerKind::Softmax), {in});
}

int Builder::conv_bn(const std::string& prefix, int in, std::int64_t out_channels,
                     std::int64_t kernel, std::int64_t stride, std::int64_t padding,
                     const std::string& function, std::int64_t groups) {
  int x = conv(prefix + ".conv", in, out_channels, kernel, stride, padding, groups);
  x = bn(prefix + ".bn", x);
  if (!function.empty()) x = act(prefix + "." + function, x, function);
  return x;
}

Graph Builder::finish() {
  g_.infer_shapes();
  return std::move(g_);
}

}  // namespace lpsim::impl
