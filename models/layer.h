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
};
std::string_view layer_kind_name(LayerKind);  // "conv2d", "linear", ... (graph file spelling)
// The kind spelled `name` (as layer_kind_name writes it); false if none.
bool layer_kind_from_name(std::string_view name, LayerKind& kind);
std::string layer_kind_names();  // all spellings, comma-separated, for error messages

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
  bool bias = false;
  bool pool_max = true;     // Pool: max (true) or average
  bool pool_global = false; // Pool: over the whole spatial extent
  std::string activation = "relu";
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
};

// A layer of `kind` named `name` with every other field at its default.
Layer make_layer(std::string name, LayerKind kind);

}  // namespace lpsim
