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

// Operations per element of each activation function, forward and backward
// (docs/models.md, "Activation functions"). A transcendental (exp, log, erf)
// counts as one operation, as exp does in sigmoid.
ActivationCost activation_cost(const Layer& l) {
  struct Entry {
    const char* name;
    ActivationCost cost;
  };
  static constexpr Entry kCosts[] = {
      {"relu", {1, 1}},    // max(x,0); E where x > 0
      {"relu6", {2, 2}},   // min(max(x,0),6); two compares
      {"sigmoid", {kSigmoidOps, kSigmoidTanhBwdOps}},
      {"tanh", {kTanhOps, kSigmoidTanhBwdOps}},
      {"clip", {2, 2}},          // min(max(x,lo),hi); E where inside
      {"leaky_relu", {2, 2}},    // compare, times slope; the same on E
      {"hard_sigmoid", {4, 2}},  // a*x+b (2), two compares; E*a where inside (2)
      {"hard_swish", {5, 4}},    // x * hard_sigmoid(x); (2x+3)/6*E where inside, 0 / E outside
      {"erf", {1, 4}},           // erf; 2/sqrt(pi)*exp(-x^2)*E: square, negate, exp, times
      {"sqrt", {1, 2}},          // sqrt; E*0.5/y
      {"square", {1, 2}},        // x*x; 2*x*E
      {"exp", {1, 1}},           // exp; E*y
      {"log", {1, 1}},           // log; E/x
      {"neg", {1, 1}},
      {"abs", {1, 2}},           // |x|; sign, times E
      {"reciprocal", {1, 2}},    // 1/x; -E*y*y
      {"softmax", {kSoftmaxFwdOps, 4}},  // within the network: E*y, row sum, subtract, times y
      {"log_softmax", {6, 3}},   // max, subtract, exp, sum, log, subtract; E - exp(y)*sum E (3)
      {"dropout", {2, 1}},       // random mask, x*mask*scale; E*mask*scale
  };
  for (const auto& e : kCosts)
    if (l.activation == e.name) return e.cost;
  throw InputError("layer '" + l.name + "': activation '" + l.activation +
                   "' unknown; known: " + std::string(activation_functions()));
}

// Elementwise functions, per output element: the forward operations, the
// backward operations for the first and for the second operand's gradient,
// and for a learnable operand's gradient (its reduction over the broadcast
// included). docs/models.md, "Element-wise arithmetic".
struct ElementwiseCost {
  std::int64_t fwd, bwd_first, bwd_second, bwd_param;
};
ElementwiseCost elementwise_cost(const Layer& l) {
  const std::string& f = l.activation;
  if (f == "add") return {1, 0, 0, 1};  // E passes; a parameter's gradient sums E
  if (f == "sub") return {1, 0, 1, 1};  // the subtrahend's gradient is -E
  if (f == "mul") return {1, 1, 1, 2};  // E*other; a parameter: E*x, then the sum
  if (f == "div") return {1, 1, 2, 3};  // E/y; -E*out/y; a parameter: that and the sum
  if (f == "pow") return {3, 3, 3, 4};  // exp(y*log x); y*x^(y-1)*E, x^y*log x*E
  if (f == "max" || f == "min") return {1, 1, 1, 2};  // compare; E where chosen
  throw InputError("layer '" + l.name + "': function '" + f + "' unknown; known: " +
                   std::string(elementwise_functions()));
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
    op.conv.stride = l.window().stride_h;  // the height stride (one stride per ConvWindow)
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
      case LayerKind::MatMul: {
        const auto d = matmul_dims(l);
        gemm(i, F, "matmul", d.m, d.n, d.k, d.reps, Role::A, Role::A, Role::A);
        return;
      }
      case LayerKind::Elementwise: {
        const ElementwiseCost c = elementwise_cost(l);
        std::vector<TensorAccess> reads{{Role::A, in_elems(l)}};
        if (l.in_shapes.size() == 2) reads.push_back({Role::A, in_elems(l, 1)});
        else if (l.learnable) reads.push_back({Role::W, l.parameters()});
        elementwise(i, F, l.activation.c_str(), out, c.fwd, std::move(reads), {{Role::A, out}});
        return;
      }
      case LayerKind::Reduce:
        // One operation per input element (a sum, or a compare for max); the
        // mean's division per output is per-row scalar work, not counted.
        elementwise(i, F, "reduce", in_elems(l), 1, {{Role::A, in_elems(l)}}, {{Role::A, out}});
        return;
      case LayerKind::Reshape:
        return;
      case LayerKind::Transpose:
        elementwise(i, F, "transpose", out, 0, {{Role::A, out}}, {{Role::A, out}});
        return;
      case LayerKind::Copy:
        elementwise(i, F, "copy", out, 0, {{Role::A, std::min(out, in_elems(l))}},
                    {{Role::A, out}});
        return;
    }
    throw InternalError("expand: unknown LayerKind");
  }

  struct MatMulDims {
    std::int64_t m, n, k, reps;
  };
  MatMulDims matmul_dims(const Layer& l) const {
    const auto& a = l.in_shapes[0].dims;
    const auto& o = l.out_shape.dims;
    std::int64_t reps = b_;
    for (std::size_t d = 0; d + 2 < o.size(); ++d) reps *= o[d];
    return {a[a.size() - 2], o.back(), a.back(), reps};
  }

  void bias(int i, const Layer& l, std::int64_t out) {
    elementwise(i, Phase::Fwd, "bias", out, 1, {{Role::A, out}, {Role::W, l.out_features}},
                {{Role::A, out}});
  }

  bool input_needs_grad(int i, std::size_t k) const {
    return grad_out(g_.inputs(i).at(k));
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
        const Layer::Window w = l.window();
        const std::int64_t ops = l.pool_max || l.pool_global
                                     ? 1
                                     : ceil_div(kh, w.stride_h) * ceil_div(kw, w.stride_w);
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
      case LayerKind::MatMul: {
        // C = A B: dA = dC B^T, dB = A^T dC, each where that input needs it.
        const auto d = matmul_dims(l);
        if (input_needs_grad(i, 0))
          gemm(i, D, "matmul", d.m, d.k, d.n, d.reps, Role::E, Role::A, Role::E);
        if (input_needs_grad(i, 1))
          gemm(i, D, "matmul", d.k, d.n, d.m, d.reps, Role::A, Role::E, Role::E);
        return;
      }
      case LayerKind::Elementwise: {
        const ElementwiseCost c = elementwise_cost(l);
        for (std::size_t k = 0; k < l.in_shapes.size(); ++k) {
          if (!input_needs_grad(i, k)) continue;
          const std::int64_t n_in = in_elems(l, k);
          // An input smaller than the output (broadcast) sums its error.
          const std::int64_t ops = (k == 0 ? c.bwd_first : c.bwd_second) + (n_in < out ? 1 : 0);
          if (ops == 0) continue;  // the error passes unchanged, as for `add`
          std::vector<TensorAccess> reads{{Role::E, out}};
          if ((k == 0 ? c.bwd_first : c.bwd_second) > 0) reads.push_back({Role::A, out});
          elementwise(i, D, l.activation.c_str(), out, ops, std::move(reads), {{Role::E, n_in}});
        }
        if (l.learnable)
          elementwise(i, W, l.activation.c_str(), out, c.bwd_param,
                      {{Role::E, out}, {Role::A, in_elems(l)}}, {{Role::G, l.parameters()}});
        return;
      }
      case LayerKind::Reduce:
        if (data) {
          const std::int64_t in = in_elems(l);
          // The error spread back over the reduced axes: scaled (mean), routed
          // to the maximum (max) or copied (sum).
          const std::int64_t ops = l.activation == "sum" ? 0 : 1;
          std::vector<TensorAccess> reads{{Role::E, out}};
          if (l.activation == "max") reads.push_back({Role::A, in});
          elementwise(i, D, "reduce", in, ops, std::move(reads), {{Role::E, in}});
        }
        return;
      case LayerKind::Reshape:
        return;
      case LayerKind::Transpose:
        if (data) elementwise(i, D, "transpose", out, 0, {{Role::E, out}}, {{Role::E, out}});
        return;
      case LayerKind::Copy:
        if (data) {
          // A part: its error placed into a zeroed input gradient; a
          // broadcast: the copies' errors summed.
          const std::int64_t in = in_elems(l);
          elementwise(i, D, "copy", in, out > in ? ceil_div(out, in) - 1 : 0, {{Role::E, out}},
                      {{Role::E, in}});
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
