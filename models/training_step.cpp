// One training step expanded into GEMM and element-wise ops
// (conventions: training_step.h and docs/models.md, "Op expansion").
#include "models/training_step.h"

#include <algorithm>
#include <cmath>

#include <utility>

#include "core/error.h"

namespace lpsim {

namespace {

// Operations per element of the element-wise ops, one place for all of them
// (docs/models.md, table "Element-wise ops").
constexpr std::int64_t kBnFwdOps = 5;      // sum x, x*x, sum x^2, x*s, +t (per-channel s,t)
constexpr std::int64_t kBnGradOps = 5;     // xhat = (x-mean)*r (2), E*xhat, sum, sum E
constexpr std::int64_t kBnBwdDataOps = 6;  // xhat (2), xhat*dgamma/n, two subtracts, * s
constexpr std::int64_t kLnFwdOps = 7;      // sum, square, sum, sub, mul, *gamma, +beta
constexpr std::int64_t kLnGradOps = 5;     // xhat (2), E*xhat, sum, sum E
constexpr std::int64_t kLnBwdDataOps =
    10;  // g=E*gamma, xhat (2), sum g, g*xhat, sum, xhat*c, 2 sub, *r
constexpr std::int64_t kSoftmaxFwdOps = 5;      // max, subtract, exp, sum, divide
constexpr std::int64_t kSoftmaxBwdOps = 2;      // minus one-hot target, times 1/batch
constexpr std::int64_t kAttnSoftmaxFwdOps = 6;  // scale by 1/sqrt(d_head) + softmax
constexpr std::int64_t kAttnSoftmaxBwdOps = 5;  // dP*P, row sum, subtract, times P, scale
constexpr std::int64_t kSgdOps = 6;             // g+wd*w (2), v=mu*v+g (2), w-=lr*v (2)
constexpr std::int64_t kSigmoidOps = 4;         // negate, exp, add 1, divide
constexpr std::int64_t kTanhOps = 5;            // (e^{2x}-1)/(e^{2x}+1): mul, exp, sub, add, div
constexpr std::int64_t kSigmoidTanhBwdOps = 3;  // y*(1-y) or 1-y^2 (2), times E
// LSTM cell per hidden unit and time step: 4 gates x (input + recurrent
// pre-activation + summed bias: 2 adds), 3 sigmoids, 2 tanh, c = f*c + i*g (3),
// h = o*tanh(c) (1).
constexpr std::int64_t kLstmFwdOps = 8 + 3 * kSigmoidOps + 2 * kTanhOps + 3 + 1;
// dh = dh_out + dh_rec (1), do (1), dc = dh*o*(1-tanh^2 c) + dc_next (5),
// di, dg, df, dc_prev (4), gate derivatives: 3 sigmoids + 1 tanh.
constexpr std::int64_t kLstmBwdOps = 1 + 1 + 5 + 4 + 4 * kSigmoidTanhBwdOps;

struct ActivationCost {
  std::int64_t fwd, bwd;
};

ActivationCost activation_cost(const Layer& l) {
  if (l.activation == "relu") return {1, 1};   // max(x,0); E where x > 0
  if (l.activation == "relu6") return {2, 2};  // min(max(x,0),6); two compares
  if (l.activation == "sigmoid") return {kSigmoidOps, kSigmoidTanhBwdOps};
  if (l.activation == "tanh") return {kTanhOps, kSigmoidTanhBwdOps};
  throw InputError("layer '" + l.name + "': activation '" + l.activation +
                   "' unknown; known: relu, relu6, sigmoid, tanh");
}

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

class Expander {
 public:
  Expander(const Graph& g, std::int64_t batch) : g_(g), b_(batch) {
    // 2^24: GEMM dimensions times batch stay far from int64 overflow.
    if (batch < 1 || batch > (std::int64_t{1} << 24)) {
      throw InputError("batch = " + std::to_string(batch) + ": must be in 1..16777216");
    }
    // A layer's output gradient is worth computing only if the layer or a layer
    // before it has parameters; a layer needs its input gradient only if one
    // of its inputs' output gradient is worth computing.
    const int n = g.size();
    grad_out_.assign(static_cast<std::size_t>(n), false);
    for (int i : g.topological_order()) {
      bool need = g.layer(i).parameters() > 0 || g.layer(i).input_grad;
      for (int in : g.inputs(i)) need = need || grad_out_[static_cast<std::size_t>(in)];
      grad_out_[static_cast<std::size_t>(i)] = need;
    }
  }

  std::vector<Op> forward() {
    for (int i : g_.topological_order()) forward_layer(i);
    return std::move(ops_);
  }

  std::vector<Op> training_step() {
    const auto order = g_.topological_order();
    for (int i : order) forward_layer(i);
    for (auto it = order.rbegin(); it != order.rend(); ++it) backward_layer(*it);
    for (int i : order) update_layer(i);
    return std::move(ops_);
  }

 private:
  bool grad_out(int i) const { return grad_out_[static_cast<std::size_t>(i)]; }
  bool grad_in(int i) const {
    for (int in : g_.inputs(i)) {
      if (grad_out(in)) return true;
    }
    return false;
  }

  void gemm(int layer, Phase phase, const char* label, std::int64_t m, std::int64_t n,
            std::int64_t k, std::int64_t repeat, Role lhs, Role rhs, Role out) {
    Op op;
    op.layer = layer;
    op.phase = phase;
    op.kind = OpKind::Gemm;
    op.label = label;
    op.m = m;
    op.n = n;
    op.k = k;
    op.repeat = repeat;
    // 2^50 MACs per op: a step's sum over thousands of ops stays inside int64.
    std::int64_t macs = 1;
    for (std::int64_t d : {m, n, k, repeat})
      if (d < 0 || __builtin_mul_overflow(macs, d, &macs) || macs > (std::int64_t{1} << 50))
        throw InputError("layer '" + g_.layer(layer).name + "': " + label + " GEMM " +
                         std::to_string(m) + " x " + std::to_string(n) + " x " +
                         std::to_string(k) + " x " + std::to_string(repeat) +
                         ": more than 2^50 MACs in one op");
    op.lhs_role = lhs;
    op.rhs_role = rhs;
    op.out_role = out;
    ops_.push_back(std::move(op));
  }

  // Marks the op just added as a convolution GEMM of layer `l`.
  void conv_geometry(const Layer& l, Im2col which) {
    Op& op = ops_.back();
    op.im2col = which;
    op.conv.in_h = l.in_shapes[0].dims[1];
    op.conv.in_w = l.in_shapes[0].dims[2];
    op.conv.out_h = l.out_shape.dims[1];
    op.conv.out_w = l.out_shape.dims[2];
    op.conv.kernel_h = l.kernel_h;
    op.conv.kernel_w = l.kernel_w;
    op.conv.stride = l.stride;
    op.conv.channels = l.in_shapes[0].dims[0] / l.groups;
    const Layer& src = g_.layer(g_.inputs(op.layer).at(0));
    op.conv.from_input = src.kind == LayerKind::Input && !src.input_grad;
  }

  void elementwise(int layer, Phase phase, const char* label, std::int64_t elements,
                   std::int64_t ops_per_element, std::vector<TensorAccess> reads,
                   std::vector<TensorAccess> writes) {
    Op op;
    op.layer = layer;
    op.phase = phase;
    op.kind = OpKind::Elementwise;
    op.label = label;
    op.elements = elements;
    op.ops_per_element = ops_per_element;
    op.reads = std::move(reads);
    op.writes = std::move(writes);
    ops_.push_back(std::move(op));
  }

  std::int64_t out_elems(const Layer& l) const { return b_ * l.out_shape.elements(); }
  std::int64_t in_elems(const Layer& l, std::size_t i = 0) const {
    return b_ * l.in_shapes.at(i).elements();
  }

  void forward_layer(int i) {
    const Layer& l = g_.layer(i);
    const std::int64_t out = out_elems(l);
    constexpr Phase F = Phase::Fwd;
    switch (l.kind) {
      case LayerKind::Input:
      case LayerKind::Flatten:
        return;
      case LayerKind::Conv2d: {
        const auto& in = l.in_shapes[0].dims;
        const std::int64_t pixels = b_ * l.out_shape.dims[1] * l.out_shape.dims[2];
        gemm(i, F, "conv", pixels, l.out_features / l.groups,
             in[0] / l.groups * l.kernel_h * l.kernel_w, l.groups, Role::A, Role::W, Role::A);
        conv_geometry(l, Im2col::Lhs);
        if (l.bias) bias(i, l, out);
        return;
      }
      case LayerKind::Linear: {
        const std::int64_t f = l.in_shapes[0].dims.back();
        gemm(i, F, "linear", in_elems(l) / f, l.out_features, f, 1, Role::A, Role::W, Role::A);
        if (l.bias) bias(i, l, out);
        return;
      }
      case LayerKind::BatchNorm:
        elementwise(i, F, "bn", out, kBnFwdOps,
                    {{Role::A, out}, {Role::W, 2 * l.out_shape.dims[0]}}, {{Role::A, out}});
        return;
      case LayerKind::LayerNorm:
        elementwise(i, F, "layernorm", out, kLnFwdOps,
                    {{Role::A, out}, {Role::W, 2 * l.out_shape.dims.back()}}, {{Role::A, out}});
        return;
      case LayerKind::Activation:
        elementwise(i, F, l.activation.c_str(), out, activation_cost(l).fwd, {{Role::A, out}},
                    {{Role::A, out}});
        return;
      case LayerKind::Pool: {
        const auto [kh, kw] = pool_window(l);
        elementwise(i, F, "pool", out, l.pool_max ? kh * kw - 1 : kh * kw, {{Role::A, in_elems(l)}},
                    {{Role::A, out}});
        return;
      }
      case LayerKind::Add: {
        std::vector<TensorAccess> reads(l.in_shapes.size(), TensorAccess{Role::A, out});
        elementwise(i, F, "add", out, static_cast<std::int64_t>(l.in_shapes.size()) - 1,
                    std::move(reads), {{Role::A, out}});
        return;
      }
      case LayerKind::Concat: {
        std::vector<TensorAccess> reads;
        for (std::size_t k = 0; k < l.in_shapes.size(); ++k)
          reads.push_back({Role::A, in_elems(l, k)});
        elementwise(i, F, "concat", out, 0, std::move(reads), {{Role::A, out}});
        return;
      }
      case LayerKind::LstmCell: {
        const std::int64_t t = l.in_shapes[0].dims[0], f = l.in_shapes[0].dims[1];
        const std::int64_t h = l.out_features;
        gemm(i, F, "lstm_ih", b_ * t, 4 * h, f, 1, Role::A, Role::W, Role::A);
        gemm(i, F, "lstm_hh", b_, 4 * h, h, t, Role::A, Role::W, Role::A);
        std::vector<TensorAccess> reads{{Role::A, 2 * 4 * h * b_ * t}};
        if (l.bias) reads.push_back({Role::W, 4 * h});
        elementwise(i, F, "lstm_cell", b_ * t * h, kLstmFwdOps, std::move(reads),
                    {{Role::A, 6 * b_ * t * h}});
        return;
      }
      case LayerKind::Attention: {
        const auto [t, dh, reps] = attention_dims(l);
        gemm(i, F, "attn_qk", t, t, dh, reps, Role::A, Role::A, Role::A);
        elementwise(i, F, "attn_softmax", reps * t * t, kAttnSoftmaxFwdOps,
                    {{Role::A, reps * t * t}}, {{Role::A, reps * t * t}});
        gemm(i, F, "attn_av", t, dh, t, reps, Role::A, Role::A, Role::A);
        return;
      }
      case LayerKind::Embedding:
        elementwise(i, F, "embedding", out, 0, {{Role::A, in_elems(l)}, {Role::W, out}},
                    {{Role::A, out}});
        return;
      case LayerKind::Softmax:
        elementwise(i, F, "softmax", out, kSoftmaxFwdOps, {{Role::A, out}}, {{Role::A, out}});
        return;
    }
    throw InternalError("expand: unknown LayerKind");
  }

  void bias(int i, const Layer& l, std::int64_t out) {
    elementwise(i, Phase::Fwd, "bias", out, 1, {{Role::A, out}, {Role::W, l.out_features}},
                {{Role::A, out}});
  }

  static std::pair<std::int64_t, std::int64_t> pool_window(const Layer& l) {
    if (l.pool_global) return {l.in_shapes[0].dims[1], l.in_shapes[0].dims[2]};
    return {l.kernel_h, l.kernel_w};
  }

  struct AttnDims {
    std::int64_t t, dh, reps;
  };
  AttnDims attention_dims(const Layer& l) const {
    const auto& d = l.in_shapes[0].dims;
    return {d[0], d[1] / l.heads, b_ * l.heads};
  }

  void backward_layer(int i) {
    if (!grad_out(i)) return;  // nothing before or in this layer learns
    const Layer& l = g_.layer(i);
    const std::int64_t out = out_elems(l);
    constexpr Phase D = Phase::BwdData, W = Phase::BwdWeight;
    const bool data = grad_in(i);

    // Errors from several consumers of this layer's output are summed first.
    const auto consumers = g_.consumers(i);
    if (consumers.size() > 1) {
      std::vector<TensorAccess> reads(consumers.size(), TensorAccess{Role::E, out});
      elementwise(i, D, "grad_sum", out, static_cast<std::int64_t>(consumers.size()) - 1,
                  std::move(reads), {{Role::E, out}});
    }

    switch (l.kind) {
      case LayerKind::Input:
      case LayerKind::Flatten:
      case LayerKind::Add:  // the error passes unchanged to every input
        return;
      case LayerKind::Conv2d: {
        const auto& in = l.in_shapes[0].dims;
        const std::int64_t pixels = b_ * l.out_shape.dims[1] * l.out_shape.dims[2];
        const std::int64_t cin_k = in[0] / l.groups * l.kernel_h * l.kernel_w;
        const std::int64_t cout = l.out_features / l.groups;
        if (data) {
          gemm(i, D, "conv", pixels, cin_k, cout, l.groups, Role::E, Role::W, Role::E);
          conv_geometry(l, Im2col::Out);
        }
        gemm(i, W, "conv", cin_k, cout, pixels, l.groups, Role::A, Role::E, Role::G);
        conv_geometry(l, Im2col::LhsTransposed);
        if (l.bias) bias_grad(i, out, l.out_features);
        return;
      }
      case LayerKind::Linear: {
        const std::int64_t f = l.in_shapes[0].dims.back();
        const std::int64_t rows = in_elems(l) / f;
        if (data) gemm(i, D, "linear", rows, f, l.out_features, 1, Role::E, Role::W, Role::E);
        gemm(i, W, "linear", f, l.out_features, rows, 1, Role::A, Role::E, Role::G);
        if (l.bias) bias_grad(i, out, l.out_features);
        return;
      }
      case LayerKind::BatchNorm: {
        // The per-channel sums of the weight gradient feed the data gradient.
        const std::int64_t c = l.out_shape.dims[0];
        elementwise(i, W, "bn_grad", out, kBnGradOps, {{Role::E, out}, {Role::A, out}},
                    {{Role::G, 2 * c}});
        if (data) {
          elementwise(i, D, "bn", out, kBnBwdDataOps,
                      {{Role::E, out}, {Role::A, out}, {Role::W, c}}, {{Role::E, out}});
        }
        return;
      }
      case LayerKind::LayerNorm: {
        const std::int64_t f = l.out_shape.dims.back();
        if (data) {
          elementwise(i, D, "layernorm", out, kLnBwdDataOps,
                      {{Role::E, out}, {Role::A, out}, {Role::W, f}}, {{Role::E, out}});
        }
        elementwise(i, W, "layernorm_grad", out, kLnGradOps, {{Role::E, out}, {Role::A, out}},
                    {{Role::G, 2 * f}});
        return;
      }
      case LayerKind::Activation:
        if (data) {
          elementwise(i, D, l.activation.c_str(), out, activation_cost(l).bwd,
                      {{Role::E, out}, {Role::A, out}}, {{Role::E, out}});
        }
        return;
      case LayerKind::Pool: {
        if (!data) return;
        const std::int64_t in = in_elems(l);
        const auto [kh, kw] = pool_window(l);
        const std::int64_t ops =
            l.pool_max || l.pool_global ? 1 : ceil_div(kh, l.stride) * ceil_div(kw, l.stride);
        std::vector<TensorAccess> reads{{Role::E, out}};
        if (l.pool_max) reads.push_back({Role::A, in});
        elementwise(i, D, "pool", in, ops, std::move(reads), {{Role::E, in}});
        return;
      }
      case LayerKind::Concat: {
        if (!data) return;
        std::vector<TensorAccess> writes;
        for (std::size_t k = 0; k < l.in_shapes.size(); ++k)
          writes.push_back({Role::E, in_elems(l, k)});
        elementwise(i, D, "split", out, 0, {{Role::E, out}}, std::move(writes));
        return;
      }
      case LayerKind::LstmCell: {
        const std::int64_t t = l.in_shapes[0].dims[0], f = l.in_shapes[0].dims[1];
        const std::int64_t h = l.out_features;
        // Back-propagation through time: cell and recurrent GEMM run step by
        // step (repeat = T); the input-side GEMMs batch all steps (M = B*T).
        elementwise(i, D, "lstm_cell", b_ * t * h, kLstmBwdOps,
                    {{Role::E, b_ * t * h}, {Role::A, 6 * b_ * t * h}},
                    {{Role::E, 4 * b_ * t * h}});
        gemm(i, D, "lstm_hh", b_, h, 4 * h, t, Role::E, Role::W, Role::E);
        if (data) gemm(i, D, "lstm_ih", b_ * t, f, 4 * h, 1, Role::E, Role::W, Role::E);
        gemm(i, W, "lstm_ih", f, 4 * h, b_ * t, 1, Role::A, Role::E, Role::G);
        gemm(i, W, "lstm_hh", h, 4 * h, b_ * t, 1, Role::A, Role::E, Role::G);
        if (l.bias) bias_grad(i, 4 * b_ * t * h, 8 * h);
        return;
      }
      case LayerKind::Attention: {
        if (!data) return;
        const auto [t, dh, reps] = attention_dims(l);
        gemm(i, D, "attn_av", t, t, dh, reps, Role::E, Role::A, Role::E);  // dP = dO V^T
        gemm(i, D, "attn_av", t, dh, t, reps, Role::A, Role::E, Role::E);  // dV = P^T dO
        elementwise(i, D, "attn_softmax", reps * t * t, kAttnSoftmaxBwdOps,
                    {{Role::E, reps * t * t}, {Role::A, reps * t * t}}, {{Role::E, reps * t * t}});
        gemm(i, D, "attn_qk", t, dh, t, reps, Role::E, Role::A, Role::E);  // dQ = dS K
        gemm(i, D, "attn_qk", t, dh, t, reps, Role::E, Role::A, Role::E);  // dK = dS^T Q
        return;
      }
      case LayerKind::Embedding:
        // The weight gradient is a scatter-add of the errors into the used rows.
        elementwise(i, W, "embedding_grad", out, 1, {{Role::A, in_elems(l)}, {Role::E, out}},
                    {{Role::G, out}});
        return;
      case LayerKind::Softmax:
        if (data) {
          elementwise(i, D, "softmax", out, kSoftmaxBwdOps, {{Role::A, out}}, {{Role::E, out}});
        }
        return;
    }
    throw InternalError("expand: unknown LayerKind");
  }

  void bias_grad(int i, std::int64_t errors, std::int64_t params) {
    elementwise(i, Phase::BwdWeight, "bias_grad", errors, 1, {{Role::E, errors}},
                {{Role::G, params}});
  }

  void update_layer(int i) {
    const std::int64_t p = g_.layer(i).parameters();
    if (p == 0) return;
    elementwise(i, Phase::Update, "sgd", p, kSgdOps, {{Role::W, p}, {Role::G, p}, {Role::Opt, p}},
                {{Role::W, p}, {Role::Opt, p}});
  }

  const Graph& g_;
  std::int64_t b_;
  std::vector<bool> grad_out_;
  std::vector<Op> ops_;
};

}  // namespace

std::string_view phase_name(Phase phase) {
  switch (phase) {
    case Phase::Fwd:
      return "fwd";
    case Phase::BwdData:
      return "bwd_data";
    case Phase::BwdWeight:
      return "bwd_weight";
    case Phase::Update:
      return "update";
  }
  throw InternalError("phase_name: unknown Phase");
}

std::vector<Op> expand_training_step(const Graph& graph, std::int64_t batch) {
  return Expander(graph, batch).training_step();
}

std::vector<Op> expand_forward(const Graph& graph, std::int64_t batch) {
  return Expander(graph, batch).forward();
}

NetworkStats network_stats(const Graph& graph) {
  NetworkStats s;
  for (const Op& op : expand_training_step(graph, 1)) {
    if (op.phase == Phase::Fwd) s.forward_macs += op.macs();
    if (op.phase != Phase::Update) s.training_macs += op.macs();
  }
  for (int i = 0; i < graph.size(); ++i) {
    const Layer& l = graph.layer(i);
    s.parameters += l.parameters();
    if (l.kind == LayerKind::BatchNorm) s.batchnorm_outputs += l.out_shape.elements();
  }
  return s;
}

double ConvWindow::input_elements(double pixels, double window) const {
  const double kernel = double(kernel_h * kernel_w);
  const double map_out = double(out_h * out_w);
  double footprint = 0;  // input positions (of one channel) the pixels touch
  if (pixels >= map_out) {  // whole images
    footprint = pixels / map_out * double(in_h * in_w);
  } else if (pixels >= double(out_w)) {  // whole output rows: their input rows, full width
    const double rows = std::ceil(pixels / double(out_w));
    footprint = std::min(double(in_h), (rows - 1) * double(stride) + double(kernel_h)) *
                double(in_w);
  } else {  // part of one output row
    footprint = double(kernel_h) *
                std::min(double(in_w), (pixels - 1) * double(stride) + double(kernel_w));
  }
  return std::min(pixels * window, footprint * window / kernel);
}

}  // namespace lpsim
