// A small helper that builds zoo networks layer by layer with readable names.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/graph.h"

namespace lpsim::impl {

class Builder {
 public:
  explicit Builder(std::string graph_name) : g_(std::move(graph_name)) {}

  int input(const std::string& name, std::vector<std::int64_t> dims);
  int conv(const std::string& name, int in, std::int64_t out_channels, std::int64_t kernel,
           std::int64_t stride, std::int64_t padding, std::int64_t groups = 1, bool bias = false);
  int linear(const std::string& name, int in, std::int64_t out_features, bool bias = true);
  int bn(const std::string& name, int in);
  int act(const std::string& name, int in, const std::string& function = "relu");
  int max_pool(const std::string& name, int in, std::int64_t kernel, std::int64_t stride,
               std::int64_t padding = 0);
  int global_avg_pool(const std::string& name, int in);
  int add(const std::string& name, std::vector<int> ins);
  int flatten(const std::string& name, int in);
  int lstm(const std::string& name, int in, std::int64_t hidden);
  int attention(const std::string& name, int q, int k, int v, std::int64_t heads);
  int embedding(const std::string& name, int in, std::int64_t vocab, std::int64_t dim);
  int layer_norm(const std::string& name, int in);
  int softmax(const std::string& name, int in);

  // conv -> batch norm (-> activation unless `function` is empty).
  int conv_bn(const std::string& prefix, int in, std::int64_t out_channels, std::int64_t kernel,
              std::int64_t stride, std::int64_t padding, const std::string& function,
              std::int64_t groups = 1);

  Graph finish();  // infers shapes

 private:
  Graph g_;
};

}  // namespace lpsim::impl
