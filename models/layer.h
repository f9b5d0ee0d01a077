// What one layer of a network is: its kind, its parameters, its shapes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lpsim {

enum class LayerKind : std::uint8_t {
  Input,       // the data: out_shape given
  Conv2d,      // out_features = output channels; kernel, stride, padding, groups
  Linear,      // out_features; applied to the last dimension (tokens keep their positions)
  BatchNorm,
  Activation,  // ReLU and friends
  Pool,        // max / avg, kernel, stride, padding; global = whole spatial extent
  Add,         // residual add of two or more same-shaped inputs
  Concat,      // along channels (dimension 0)
  Flatten,
  LstmCell,    // one LSTM layer over a sequence: hidden size = out_features
  Attention,   // multi-head self-attention matmuls (QK^T and AV), heads
  Embedding,   // vocabulary = vocab, out_features = embedding size
  LayerNorm,
  Softmax,     // softmax + cross-entropy loss at the end of the network
  // Kinds that imported networks need (`lpsim import`, docs/models.md):
  MatMul,       // batched product of two activations [..,M,K] x [..,K,N] (attention scores)
  Elementwise,  // binary arithmetic (`activation` = add, sub, mul, div, pow), broadcasting
  Reduce,       // mean or sum over `axes`
  Reshape,      // a view with the same elements in shape `target`: no work
  Transpose,    // the elements moved into the order `perm`
  Copy,         // part of the input (slice, split, gather) or a broadcast of it, into `target`
};
std::string_view layer_kind_name(LayerKind);  // "conv2d", "linear", ... (graph file spelling)
// The kind spelled `name` (as layer_kind_name writes it); false if none.
bool layer_kind_from_name(std::string_view name, LayerKind& kind);
std::string layer_kind_names();  // all spellings, comma-separated, for error messages

// The functions of Activation, Elementwise and Reduce layers (docs/models.md
// lists each with its cost), comma-separated for error messages, and tests.
std::string_view activation_functions();   // relu, relu6, sigmoid, tanh, ...
std::string_view elementwise_functions();  // add, sub, mul, div, pow, max, min
std::string_view reduce_functions();       // mean, sum, max
bool is_function_of(std::string_view name, std::string_view list);

// Per-sample tensor shape (no batch dimension): {C, H, W} for images,
// {T, F} for sequences of T tokens with F features, {F} for vectors.
struct Shape {
  std::vector<std::int64_t> dims;
  std::int64_t elements() const {
    std::int64_t n = 1;
    for (auto d : dims) n *= d;
    return n;
  }
  friend bool operator==(const Shape&, const Shape&) = default;
};
std::string to_string(const Shape&);

struct Layer {
  std::string name;
  LayerKind kind = LayerKind::Input;

  // Parameters (those that apply to `kind`).
  std::int64_t out_features = 0;  // conv out channels, linear/LSTM/embedding width
  std::int64_t kernel_h = 1, kernel_w = 1;
  std::int64_t stride = 1, padding = 0, groups = 1;
  // conv2d and pool windows that are not square and symmetric (imported
  // networks): -1 = the same as `stride` / `padding` (top) / `padding_w`
  // (left). Taps `dilation_h` / `dilation_w` apart. Read them through window().
  std::int64_t stride_w = -1;
  std::int64_t padding_w = -1, padding_bottom = -1, padding_right = -1;
  std::int64_t dilation_h = 1, dilation_w = 1;
  bool bias = false;
  bool pool_max = true;     // Pool: max (true) or average
  bool pool_global = false; // Pool: over the whole spatial extent
  // The function of an Activation layer (relu, sigmoid, ...), an Elementwise
  // layer (add, sub, mul, div, pow) or a Reduce layer (mean, sum).
  std::string activation = "relu";
  std::int64_t axis = 0;              // Concat: the per-sample axis joined along
  std::vector<std::int64_t> target;   // Reshape, Copy: the output shape
  std::vector<std::int64_t> perm;     // Transpose: output axis i is input axis perm[i]
  std::vector<std::int64_t> axes;     // Reduce: the axes reduced (kept as size 1 if keepdims)
  bool keepdims = true;               // Reduce
  // Elementwise with one input: the other operand's shape (broadcast against
  // the input; empty = a scalar) and whether it is a learnable parameter
  // (a bias, a layer norm's scale, a position embedding) or a constant.
  std::vector<std::int64_t> operand;
  bool learnable = false;
  std::int64_t heads = 1;   // Attention
  std::int64_t vocab = 0;   // Embedding
  // Input only: the data stands for the output of an earlier layer that is not
  // in the graph (e.g. rows of a SCALE-Sim topology after the first), so the
  // gradient with respect to it is computed (its consumer gets a bwd_data op).
  bool input_grad = false;
  // Per-layer operand widths of a GEMM layer (conv2d, linear, lstm), in bits
  // 1..64; 0 = the run's precision. w_bits: its weights; a_bits: the
  // activations it reads (the input of its forward GEMM). Networks quantized
  // layer by layer carry them (Bit Fusion's benchmarks: an 8-bit first and
  // last layer, 4-, 2- or 1-bit layers between); they come from a topology
  // CSV's `W Bits` / `A Bits` columns or a graph file's `w_bits` / `a_bits`
  // (docs/models.md). Only read here; how a run honours them is sim/'s.
  int w_bits = 0, a_bits = 0;

  // Shapes, filled by Graph::infer_shapes (Input: out_shape given).
  std::vector<Shape> in_shapes;
  Shape out_shape;

  std::int64_t parameters() const;  // learnable scalars (weights + bias + BN affine)

  // The sliding window of a conv2d or pool layer, every field explicit.
  struct Window {
    std::int64_t kernel_h, kernel_w, stride_h, stride_w;
    std::int64_t pad_top, pad_left, pad_bottom, pad_right;
    std::int64_t dilation_h, dilation_w;
    bool square_symmetric() const {  // the zoo's kind: one stride, one padding, no dilation
      return stride_h == stride_w && pad_top == pad_left && pad_top == pad_bottom &&
             pad_top == pad_right && dilation_h == 1 && dilation_w == 1;
    }
  };
  Window window() const;
};

// A layer of `kind` named `name` with every other field at its default.
Layer make_layer(std::string name, LayerKind kind);

}  // namespace lpsim
