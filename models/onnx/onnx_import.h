// ONNX models -> lpsim layer graphs (`lpsim import`, docs/models.md "ONNX
// import"). Built only where Debian's libonnx-dev is found (target lpsim_onnx,
// compile definition LPSIM_WITH_ONNX); the rest of lpsim does not need it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "models/graph.h"

namespace lpsim {

struct OnnxImportOptions {
  // Shapes for the data inputs, batch dimension included: {name, dims}; an
  // empty name means the first data input. Replace the model's own shapes.
  std::vector<std::pair<std::string, std::vector<std::int64_t>>> input_shapes;
  // The value of a symbolic first (batch) dimension of a data input. The
  // graph is per sample whatever the batch: the batch axis is followed
  // through the model and dropped from every shape.
  std::int64_t batch = 1;
  // false: the inputs have no batch dimension; the whole input is one sample
  // (ONNX's single-op test models).
  bool batch_dim = true;
  bool strict = false;  // an op that cannot be costed is an error, not a warning
  // A softmax + cross-entropy loss layer after the one output, unless it is a
  // Softmax or LogSoftmax already (training needs a loss; exports end without).
  bool loss = true;
  // Ask ONNX's own shape inference for the output shapes of ops lpsim does not
  // cost (off in the fuzz target, which tests lpsim's reader, not ONNX's).
  bool onnx_shape_inference = true;
};

struct OnnxImport {
  Graph graph;
  std::int64_t nodes = 0;                        // nodes in the model's graph
  std::int64_t batch = 1;                        // the batch the model was read at
  std::int64_t opset = 0;                        // of the default domain
  std::map<std::string, std::int64_t> uncosted;  // op type -> nodes passed through as copies
  std::vector<std::string> notes;                // what the reader assumed, one line each
  // Every graph output's full shape (batch included), as the reader inferred it.
  std::map<std::string, std::vector<std::int64_t>> output_shapes;

  // "" or one line: "<n> nodes of ops lpsim cannot cost pass through as copies: Pad x2, ..."
  std::string uncosted_text() const;
};

// Reads an ONNX model file (binary protobuf). InputError naming the file (and
// the node, where one is at fault) for a file that is not ONNX, a truncated
// one, an unsupported opset, missing or dynamic input shapes, a shape the
// reader cannot follow, or (strict) an op it cannot cost.
OnnxImport import_onnx_file(const std::string& path, const OnnxImportOptions& options = {});

// The same from the bytes of a model; `where` starts every message.
OnnxImport import_onnx(const std::string& bytes, const std::string& where,
                       const OnnxImportOptions& options = {});

// "1x3x224x224" or "name=1x3x224x224" -> {name, dims}; InputError otherwise.
std::pair<std::string, std::vector<std::int64_t>> parse_input_shape(const std::string& text);

// The opsets of the default domain the reader understands.
inline constexpr std::int64_t kOnnxMinOpset = 1;
inline constexpr std::int64_t kOnnxMaxOpset = 17;

}  // namespace lpsim
