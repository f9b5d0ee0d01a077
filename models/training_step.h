// One training step expanded into ops: the contract between models/ and the
// rest of lpsim (traces/ counts BitOPs over it, sim/ simulates it).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/precision.h"
#include "models/graph.h"

namespace lpsim {

enum class Phase : std::uint8_t { Fwd = 0, BwdData = 1, BwdWeight = 2, Update = 3 };
inline constexpr int kNumPhases = 4;
std::string_view phase_name(Phase);  // "fwd", "bwd_data", "bwd_weight", "update"

enum class OpKind : std::uint8_t { Gemm, Elementwise };

// A tensor an op reads or writes: its role (which sets its precision) and its
// element count for the whole batch.
struct TensorAccess {
  Role role = Role::A;
  std::int64_t elements = 0;
  friend bool operator==(const TensorAccess&, const TensorAccess&) = default;
};

// Which operand of a convolution's GEMM is its im2col matrix (or, for
// backward-data, the col2im of its result), so that a simulator can move the
// raw tensor instead (docs/simulator.md, "Convolutions"):
//   Lhs:           fwd, lhs[pixels x window]
//   LhsTransposed: bwd_weight, lhs[window x pixels]
//   Out:           bwd_data, out[pixels x window] (a transposed convolution)
enum class Im2col : std::uint8_t { None, Lhs, LhsTransposed, Out };

// The geometry behind a convolution GEMM, per group: input map in_h x in_w
// (unpadded) of `channels` channels, output map out_h x out_w, kernel and
// stride. "window" above is channels x kernel_h x kernel_w, "pixels"
// batch x out_h x out_w.
struct ConvWindow {
  std::int64_t in_h = 0, in_w = 0, out_h = 0, out_w = 0;
  std::int64_t kernel_h = 1, kernel_w = 1, stride = 1, channels = 0;
  // The input map is the network's input (an Input layer that takes no
  // gradient): no layer of the accelerator produced it.
  bool from_input = false;
  friend bool operator==(const ConvWindow&, const ConvWindow&) = default;
  // Elements of the raw input (or input-gradient) map that `pixels`
  // consecutive output pixels (raster order over batch x out_h x out_w) and
  // `window` consecutive window entries (channel-major) touch, halo
  // included, and never more than pixels x window (the im2col block).
  double input_elements(double pixels, double window) const;
};

// One piece of work of one training step.
//
// Gemm: `repeat` independent products out[m x n] += lhs[m x k] * rhs[k x n]
// (repeat = conv groups, or batch x heads for attention). Convolutions are
// lowered to their im2col GEMM:
//   fwd        m = B*OH*OW, n = Cout/g, k = Cin/g*KH*KW   lhs = A, rhs = W, out A
//   bwd_data   m = B*OH*OW, n = Cin/g*KH*KW, k = Cout/g   lhs = E, rhs = W, out E
//   bwd_weight m = Cin/g*KH*KW, n = Cout/g, k = B*OH*OW   lhs = A, rhs = E, out G
// so each phase has the forward pass's MAC count. Backward-data of the first
// GEMM layer is omitted (no gradient w.r.t. the input).
//
// Elementwise: `elements` outputs, each costing `ops_per_element` operations
// (documented per layer kind in docs/models.md); `reads` / `writes` list the
// tensors moved, each at its role's precision.
struct Op {
  int layer = -1;  // index of the layer in Graph::layers()
  Phase phase = Phase::Fwd;
  OpKind kind = OpKind::Gemm;
  std::string label;  // e.g. "conv", "bn", "relu", "add", "pool", "softmax", "sgd"

  // Gemm
  std::int64_t m = 0, n = 0, k = 0, repeat = 1;
  Role lhs_role = Role::A, rhs_role = Role::W, out_role = Role::A;
  Im2col im2col = Im2col::None;  // convolutions: which operand is im2col-shaped
  ConvWindow conv;               // with im2col != None

  // Elementwise
  std::int64_t elements = 0;
  std::int64_t ops_per_element = 0;
  std::vector<TensorAccess> reads, writes;

  std::int64_t macs() const { return kind == OpKind::Gemm ? repeat * m * n * k : 0; }
  std::int64_t element_ops() const {
    return kind == OpKind::Elementwise ? elements * ops_per_element : 0;
  }
};

// Every op of one training step at batch size `batch`, in execution order:
// forward ops layer by layer, then backward (bwd_data and bwd_weight of each
// layer, last layer first), then one SGD-with-momentum update op per layer
// with parameters. Throws InputError if batch < 1.
std::vector<Op> expand_training_step(const Graph& graph, std::int64_t batch);

// Forward-only ops (inference), same conventions.
std::vector<Op> expand_forward(const Graph& graph, std::int64_t batch);

// Per-sample figures of the network (batch 1).
struct NetworkStats {
  std::int64_t forward_macs = 0;          // conv + linear + attention matmul MACs
  std::int64_t parameters = 0;            // learnable scalars
  std::int64_t batchnorm_outputs = 0;     // output elements of all batch-norm layers
  std::int64_t training_macs = 0;         // fwd + bwd_data + bwd_weight GEMM MACs
};
NetworkStats network_stats(const Graph& graph);

}  // namespace lpsim
