// The ONNX reader: follows every tensor's shape (and, for the small tensors
// that shape computations make, its values) through the model in node order,
// and turns each node on the data path into lpsim layers (docs/models.md,
// "ONNX import", lists each op and how it is costed).
//
// Tensors are of three kinds: data (derived from a data input: activations),
// parameters (learnable weights: float initializers of more than one element,
// or graph inputs that only feed weight operands, as
// torch.onnx.export(export_params=False) writes them) and constants
// (everything else, including the shape computations on Shape's output).
// Data tensors carry their batch axis; a layer's per-sample shape is the
// tensor's shape without it.
#include "models/onnx/onnx_import.h"

#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "core/error.h"
#include "core/input_file.h"

namespace lpsim {

namespace {

using Dims = std::vector<std::int64_t>;

// Per-sample dimensions and layer parameters: graph files' limit (graph_io).
constexpr std::int64_t kMaxDim = std::int64_t{1} << 24;
// Any tensor's elements, batch included.
constexpr std::int64_t kMaxElements = std::int64_t{1} << 40;
// Values kept for constant tensors (shape computations are a few numbers).
constexpr std::int64_t kMaxValues = 4096;

enum class VKind : std::uint8_t { Data, Param, Const };

struct Value {
  VKind kind = VKind::Const;
  bool known = false;  // shape known
  Dims shape;
  int elem = 0;  // onnx::TensorProto::DataType
  bool has_values = false;
  std::vector<double> values;
  int layer = -1;  // Data: the lpsim layer whose output this is
  int batch = -1;  // Data: the batch axis, -1 = none (merged, or no batch dimension)
};

bool is_float_type(int t) {
  using T = onnx::TensorProto;
  return t == T::FLOAT || t == T::DOUBLE || t == T::FLOAT16 || t == T::BFLOAT16;
}
bool is_int_type(int t) { return !is_float_type(t) && t != onnx::TensorProto::STRING; }

std::int64_t elements_of(const Dims& d) {
  std::int64_t n = 1;
  for (auto x : d) {
    if (x < 0 || __builtin_mul_overflow(n, x, &n) || n > kMaxElements) return -1;
  }
  return n;
}

std::string dims_text(const Dims& d) { return to_string(Shape{d}); }

// Bytes that are not printable UTF-8 become '?': names go into JSON and into
// one-line messages.
std::string clean_name(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size() && out.size() < 200;) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = c < 0x80         ? 1
                      : (c >> 5) == 6  ? 2
                      : (c >> 4) == 14 ? 3
                      : (c >> 3) == 30 ? 4
                                       : 0;
    bool ok = len > 0 && i + len <= s.size() && (len > 1 || (c >= 0x20 && c != 0x7f));
    for (std::size_t k = 1; ok && k < len; ++k)
      ok = (static_cast<unsigned char>(s[i + k]) >> 6) == 2;
    if (ok && len > 1) {  // no overlong forms or surrogates
      const auto c1 = static_cast<unsigned char>(s[i + 1]);
      ok = !(len == 2 && c < 0xc2) && !(len == 3 && c == 0xe0 && c1 < 0xa0) &&
           !(len == 3 && c == 0xed && c1 >= 0xa0) && !(len == 4 && c == 0xf0 && c1 < 0x90) &&
           !(len == 4 && (c > 0xf4 || (c == 0xf4 && c1 >= 0x90)));
    }
    if (ok) {
      out.append(s, i, len);
      i += len;
    } else {
      out += '?';
      ++i;
    }
  }
  return out;
}

// The values of a tensor proto with at most kMaxValues elements; false when
// they are not in the proto (external data) or malformed.
bool tensor_values(const onnx::TensorProto& t, std::int64_t n, std::vector<double>& out) {
  using T = onnx::TensorProto;
  out.clear();
  if (n < 0 || n > kMaxValues) return false;
  if (t.data_location() == T::EXTERNAL) return false;
  const auto count = static_cast<std::size_t>(n);
  auto take = [&](const auto& field) {
    if (static_cast<std::size_t>(field.size()) != count) return false;
    for (const auto& v : field) out.push_back(static_cast<double>(v));
    return true;
  };
  if (t.has_raw_data()) {
    const std::string& raw = t.raw_data();
    auto read = [&](auto type_tag) {
      using V = decltype(type_tag);
      if (raw.size() != count * sizeof(V)) return false;
      for (std::size_t i = 0; i < count; ++i) {
        V v;
        std::memcpy(&v, raw.data() + i * sizeof(V), sizeof(V));
        out.push_back(static_cast<double>(v));
      }
      return true;
    };
    switch (t.data_type()) {
      case T::FLOAT:
        return read(float{});
      case T::DOUBLE:
        return read(double{});
      case T::INT64:
        return read(std::int64_t{});
      case T::INT32:
        return read(std::int32_t{});
      case T::INT16:
        return read(std::int16_t{});
      case T::INT8:
        return read(std::int8_t{});
      case T::UINT8:
      case T::BOOL:
        return read(std::uint8_t{});
      case T::UINT16:
        return read(std::uint16_t{});
      case T::UINT32:
        return read(std::uint32_t{});
      case T::UINT64:
        return read(std::uint64_t{});
      default:
        return false;
    }
  }
  switch (t.data_type()) {
    case T::FLOAT:
      return take(t.float_data());
    case T::DOUBLE:
      return take(t.double_data());
    case T::INT64:
      return take(t.int64_data());
    case T::UINT32:
    case T::UINT64:
      return take(t.uint64_data());
    case T::INT32:
    case T::INT16:
    case T::INT8:
    case T::UINT8:
    case T::UINT16:
    case T::BOOL:
      return take(t.int32_data());
    default:
      return false;
  }
}

// A value of a shape computation as an integer (shapes, axes, indices).
std::int64_t as_int(double v) {
  if (!std::isfinite(v) || std::fabs(v) > 9.0e18) return std::numeric_limits<std::int64_t>::min();
  return static_cast<std::int64_t>(v);
}

// Flatten's axis: 0..rank, negative counting from the end (-1: before the last).
std::int64_t flatten_axis(std::int64_t axis, std::size_t rank) {
  const auto r = static_cast<std::int64_t>(rank);
  return axis < 0 ? axis + r : axis;
}

struct Use {
  int node;
  int slot;
};

class Importer {
 public:
  Importer(const onnx::ModelProto& model, std::string where, const OnnxImportOptions& options)
      : m_(model),
        g_model_(model.graph()),
        where_(std::move(where)),
        opt_(options),
        g_(graph_name(where_)) {}

  static std::string graph_name(const std::string& where) {
    std::string base = where.substr(where.find_last_of('/') + 1);
    if (base.size() > 5 && base.compare(base.size() - 5, 5, ".onnx") == 0)
      base.resize(base.size() - 5);
    return clean_name(base);
  }

  OnnxImport run();

 private:
  // ------------------------------------------------------------ errors
  std::string label(int n) const {
    const auto& p = g_model_.node(n);
    std::string name = p.name().empty() ? (p.output_size() > 0 ? "#" + std::to_string(n) + " -> '" +
                                                                     clean_name(p.output(0)) + "'"
                                                               : "#" + std::to_string(n))
                                        : "'" + clean_name(p.name()) + "'";
    return "node " + name + " (" + clean_name(p.op_type()) + ")";
  }
  [[noreturn]] void fail(const std::string& what) const { throw InputError(where_ + ": " + what); }
  [[noreturn]] void fail(int n, const std::string& what) const {
    throw InputError(where_ + ": " + label(n) + ": " + what);
  }

  // ------------------------------------------------------------ attributes
  const onnx::AttributeProto* attr(int n, const char* name) const {
    for (const auto& a : g_model_.node(n).attribute())
      if (a.name() == name) return &a;
    return nullptr;
  }
  std::int64_t attr_int(int n, const char* name, std::int64_t fallback) const {
    const auto* a = attr(n, name);
    return a ? a->i() : fallback;
  }
  double attr_float(int n, const char* name, double fallback) const {
    const auto* a = attr(n, name);
    return a ? a->f() : fallback;
  }
  std::string attr_string(int n, const char* name, const std::string& fallback) const {
    const auto* a = attr(n, name);
    return a ? a->s() : fallback;
  }
  bool attr_ints(int n, const char* name, Dims& out) const {
    const auto* a = attr(n, name);
    if (!a) return false;
    out.assign(a->ints().begin(), a->ints().end());
    return true;
  }

  // ------------------------------------------------------------ tensors
  bool has_input(int n, int i) const {
    const auto& p = g_model_.node(n);
    return i < p.input_size() && !p.input(i).empty();
  }
  const Value& input(int n, int i) const {
    const auto& p = g_model_.node(n);
    if (!has_input(n, i)) fail(n, "input " + std::to_string(i) + " is missing");
    auto it = values_.find(p.input(i));
    if (it == values_.end())
      fail(n, "input '" + clean_name(p.input(i)) +
                  "' is produced by no earlier node, initializer or graph input (a truncated "
                  "or out-of-order graph)");
    return it->second;
  }
  const Value& known_input(int n, int i) const {
    const Value& v = input(n, i);
    if (!v.known)
      fail(n, "the shape of input '" + clean_name(g_model_.node(n).input(i)) + "' is unknown");
    return v;
  }
  // The integer values of constant input i (shapes, axes, pads).
  Dims int_values(int n, int i, const char* what) const {
    const Value& v = input(n, i);
    if (v.kind == VKind::Data || !v.has_values)
      fail(n, std::string(what) + " (input '" + clean_name(g_model_.node(n).input(i)) +
                  "') is not a constant the reader can evaluate");
    Dims out;
    for (double x : v.values) {
      const std::int64_t k = as_int(x);
      if (k == std::numeric_limits<std::int64_t>::min())
        fail(n, std::string(what) + ": a value is not an integer");
      out.push_back(k);
    }
    return out;
  }
  // An attribute's integers (opsets before it moved to an input) or the
  // constant input's (after); `present` false when neither is given.
  Dims ints_attr_or_input(int n, const char* name, int slot, bool& present) const {
    Dims out;
    present = true;
    if (attr_ints(n, name, out)) return out;
    if (has_input(n, slot)) return int_values(n, slot, name);
    present = false;
    return out;
  }

  std::int64_t axis_of(int n, std::int64_t axis, std::size_t rank, const char* what) const {
    const auto r = static_cast<std::int64_t>(rank);
    if (axis < -r || axis >= r)
      fail(n, std::string(what) + " " + std::to_string(axis) + " is not an axis of a rank-" +
                  std::to_string(rank) + " tensor");
    return axis < 0 ? axis + r : axis;
  }

  void set(int n, int out, Value v) {
    const auto& p = g_model_.node(n);
    if (out >= p.output_size() || p.output(out).empty()) return;
    if (v.known && elements_of(v.shape) < 0)
      fail(n, "output shape " + dims_text(v.shape) + ": more than 2^40 elements");
    values_[p.output(out)] = std::move(v);
  }

  // ------------------------------------------------------------ layers
  Dims per_sample(int n, const Value& v) const {
    Dims d = v.shape;
    if (v.batch >= 0) {
      d.erase(d.begin() + v.batch);
    } else if (batch_ != 1) {
      fail(n, "its output " + dims_text(v.shape) + " mixes the batch (" + std::to_string(batch_) +
                  ") with other dimensions; import it with --batch 1");
    }
    if (d.empty()) d.push_back(1);
    return d;
  }

  std::string unique_name(std::string base) {
    if (base.empty()) base = "layer";
    std::string name = base;
    for (int k = 2; used_names_.count(name); ++k) name = base + "#" + std::to_string(k);
    used_names_.insert(name);
    return name;
  }
  std::string node_name(int n) const {
    const auto& p = g_model_.node(n);
    if (!p.name().empty()) return clean_name(p.name());
    if (p.output_size() > 0 && !p.output(0).empty()) return clean_name(p.output(0));
    return clean_name(p.op_type()) + "_" + std::to_string(n);
  }

  int add_layer(int n, Layer l, const std::vector<int>& inputs, const std::string& suffix = "") {
    l.name = unique_name(node_name(n) + suffix);
    l.in_shapes.clear();
    for (int in : inputs) l.in_shapes.push_back(g_.layer(in).out_shape);
    try {
      l.out_shape = infer_layer_shape(l);
    } catch (const InputError& e) {
      fail(n, e.what());
    }
    for (auto d : l.out_shape.dims)
      if (d < 1 || d > kMaxDim)
        fail(n, "per-sample shape " + to_string(l.out_shape) + ": a dimension is outside 1.." +
                    std::to_string(kMaxDim));
    if (elements_of(l.out_shape.dims) > (std::int64_t{1} << 36))
      fail(n, "per-sample shape " + to_string(l.out_shape) + ": more than 2^36 elements");
    for (auto d :
         {l.out_features, l.kernel_h, l.kernel_w, l.stride, l.padding, l.groups, l.stride_w,
          l.padding_w, l.padding_bottom, l.padding_right, l.dilation_h, l.dilation_w, l.vocab})
      if (d > kMaxDim) fail(n, "a size of " + std::to_string(d) + ": more than 2^24");
    return g_.add(std::move(l), inputs);
  }

  // The layer with value v's output, shaped `want` (a reshape when needed).
  int shaped(int n, const Value& v, const Dims& want) {
    const Dims& have = g_.layer(v.layer).out_shape.dims;
    if (have == want) return v.layer;
    if (elements_of(have) != elements_of(want))
      fail(n, "cannot view " + dims_text(have) + " as " + dims_text(want));
    Layer r = make_layer("", LayerKind::Reshape);
    r.target = want;
    return add_layer(n, r, {v.layer}, ".view");
  }
  // Value v as its full shape (batch included): only where the batch is 1.
  int full(int n, const Value& v) {
    if (batch_ != 1) fail(n, "an operation across the batch axis; import it with --batch 1");
    Dims want = v.shape;
    if (want.empty()) want.push_back(1);
    return shaped(n, v, want);
  }

  // Output `out` of node n is data of full shape `shape`, batch axis `batch`,
  // computed by `layer`; a reshape follows where lpsim's shape differs.
  void set_data(int n, int out, int layer, Dims shape, int batch) {
    const auto& p = g_model_.node(n);
    if (out >= p.output_size() || p.output(out).empty()) return;
    set_data_named(n, p.output(out), layer, std::move(shape), batch);
  }
  void set_data_named(int n, const std::string& name, int layer, Dims shape, int batch) {
    Value v;
    v.kind = VKind::Data;
    v.known = true;
    v.shape = std::move(shape);
    v.elem = onnx::TensorProto::FLOAT;
    v.batch = batch;
    if (v.batch >= 0 && (v.batch >= static_cast<int>(v.shape.size()) ||
                         v.shape[static_cast<std::size_t>(v.batch)] != batch_))
      v.batch = -1;
    if (elements_of(v.shape) < 0) fail(n, "output shape " + dims_text(v.shape) + " is too large");
    const Dims want = per_sample(n, v);
    const Dims& have = g_.layer(layer).out_shape.dims;
    if (have != want) {
      if (elements_of(have) != elements_of(want))
        fail(n, "lpsim's output shape " + dims_text(have) + " and the model's per-sample " +
                    dims_text(want) + " differ: the reader cannot represent this node");
      Layer r = make_layer("", LayerKind::Reshape);
      r.target = want;
      layer = add_layer(n, r, {layer}, ".view");
    }
    v.layer = layer;
    values_[name] = std::move(v);
  }
  // Output `out` is input `in` unchanged (Identity, Cast, Dropout at ratio 0).
  void alias(int n, int out, const Value& in) { set(n, out, in); }

  // ------------------------------------------------------------ the ops
  void node(int n);
  void fold(int n);  // a node without data inputs
  void uncosted(int n, const std::string& why);
  void conv(int n);
  void pool(int n, bool global);
  void gemm(int n);
  void matmul(int n);
  void batchnorm(int n);
  void layernorm(int n);
  void activation(int n, const std::string& function);
  void softmax(int n);
  void binary(int n, const std::string& function);
  void reduce(int n, const std::string& function);
  void flatten(int n);
  void reshape_like(int n, Dims out_shape);
  void transpose(int n);
  void concat(int n);
  void split(int n);
  void slice(int n);
  void gather(int n);
  void expand(int n);
  int window_input(int n, const Value& x, int spatial);
  void window_attrs(int n, Layer& l, const Dims& in_spatial, const Dims& kernel, Dims& out_spatial);

  int reshape_batch(const Value& in, const Dims& out) const;

  void classify_inputs();
  void read_initializers();
  void onnx_inference();
  bool known_op(const onnx::NodeProto& p) const;

  const onnx::ModelProto& m_;
  const onnx::GraphProto& g_model_;
  std::string where_;
  OnnxImportOptions opt_;
  Graph g_;
  std::int64_t opset_ = 0;
  std::int64_t batch_ = 1;
  std::unordered_map<std::string, Value> values_;
  std::unordered_map<std::string, std::vector<Use>> uses_;
  std::unordered_set<std::string> outputs_;
  std::unordered_set<int> fused_;  // nodes folded into an earlier layer (a MatMul's bias Add)
  std::set<std::string> used_names_;
  std::unordered_map<std::string, Dims> hinted_;  // shapes from the model / ONNX inference
  int first_uncosted_ = -1;
  OnnxImport result_;
};

// ------------------------------------------------------------------ set-up

void Importer::read_initializers() {
  for (const auto& t : g_model_.initializer()) {
    Value v;
    v.known = true;
    v.shape.assign(t.dims().begin(), t.dims().end());
    v.elem = t.data_type();
    const std::int64_t n = elements_of(v.shape);
    if (n < 0)
      fail("initializer '" + clean_name(t.name()) + "': shape " + dims_text(v.shape) +
           " is not a tensor shape");
    v.kind = is_float_type(v.elem) && n > 1 ? VKind::Param : VKind::Const;
    v.has_values = v.kind == VKind::Const && tensor_values(t, n, v.values);
    values_[t.name()] = std::move(v);
  }
}

// Non-initializer graph inputs: data, or parameters when every path from them
// ends in a weight operand (torch.onnx.export(export_params=False) lists the
// weights as inputs after the data).
void Importer::classify_inputs() {
  static const std::unordered_map<std::string, std::vector<int>> kWeightSlots = {
      {"Conv", {1, 2}},
      {"ConvTranspose", {1, 2}},
      {"Gemm", {1, 2}},
      {"MatMul", {1}},
      {"BatchNormalization", {1, 2, 3, 4}},
      {"LayerNormalization", {1, 2}},
      {"InstanceNormalization", {1, 2}},
      {"Gather", {0}},
      {"PRelu", {1}},
      {"Add", {0, 1}},
      {"Mul", {0, 1}},
      {"Sub", {0, 1}},
      {"Div", {0, 1}}};
  static const std::unordered_set<std::string> kPassThrough = {
      "Transpose", "Identity", "Cast", "Reshape", "Unsqueeze", "Squeeze", "Flatten"};
  // Memoized (a tensor read by many nodes is looked at once); a tensor met
  // again on its own path (a malformed, cyclic graph) counts as data.
  std::unordered_map<std::string, int> memo;  // 0 in progress, 1 weight only, 2 not
  std::function<bool(const std::string&, int)> weight_only = [&](const std::string& name,
                                                                 int depth) -> bool {
    auto [slot, fresh] = memo.try_emplace(name, 0);
    if (!fresh) return slot->second == 1;
    auto it = uses_.find(name);
    bool result = it != uses_.end() && !it->second.empty() && depth <= 8;
    for (std::size_t k = 0; result && k < it->second.size(); ++k) {
      const Use& u = it->second[k];
      const auto& p = g_model_.node(u.node);
      if (kPassThrough.count(p.op_type()) && u.slot == 0) {
        for (const auto& o : p.output())
          if (!o.empty() && !weight_only(o, depth + 1)) result = false;
        continue;
      }
      auto w = kWeightSlots.find(p.op_type());
      result = w != kWeightSlots.end() &&
               std::find(w->second.begin(), w->second.end(), u.slot) != w->second.end();
    }
    memo[name] = result ? 1 : 2;
    return result;
  };

  std::vector<const onnx::ValueInfoProto*> candidates;
  for (const auto& in : g_model_.input())
    if (!values_.count(in.name())) candidates.push_back(&in);
  std::vector<bool> is_param(candidates.size(), false);
  bool any_data = false;
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    is_param[i] = weight_only(candidates[i]->name(), 0);
    any_data = any_data || !is_param[i];
  }
  if (!any_data && !candidates.empty()) is_param[0] = false;

  // Shapes given on the command line, by name or (no name) the first data input.
  std::vector<bool> given_used(opt_.input_shapes.size(), false);
  for (const auto& [given_name, given_dims] : opt_.input_shapes) {
    bool found = given_name.empty() && !candidates.empty();
    for (std::size_t i = 0; i < candidates.size(); ++i)
      found = found || (candidates[i]->name() == given_name && !is_param[i]);
    if (!found)
      fail(
          "--input-shape " +
          (given_name.empty() ? std::string("(first input)") : "'" + clean_name(given_name) + "'") +
          ": the model has no such data input");
  }
  bool first_data = true;
  bool batch_set = false;
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    const auto& in = *candidates[i];
    const std::string name = clean_name(in.name());
    // The first node that reads it, for messages.
    std::string user;
    if (auto it = uses_.find(in.name()); it != uses_.end() && !it->second.empty())
      user = " (read by " + label(it->second.front().node) + ")";
    Value v;
    v.elem = in.type().has_tensor_type() ? in.type().tensor_type().elem_type()
                                         : onnx::TensorProto::FLOAT;
    const bool has_shape = in.type().has_tensor_type() && in.type().tensor_type().has_shape();
    std::vector<std::string> dim_names;
    Dims dims;
    if (has_shape) {
      for (const auto& d : in.type().tensor_type().shape().dim()) {
        dims.push_back(d.has_dim_value() ? d.dim_value() : -1);
        dim_names.push_back(d.has_dim_param() ? clean_name(d.dim_param()) : "");
      }
    }
    if (is_param[i]) {
      for (auto d : dims)
        if (d < 1)
          fail("input '" + name + "'" + user + " holds weights but its shape is not fixed");
      if (!has_shape) fail("input '" + name + "'" + user + " holds weights but has no shape");
      v.kind = VKind::Param;
      v.known = true;
      v.shape = dims;
      values_[in.name()] = std::move(v);
      continue;
    }
    bool from_option = false;
    for (std::size_t k = 0; k < opt_.input_shapes.size(); ++k) {
      const auto& [given_name, given_dims] = opt_.input_shapes[k];
      if ((given_name.empty() && first_data) || given_name == in.name()) {
        dims = given_dims;
        dim_names.assign(dims.size(), "");
        given_used[k] = true;
        from_option = true;
      }
    }
    first_data = false;
    if (!has_shape && !from_option)
      fail("input '" + name + "'" + user + " has no shape: give it with --input-shape, e.g. " +
           "--input-shape 1x3x224x224");
    for (std::size_t d = 0; d < dims.size(); ++d) {
      if (dims[d] >= 1) continue;
      if (dims[d] == 0)
        fail("input '" + name + "'" + user + ": dimension " + std::to_string(d) +
             " is 0: an empty tensor has nothing to cost");
      if (d == 0 && opt_.batch_dim && !from_option) {
        dims[0] = opt_.batch;  // a symbolic batch: --batch
        continue;
      }
      fail("input '" + name + "'" + user + ": dimension " + std::to_string(d) +
           (dim_names[d].empty() ? "" : " ('" + dim_names[d] + "')") + " of " +
           std::to_string(dims.size()) + " is dynamic: give its value with --input-shape");
    }
    if (elements_of(dims) < 0 || elements_of(dims) == 0)
      fail("input '" + name + "': shape " + dims_text(dims) + " is not a usable tensor shape");
    v.kind = VKind::Data;
    v.known = true;
    v.shape = dims;
    if (opt_.batch_dim && !dims.empty()) {
      if (batch_set && dims[0] != batch_)
        fail("input '" + name + "': its batch " + std::to_string(dims[0]) +
             " differs from another input's " + std::to_string(batch_));
      batch_ = dims[0];
      batch_set = true;
      v.batch = 0;
    }
    Layer l = make_layer(unique_name(name.empty() ? "input" : name), LayerKind::Input);
    Dims ps = dims;
    if (v.batch >= 0) ps.erase(ps.begin());
    if (ps.empty()) ps.push_back(1);
    for (auto d : ps)
      if (d > kMaxDim)
        fail("input '" + name + "': dimension " + std::to_string(d) + " is more than 2^24");
    l.out_shape.dims = ps;
    v.layer = g_.add(std::move(l), {});
    values_[in.name()] = std::move(v);
  }
  for (std::size_t k = 0; k < opt_.input_shapes.size(); ++k)
    if (!given_used[k])
      fail("--input-shape " +
           (opt_.input_shapes[k].first.empty() ? std::string("(first input)")
                                               : "'" + opt_.input_shapes[k].first + "'") +
           ": the model has no such data input");
  if (g_.size() == 0) fail("the model has no data input");
  result_.batch = batch_;
}

bool Importer::known_op(const onnx::NodeProto& p) const {
  static const std::unordered_set<std::string> kOps = {"Conv",
                                                       "Gemm",
                                                       "MatMul",
                                                       "BatchNormalization",
                                                       "LayerNormalization",
                                                       "Relu",
                                                       "Clip",
                                                       "LeakyRelu",
                                                       "Sigmoid",
                                                       "Tanh",
                                                       "HardSigmoid",
                                                       "HardSwish",
                                                       "Erf",
                                                       "Sqrt",
                                                       "Exp",
                                                       "Log",
                                                       "Neg",
                                                       "Abs",
                                                       "Reciprocal",
                                                       "MaxPool",
                                                       "AveragePool",
                                                       "GlobalAveragePool",
                                                       "GlobalMaxPool",
                                                       "Add",
                                                       "Mul",
                                                       "Sub",
                                                       "Div",
                                                       "Pow",
                                                       "Max",
                                                       "Min",
                                                       "ReduceMean",
                                                       "ReduceSum",
                                                       "ReduceMax",
                                                       "Concat",
                                                       "Split",
                                                       "Slice",
                                                       "Flatten",
                                                       "Reshape",
                                                       "Transpose",
                                                       "Squeeze",
                                                       "Unsqueeze",
                                                       "Gather",
                                                       "Softmax",
                                                       "LogSoftmax",
                                                       "Dropout",
                                                       "Constant",
                                                       "Identity",
                                                       "Shape",
                                                       "Cast",
                                                       "Expand",
                                                       "ConstantOfShape",
                                                       "Range",
                                                       "Equal",
                                                       "Where",
                                                       "Floor",
                                                       "Ceil",
                                                       "Size",
                                                       "Not"};
  return (p.domain().empty() || p.domain() == "ai.onnx") && kOps.count(p.op_type());
}

// Output shapes for ops the reader does not cost, from ONNX's own shape
// inference (with the data inputs' shapes fixed) and the model's value_info.
void Importer::onnx_inference() {
  auto take = [&](const onnx::ValueInfoProto& vi) {
    if (!vi.type().has_tensor_type() || !vi.type().tensor_type().has_shape()) return;
    Dims d;
    for (const auto& dim : vi.type().tensor_type().shape().dim()) {
      if (!dim.has_dim_value() || dim.dim_value() < 0) return;
      d.push_back(dim.dim_value());
    }
    if (elements_of(d) >= 0) hinted_[vi.name()] = d;
  };
  for (const auto& vi : g_model_.value_info()) take(vi);
  for (const auto& vi : g_model_.output()) take(vi);
  bool needed = false;
  for (const auto& p : g_model_.node()) needed = needed || !known_op(p);
  if (!needed || !opt_.onnx_shape_inference) return;
  onnx::ModelProto copy = m_;
  auto* graph = copy.mutable_graph();
  for (auto& in : *graph->mutable_input()) {
    auto it = values_.find(in.name());
    if (it == values_.end() || !it->second.known) continue;
    auto* shape = in.mutable_type()->mutable_tensor_type()->mutable_shape();
    shape->clear_dim();
    for (auto d : it->second.shape) shape->add_dim()->set_dim_value(d);
  }
  try {
    onnx::ShapeInferenceOptions options{false, 0, true};
    onnx::shape_inference::InferShapes(copy, onnx::OpSchemaRegistry::Instance(), options);
  } catch (const std::exception&) {
    return;  // no hints: a node without a shape is refused where it is met
  }
  for (const auto& vi : copy.graph().value_info()) take(vi);
  for (const auto& vi : copy.graph().output()) take(vi);
}

// ------------------------------------------------------------------ driver

OnnxImport Importer::run() {
  // The opset of the default domain.
  bool found = false;
  for (const auto& o : m_.opset_import()) {
    if (o.domain().empty() || o.domain() == "ai.onnx") {
      opset_ = o.version();
      found = true;
    }
  }
  const std::string first = g_model_.node_size() > 0 ? " (first " + label(0) + ")" : std::string();
  if (!found) fail("the model declares no opset of the default ONNX domain" + first);
  if (opset_ < kOnnxMinOpset || opset_ > kOnnxMaxOpset)
    fail("opset " + std::to_string(opset_) + first + ": unsupported; lpsim reads opsets " +
         std::to_string(kOnnxMinOpset) + " to " + std::to_string(kOnnxMaxOpset) +
         " (re-export with opset_version in that range)");
  result_.opset = opset_;
  result_.nodes = g_model_.node_size();
  if (g_model_.node_size() == 0) fail("the graph has no nodes");

  for (int n = 0; n < g_model_.node_size(); ++n) {
    const auto& p = g_model_.node(n);
    for (int i = 0; i < p.input_size(); ++i)
      if (!p.input(i).empty()) uses_[p.input(i)].push_back({n, i});
  }
  for (const auto& o : g_model_.output()) outputs_.insert(o.name());
  read_initializers();
  classify_inputs();
  onnx_inference();

  for (int n = 0; n < g_model_.node_size(); ++n) {
    if (fused_.count(n)) continue;
    if (g_model_.node(n).output_size() == 0) fail(n, "has no outputs");
    node(n);
  }

  // Outputs: the data ones, with a loss after a single one.
  std::vector<int> data_outputs;
  for (const auto& o : g_model_.output()) {
    auto it = values_.find(o.name());
    if (it == values_.end())
      fail("graph output '" + clean_name(o.name()) + "' is produced by no node");
    if (it->second.known) result_.output_shapes[o.name()] = it->second.shape;
    if (it->second.kind == VKind::Data) data_outputs.push_back(it->second.layer);
  }
  if (data_outputs.empty())
    result_.notes.push_back("no graph output depends on the data input: the graph has no work");
  if (data_outputs.empty()) {
  } else if (opt_.loss && data_outputs.size() == 1 &&
             g_.layer(data_outputs[0]).kind != LayerKind::Softmax) {
    Layer loss = make_layer(unique_name("loss"), LayerKind::Softmax);
    g_.add(std::move(loss), {data_outputs[0]});
    result_.notes.push_back(
        "a softmax + cross-entropy loss layer 'loss' follows the output (training needs a loss)");
  } else if (opt_.loss && data_outputs.size() > 1) {
    result_.notes.push_back(std::to_string(data_outputs.size()) +
                            " outputs: no loss layer added (lpsim adds one after a single output)");
  }
  try {
    g_.infer_shapes();
  } catch (const InputError& e) {
    fail(e.what());
  }
  if (opt_.strict && first_uncosted_ >= 0)
    fail(first_uncosted_, "an op lpsim cannot cost (--strict); in all, " + result_.uncosted_text());
  result_.graph = std::move(g_);
  return std::move(result_);
}

void Importer::node(int n) {
  const auto& p = g_model_.node(n);
  bool data = false;
  for (int i = 0; i < p.input_size(); ++i)
    if (has_input(n, i)) data = data || input(n, i).kind == VKind::Data;
  const bool default_domain = p.domain().empty() || p.domain() == "ai.onnx";
  const std::string& op = p.op_type();
  if (!data) {
    fold(n);
    return;
  }
  if (!default_domain) {
    uncosted(n, clean_name(p.domain()) + "." + clean_name(op));
    return;
  }
  // Most ops take the data as their first input; where the data reaches
  // another input (a weight computed from the data) the op is not costed.
  static const std::unordered_set<std::string> kAnyInput = {
      "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Concat", "MatMul", "Gemm", "Gather"};
  if (!kAnyInput.count(op) && (!has_input(n, 0) || input(n, 0).kind != VKind::Data)) {
    uncosted(n, clean_name(op));
    return;
  }
  if (op == "Conv") return conv(n);
  if (op == "MaxPool" || op == "AveragePool") return pool(n, false);
  if (op == "GlobalAveragePool" || op == "GlobalMaxPool") return pool(n, true);
  if (op == "Gemm") return gemm(n);
  if (op == "MatMul") return matmul(n);
  if (op == "BatchNormalization") return batchnorm(n);
  if (op == "LayerNormalization") return layernorm(n);
  if (op == "Relu") return activation(n, "relu");
  if (op == "Sigmoid") return activation(n, "sigmoid");
  if (op == "Tanh") return activation(n, "tanh");
  if (op == "LeakyRelu") return activation(n, "leaky_relu");
  if (op == "HardSigmoid") return activation(n, "hard_sigmoid");
  if (op == "HardSwish") return activation(n, "hard_swish");
  if (op == "Erf") return activation(n, "erf");
  if (op == "Sqrt") return activation(n, "sqrt");
  if (op == "Exp") return activation(n, "exp");
  if (op == "Log") return activation(n, "log");
  if (op == "Neg") return activation(n, "neg");
  if (op == "Abs") return activation(n, "abs");
  if (op == "Reciprocal") return activation(n, "reciprocal");
  if (op == "Clip") {
    double lo = -INFINITY, hi = INFINITY;
    if (opset_ < 11) {
      lo = attr_float(n, "min", lo);
      hi = attr_float(n, "max", hi);
    } else {
      for (int slot : {1, 2}) {
        if (!has_input(n, slot)) continue;
        const Value& v = input(n, slot);
        if (v.kind == VKind::Data || !v.has_values || v.values.size() != 1) {
          (slot == 1 ? lo : hi) = std::nan("");
          continue;
        }
        (slot == 1 ? lo : hi) = v.values[0];
      }
    }
    const std::string f = lo == 0 && hi == 6          ? "relu6"
                          : lo == 0 && std::isinf(hi) ? "relu"
                                                      : "clip";
    return activation(n, f);
  }
  if (op == "Dropout") {
    double ratio = 0.5;
    if (opset_ < 12)
      ratio = attr_float(n, "ratio", 0.5);
    else if (has_input(n, 1)) {
      const Value& r = input(n, 1);
      if (r.kind != VKind::Data && r.has_values && r.values.size() == 1) ratio = r.values[0];
    }
    if (ratio == 0) {
      alias(n, 0, input(n, 0));
      Value mask;
      mask.known = true;
      mask.shape = input(n, 0).shape;
      mask.elem = onnx::TensorProto::BOOL;
      set(n, 1, mask);
      return;
    }
    return activation(n, "dropout");
  }
  if (op == "Softmax" || op == "LogSoftmax") return softmax(n);
  if (op == "Add") return binary(n, "add");
  if (op == "Sub") return binary(n, "sub");
  if (op == "Mul") return binary(n, "mul");
  if (op == "Div") return binary(n, "div");
  if (op == "Pow") return binary(n, "pow");
  if (op == "Max" || op == "Min") {
    if (p.input_size() == 1) return alias(n, 0, input(n, 0));
    if (p.input_size() != 2) return uncosted(n, op);
    return binary(n, op == "Max" ? "max" : "min");
  }
  if (op == "ReduceMean") return reduce(n, "mean");
  if (op == "ReduceSum") return reduce(n, "sum");
  if (op == "ReduceMax") return reduce(n, "max");
  if (op == "Flatten") return flatten(n);
  if (op == "Reshape" || op == "Squeeze" || op == "Unsqueeze") {
    const Value& x = known_input(n, 0);
    Dims out;
    if (op == "Reshape") {
      Dims target;
      if (opset_ < 5)
        attr_ints(n, "shape", target);  // before opset 5 an attribute
      else
        target = int_values(n, 1, "shape");
      const bool allowzero = attr_int(n, "allowzero", 0) != 0;
      std::int64_t known = 1, infer = -1;
      for (std::size_t i = 0; i < target.size(); ++i) {
        std::int64_t d = target[i];
        if (d == 0 && !allowzero) {
          if (i >= x.shape.size())
            fail(n, "shape: 0 at axis " + std::to_string(i) + " copies no input axis");
          d = x.shape[i];
        }
        if (d == -1) {
          if (infer >= 0) fail(n, "shape " + dims_text(target) + ": -1 twice");
          infer = static_cast<std::int64_t>(i);
          out.push_back(1);
          continue;
        }
        if (d < 0) fail(n, "shape " + dims_text(target) + ": a dimension < -1");
        if (__builtin_mul_overflow(known, d, &known) || known > kMaxElements)
          fail(n, "shape " + dims_text(target) + " is too large");
        out.push_back(d);
      }
      const std::int64_t total = elements_of(x.shape);
      if (infer >= 0) {
        if (known == 0 || total % known != 0)
          fail(n, "cannot reshape " + dims_text(x.shape) + " to " + dims_text(target));
        out[static_cast<std::size_t>(infer)] = total / known;
      }
      if (elements_of(out) != total)
        fail(n, "cannot reshape " + dims_text(x.shape) + " (" + std::to_string(total) +
                    " elements) to " + dims_text(out));
    } else if (op == "Squeeze") {
      bool present = false;
      Dims axes = ints_attr_or_input(n, "axes", 1, present);
      std::vector<bool> drop(x.shape.size(), false);
      if (!present) {
        for (std::size_t i = 0; i < x.shape.size(); ++i) drop[i] = x.shape[i] == 1;
      }
      for (auto a : axes) {
        const auto i = static_cast<std::size_t>(axis_of(n, a, x.shape.size(), "axes:"));
        if (x.shape[i] != 1)
          fail(n, "axes: axis " + std::to_string(a) + " has size " + std::to_string(x.shape[i]) +
                      ", not 1");
        drop[i] = true;
      }
      for (std::size_t i = 0; i < x.shape.size(); ++i)
        if (!drop[i]) out.push_back(x.shape[i]);
      int b = x.batch;
      if (b >= 0) {
        if (drop[static_cast<std::size_t>(b)])
          b = -1;
        else
          b -= static_cast<int>(std::count(drop.begin(), drop.begin() + b, true));
      }
      set_data(n, 0, x.layer, out, b);  // the data stays where it is: a view
      return;
    } else {  // Unsqueeze
      bool present = false;
      Dims axes = ints_attr_or_input(n, "axes", 1, present);
      const std::size_t rank = x.shape.size() + axes.size();
      std::vector<bool> added(rank, false);
      for (auto a : axes) {
        const auto i = static_cast<std::size_t>(axis_of(n, a, rank, "axes:"));
        if (added[i]) fail(n, "axes: " + std::to_string(a) + " twice");
        added[i] = true;
      }
      std::size_t k = 0;
      int b = -1;
      for (std::size_t i = 0; i < rank; ++i) {
        if (added[i]) {
          out.push_back(1);
        } else {
          if (static_cast<int>(k) == x.batch) b = static_cast<int>(i);
          out.push_back(x.shape[k++]);
        }
      }
      set_data(n, 0, x.layer, out, b);
      return;
    }
    return reshape_like(n, out);
  }
  if (op == "Transpose") return transpose(n);
  if (op == "Concat") return concat(n);
  if (op == "Split") return split(n);
  if (op == "Slice") return slice(n);
  if (op == "Gather") return gather(n);
  if (op == "Expand") return expand(n);
  if (op == "Identity" || op == "Cast") return alias(n, 0, input(n, 0));
  if (op == "Shape") {
    const Value& x = known_input(n, 0);
    Value v;
    v.known = true;
    std::int64_t start = attr_int(n, "start", 0),
                 end = attr_int(n, "end", static_cast<std::int64_t>(x.shape.size()));
    const auto r = static_cast<std::int64_t>(x.shape.size());
    if (start < 0) start += r;
    if (end < 0) end += r;
    start = std::clamp<std::int64_t>(start, 0, r);
    end = std::clamp<std::int64_t>(end, start, r);
    v.shape = {end - start};
    v.elem = onnx::TensorProto::INT64;
    v.has_values = true;
    for (std::int64_t i = start; i < end; ++i)
      v.values.push_back(static_cast<double>(x.shape[static_cast<std::size_t>(i)]));
    set(n, 0, std::move(v));
    return;
  }
  if (op == "Size") {
    const Value& x = known_input(n, 0);
    Value v;
    v.known = true;
    v.elem = onnx::TensorProto::INT64;
    v.has_values = true;
    v.values = {static_cast<double>(elements_of(x.shape))};
    set(n, 0, std::move(v));
    return;
  }
  uncosted(n, clean_name(op));
}

// ------------------------------------------------------------------ constants

void Importer::fold(int n) {
  const auto& p = g_model_.node(n);
  const std::string& op = p.op_type();
  bool param = false;
  for (int i = 0; i < p.input_size(); ++i)
    if (has_input(n, i)) param = param || input(n, i).kind == VKind::Param;
  auto hinted = [&](int out) {
    Value v;
    v.kind = param ? VKind::Param : VKind::Const;
    if (out < p.output_size()) {
      auto it = hinted_.find(p.output(out));
      if (it != hinted_.end()) {
        v.known = true;
        v.shape = it->second;
      }
    }
    return v;
  };
  const bool default_domain = p.domain().empty() || p.domain() == "ai.onnx";
  auto vals = [&](int i) -> const Value& { return input(n, i); };
  auto all_values = [&](int count) {
    for (int i = 0; i < count; ++i)
      if (!has_input(n, i) || !vals(i).has_values || !vals(i).known) return false;
    return true;
  };
  Value out;
  out.kind = param ? VKind::Param : VKind::Const;
  if (!default_domain) {
    for (int o = 0; o < p.output_size(); ++o) set(n, o, hinted(o));
    return;
  }
  if (op == "Constant") {
    out.known = true;
    if (const auto* a = attr(n, "value")) {
      out.shape.assign(a->t().dims().begin(), a->t().dims().end());
      out.elem = a->t().data_type();
      const std::int64_t count = elements_of(out.shape);
      if (count < 0) fail(n, "value: shape " + dims_text(out.shape) + " is not a tensor shape");
      out.has_values = tensor_values(a->t(), count, out.values);
    } else if (const auto* f = attr(n, "value_float")) {
      out.elem = onnx::TensorProto::FLOAT;
      out.has_values = true;
      out.values = {f->f()};
    } else if (const auto* i = attr(n, "value_int")) {
      out.elem = onnx::TensorProto::INT64;
      out.has_values = true;
      out.values = {static_cast<double>(i->i())};
    } else if (const auto* fs = attr(n, "value_floats")) {
      out.elem = onnx::TensorProto::FLOAT;
      out.has_values = fs->floats_size() <= kMaxValues;
      out.shape = {fs->floats_size()};
      if (out.has_values) out.values.assign(fs->floats().begin(), fs->floats().end());
    } else if (const auto* is = attr(n, "value_ints")) {
      out.elem = onnx::TensorProto::INT64;
      out.has_values = is->ints_size() <= kMaxValues;
      out.shape = {is->ints_size()};
      if (out.has_values)
        for (auto x : is->ints()) out.values.push_back(static_cast<double>(x));
    } else {
      out.known = false;
    }
    set(n, 0, std::move(out));
    return;
  }
  if (op == "Identity" || op == "Cast" || op == "Floor" || op == "Ceil" || op == "Neg" ||
      op == "Sqrt" || op == "Not" || op == "Reciprocal" || op == "Abs" || op == "Relu") {
    if (!has_input(n, 0)) return set(n, 0, hinted(0));
    out = vals(0);
    if (out.kind == VKind::Data) out.kind = VKind::Const;
    if (op == "Cast") {
      const int to = static_cast<int>(attr_int(n, "to", onnx::TensorProto::FLOAT));
      out.elem = to;
      if (is_int_type(to))
        for (double& x : out.values) x = std::trunc(x);
    }
    for (double& x : out.values) {
      if (op == "Floor") x = std::floor(x);
      if (op == "Ceil") x = std::ceil(x);
      if (op == "Neg") x = -x;
      if (op == "Sqrt") x = std::sqrt(x);
      if (op == "Not") x = x == 0 ? 1 : 0;
      if (op == "Reciprocal") x = 1 / x;
      if (op == "Abs") x = std::fabs(x);
      if (op == "Relu") x = std::max(0.0, x);
    }
    set(n, 0, std::move(out));
    return;
  }
  static const std::unordered_set<std::string> kBinary = {"Add", "Sub", "Mul", "Div",  "Equal",
                                                          "Pow", "Max", "Min", "Less", "Greater"};
  if (kBinary.count(op) && p.input_size() == 2 && vals(0).known && vals(1).known) {
    const Value& a = vals(0);
    const Value& b = vals(1);
    // Broadcast shapes.
    const std::size_t r = std::max(a.shape.size(), b.shape.size());
    Dims s(r, 1);
    for (std::size_t i = 0; i < r; ++i) {
      const std::int64_t x = i < r - a.shape.size() ? 1 : a.shape[i - (r - a.shape.size())];
      const std::int64_t y = i < r - b.shape.size() ? 1 : b.shape[i - (r - b.shape.size())];
      if (x != y && x != 1 && y != 1)
        fail(n,
             "shapes " + dims_text(a.shape) + " and " + dims_text(b.shape) + " do not broadcast");
      s[i] = x == 1 ? y : x;
    }
    out.known = true;
    out.shape = s;
    out.elem = op == "Equal" || op == "Less" || op == "Greater" ? onnx::TensorProto::BOOL : a.elem;
    const std::int64_t count = elements_of(s);
    if (a.has_values && b.has_values && count >= 0 && count <= kMaxValues &&
        (a.values.size() == 1 || b.values.size() == 1 || a.shape == b.shape)) {
      out.has_values = true;
      const bool integer = is_int_type(a.elem) && is_int_type(b.elem);
      for (std::int64_t i = 0; i < count; ++i) {
        const double x = a.values.size() == 1 ? a.values[0] : a.values[static_cast<std::size_t>(i)];
        const double y = b.values.size() == 1 ? b.values[0] : b.values[static_cast<std::size_t>(i)];
        double z = 0;
        if (op == "Add") z = x + y;
        if (op == "Sub") z = x - y;
        if (op == "Mul") z = x * y;
        if (op == "Div") z = integer ? (y == 0 ? 0 : std::trunc(x / y)) : x / y;
        if (op == "Pow") z = std::pow(x, y);
        if (op == "Equal") z = x == y;
        if (op == "Less") z = x < y;
        if (op == "Greater") z = x > y;
        if (op == "Max") z = std::max(x, y);
        if (op == "Min") z = std::min(x, y);
        out.values.push_back(z);
      }
    }
    set(n, 0, std::move(out));
    return;
  }
  if (op == "Shape" && has_input(n, 0) && vals(0).known) {
    const Value& x = vals(0);
    const auto r = static_cast<std::int64_t>(x.shape.size());
    std::int64_t start = attr_int(n, "start", 0), end = attr_int(n, "end", r);
    if (start < 0) start += r;
    if (end < 0) end += r;
    start = std::clamp<std::int64_t>(start, 0, r);
    end = std::clamp<std::int64_t>(end, start, r);
    out.kind = VKind::Const;
    out.known = true;
    out.shape = {end - start};
    out.elem = onnx::TensorProto::INT64;
    out.has_values = true;
    for (std::int64_t i = start; i < end; ++i)
      out.values.push_back(static_cast<double>(x.shape[static_cast<std::size_t>(i)]));
    set(n, 0, std::move(out));
    return;
  }
  if ((op == "Unsqueeze" || op == "Squeeze" || op == "Reshape" || op == "Flatten" ||
       op == "Transpose") &&
      has_input(n, 0) && vals(0).known) {
    const Value& x = vals(0);
    out = x;
    Dims s = x.shape;
    bool ok = true;
    if (op == "Unsqueeze") {
      bool present = false;
      Dims axes = ints_attr_or_input(n, "axes", 1, present);
      const std::size_t rank = s.size() + axes.size();
      std::vector<bool> added(rank, false);
      for (auto a : axes) {
        const auto i = static_cast<std::size_t>(axis_of(n, a, rank, "axes:"));
        added[i] = true;
      }
      Dims t;
      std::size_t k = 0;
      for (std::size_t i = 0; i < rank; ++i)
        t.push_back(added[i] ? 1 : (k < s.size() ? s[k++] : 1));
      s = t;
    } else if (op == "Squeeze") {
      bool present = false;
      Dims axes = ints_attr_or_input(n, "axes", 1, present);
      std::vector<bool> drop(s.size(), false);
      if (!present)
        for (std::size_t i = 0; i < s.size(); ++i) drop[i] = s[i] == 1;
      for (auto a : axes) drop[static_cast<std::size_t>(axis_of(n, a, s.size(), "axes:"))] = true;
      Dims t;
      for (std::size_t i = 0; i < s.size(); ++i)
        if (!drop[i]) t.push_back(s[i]);
      s = t;
    } else if (op == "Reshape") {
      if (has_input(n, 1) && vals(1).has_values) {
        Dims target = int_values(n, 1, "shape");
        std::int64_t known = 1;
        int infer = -1;
        for (std::size_t i = 0; i < target.size(); ++i) {
          if (target[i] == 0 && attr_int(n, "allowzero", 0) == 0 && i < s.size()) target[i] = s[i];
          if (target[i] == -1)
            infer = static_cast<int>(i);
          else if (target[i] < 0 || __builtin_mul_overflow(known, target[i], &known))
            ok = false;
        }
        const std::int64_t total = elements_of(s);
        if (ok && infer >= 0) {
          if (known > 0 && total % known == 0)
            target[static_cast<std::size_t>(infer)] = total / known;
          else
            ok = false;
        }
        s = target;
        ok = ok && elements_of(s) == total;
      } else {
        ok = false;
      }
    } else if (op == "Flatten") {
      const std::int64_t axis = flatten_axis(attr_int(n, "axis", 1), s.size());
      if (axis < 0 || axis > static_cast<std::int64_t>(s.size())) fail(n, "axis out of range");
      std::int64_t a = 1, b = 1;
      for (std::size_t i = 0; i < s.size(); ++i)
        (static_cast<std::int64_t>(i) < axis ? a : b) *= s[i];
      s = {a, b};
    } else {  // Transpose
      Dims perm;
      if (!attr_ints(n, "perm", perm))
        for (std::size_t i = 0; i < s.size(); ++i)
          perm.push_back(static_cast<std::int64_t>(s.size() - 1 - i));
      if (perm.size() != s.size())
        fail(n, "perm " + dims_text(perm) + " does not fit the input " + dims_text(s));
      Dims t;
      for (auto q : perm)
        t.push_back(s[static_cast<std::size_t>(axis_of(n, q, s.size(), "perm: axis"))]);
      s = t;
      out.has_values = out.has_values && s.size() <= 1;
    }
    if (!ok) return set(n, 0, hinted(0));
    out.shape = s;
    out.known = true;
    set(n, 0, std::move(out));
    return;
  }
  if (op == "Concat" && all_values(p.input_size())) {
    const std::int64_t axis = attr_int(n, "axis", 0);
    bool flat = true;
    for (int i = 0; i < p.input_size(); ++i) flat = flat && vals(i).shape.size() == 1;
    if (flat && (axis == 0 || axis == -1)) {
      out.known = true;
      out.elem = vals(0).elem;
      out.has_values = true;
      for (int i = 0; i < p.input_size(); ++i)
        out.values.insert(out.values.end(), vals(i).values.begin(), vals(i).values.end());
      out.shape = {static_cast<std::int64_t>(out.values.size())};
      if (out.values.size() <= static_cast<std::size_t>(kMaxValues)) {
        set(n, 0, std::move(out));
        return;
      }
    }
  }
  if (op == "Gather" && p.input_size() == 2 && all_values(2) && vals(0).shape.size() <= 1) {
    const Value& d = vals(0);
    out.known = true;
    out.elem = d.elem;
    out.shape = vals(1).shape;
    out.has_values = true;
    for (double x : vals(1).values) {
      std::int64_t i = as_int(x);
      const auto size = static_cast<std::int64_t>(d.values.size());
      if (i < 0) i += size;
      if (i < 0 || i >= size) fail(n, "index " + std::to_string(as_int(x)) + " is out of range");
      out.values.push_back(d.values[static_cast<std::size_t>(i)]);
    }
    set(n, 0, std::move(out));
    return;
  }
  if (op == "Slice" && has_input(n, 0) && vals(0).known && vals(0).has_values &&
      vals(0).shape.size() == 1) {
    bool ps = false, pe = false, pa = false, pst = false;
    Dims starts, ends, axes, steps;
    if (opset_ < 10) {  // attributes before opset 10
      attr_ints(n, "starts", starts);
      attr_ints(n, "ends", ends);
    } else {
      starts = ints_attr_or_input(n, "starts", 1, ps);
      ends = ints_attr_or_input(n, "ends", 2, pe);
      axes = ints_attr_or_input(n, "axes", 3, pa);
      steps = ints_attr_or_input(n, "steps", 4, pst);
    }
    if (starts.size() == 1 && ends.size() == 1) {
      const auto size = static_cast<std::int64_t>(vals(0).values.size());
      const std::int64_t step = steps.empty() ? 1 : std::min<std::int64_t>(steps[0], size + 1);
      if (step > 0) {
        std::int64_t s = starts[0] < 0 ? starts[0] + size : starts[0];
        std::int64_t e = ends[0] < 0 ? ends[0] + size : ends[0];
        s = std::clamp<std::int64_t>(s, 0, size);
        e = std::clamp<std::int64_t>(e, 0, size);
        out.known = true;
        out.elem = vals(0).elem;
        out.has_values = true;
        for (std::int64_t i = s; i < e; i += step)
          out.values.push_back(vals(0).values[static_cast<std::size_t>(i)]);
        out.shape = {static_cast<std::int64_t>(out.values.size())};
        set(n, 0, std::move(out));
        return;
      }
    }
  }
  if (op == "ConstantOfShape" && has_input(n, 0) && vals(0).has_values) {
    const Dims s = int_values(n, 0, "shape");
    for (auto d : s)
      if (d < 0) fail(n, "shape " + dims_text(s) + ": a negative dimension");
    out.known = true;
    out.shape = s;
    out.elem = onnx::TensorProto::FLOAT;
    double value = 0;
    if (const auto* a = attr(n, "value")) {
      out.elem = a->t().data_type();
      std::vector<double> v;
      if (tensor_values(a->t(), 1, v) && v.size() == 1) value = v[0];
    }
    const std::int64_t count = elements_of(s);
    if (count < 0) fail(n, "shape " + dims_text(s) + " is too large");
    if (count <= kMaxValues) {
      out.has_values = true;
      out.values.assign(static_cast<std::size_t>(count), value);
    }
    set(n, 0, std::move(out));
    return;
  }
  if (op == "Range" && all_values(3) && vals(0).values.size() == 1 && vals(1).values.size() == 1 &&
      vals(2).values.size() == 1) {
    const double start = vals(0).values.at(0), limit = vals(1).values.at(0),
                 delta = vals(2).values.at(0);
    if (delta == 0 || !std::isfinite(start) || !std::isfinite(limit) || !std::isfinite(delta))
      fail(n, "delta is 0 or a bound is not finite");
    const double count = std::max(0.0, std::ceil((limit - start) / delta));
    if (count > static_cast<double>(kMaxValues)) return set(n, 0, hinted(0));
    out.known = true;
    out.elem = vals(0).elem;
    out.has_values = true;
    for (std::int64_t i = 0; i < static_cast<std::int64_t>(count); ++i)
      out.values.push_back(start + static_cast<double>(i) * delta);
    out.shape = {static_cast<std::int64_t>(out.values.size())};
    set(n, 0, std::move(out));
    return;
  }
  if (op == "Where" && p.input_size() == 3 && all_values(3)) {
    const Value& c = vals(0);
    const Value& x = vals(1);
    const Value& y = vals(2);
    const std::size_t count = std::max({c.values.size(), x.values.size(), y.values.size()});
    auto at = [&](const Value& v, std::size_t i) {
      return v.values.size() == 1 ? v.values[0] : v.values.at(i);
    };
    bool same = true;
    for (const Value* v : {&c, &x, &y})
      same = same && (v->values.size() == 1 || v->values.size() == count);
    if (same) {
      out.known = true;
      out.shape = c.values.size() == count ? c.shape : x.values.size() == count ? x.shape : y.shape;
      out.elem = x.elem;
      out.has_values = true;
      for (std::size_t i = 0; i < count; ++i)
        out.values.push_back(at(c, i) != 0 ? at(x, i) : at(y, i));
      set(n, 0, std::move(out));
      return;
    }
  }
  // Anything else on weights or constants: its shape where ONNX knows it.
  for (int o = 0; o < p.output_size(); ++o) set(n, o, hinted(o));
}

// ------------------------------------------------------------------ data ops

void Importer::uncosted(int n, const std::string& op) {
  const auto& p = g_model_.node(n);
  ++result_.uncosted[op];
  if (first_uncosted_ < 0) first_uncosted_ = n;
  // The first data input carries on, reshaped or copied to each output's shape.
  const Value* x = nullptr;
  for (int i = 0; i < p.input_size() && !x; ++i)
    if (has_input(n, i) && input(n, i).kind == VKind::Data) x = &input(n, i);
  if (!x) fail(n, "an op lpsim cannot cost, without a data input");
  for (int o = 0; o < p.output_size(); ++o) {
    if (p.output(o).empty()) continue;
    auto it = hinted_.find(p.output(o));
    if (it == hinted_.end())
      fail(n, "an op lpsim cannot cost, and the shape of its output '" + clean_name(p.output(o)) +
                  "' is unknown (ONNX's shape inference gives none)");
    const Dims& s = it->second;
    // The batch stays the first axis where the output starts with it.
    const int b = x->batch == 0 && !s.empty() && s[0] == batch_ ? 0 : -1;
    Value v;
    v.kind = VKind::Data;
    v.known = true;
    v.shape = s;
    v.batch = b;
    const Dims want = per_sample(n, v);
    const int src = x->layer;
    Layer l = make_layer("", elements_of(want) == elements_of(g_.layer(src).out_shape.dims)
                                 ? LayerKind::Reshape
                                 : LayerKind::Copy);
    l.target = want;
    const int layer = add_layer(n, l, {src}, o == 0 ? "" : "." + std::to_string(o));
    set_data(n, o, layer, s, b);
  }
}

// The [C,H,W] layer of a convolution's or pooling's input (a 1-D window's
// [C,L] becomes [C,1,L]); `spatial` is 1 or 2.
int Importer::window_input(int n, const Value& x, int spatial) {
  if (x.batch != 0 && batch_ != 1)
    fail(n, "its input's batch is not its first axis; import it with --batch 1");
  if (x.shape.size() != static_cast<std::size_t>(spatial) + 2)
    fail(n, "input shape " + dims_text(x.shape) + " has no batch, channel and " +
                std::to_string(spatial) + " spatial axes");
  if (x.shape[0] != batch_ && x.batch != 0 && x.shape[0] != 1)
    fail(n, "input shape " + dims_text(x.shape) + ": a batch of " + std::to_string(x.shape[0]) +
                " inside one sample");
  Dims want(x.shape.begin() + 1, x.shape.end());
  if (spatial == 1) want.insert(want.begin() + 1, 1);
  return shaped(n, x, want);
}

// strides, pads (or auto_pad), dilations of a Conv / MaxPool / AveragePool
// over `in_spatial` (1 or 2 axes) with `kernel`; fills the window of l (2-D:
// a 1-D window is [1, k]) and the model's output extents.
void Importer::window_attrs(int n, Layer& l, const Dims& in, const Dims& kernel, Dims& out) {
  const std::size_t s = in.size();
  Dims strides, dil, pads;
  if (!attr_ints(n, "strides", strides)) strides.assign(s, 1);
  if (!attr_ints(n, "dilations", dil)) dil.assign(s, 1);
  const bool ceil_mode = attr_int(n, "ceil_mode", 0) != 0;
  const std::string auto_pad = attr_string(n, "auto_pad", "NOTSET");
  if (strides.size() != s || dil.size() != s || kernel.size() != s)
    fail(n, "strides, dilations and kernel_shape must have " + std::to_string(s) + " values");
  for (std::size_t i = 0; i < s; ++i) {
    if (strides[i] < 1 || strides[i] > kMaxDim)
      fail(n, "strides " + dims_text(strides) + ": must be 1..2^24");
    if (dil[i] < 1 || dil[i] > kMaxDim)
      fail(n, "dilations " + dims_text(dil) + ": must be 1..2^24");
    if (kernel[i] < 1 || kernel[i] > kMaxDim)
      fail(n, "kernel " + dims_text(kernel) + ": must be 1..2^24");
  }
  out.assign(s, 0);
  Dims begin(s, 0), end(s, 0);
  if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    for (std::size_t i = 0; i < s; ++i) {
      out[i] = (in[i] + strides[i] - 1) / strides[i];
      const std::int64_t total = std::max<std::int64_t>(
          0, (out[i] - 1) * strides[i] + (kernel[i] - 1) * dil[i] + 1 - in[i]);
      begin[i] = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      end[i] = total - begin[i];
    }
  } else if (auto_pad == "VALID" || auto_pad == "NOTSET" || auto_pad.empty()) {
    if (auto_pad != "VALID" && attr_ints(n, "pads", pads)) {
      if (pads.size() != 2 * s)
        fail(n, "pads " + dims_text(pads) + ": must have " + std::to_string(2 * s) + " values");
      for (std::size_t i = 0; i < s; ++i) {
        begin[i] = pads[i];
        end[i] = pads[i + s];
        if (begin[i] < 0 || end[i] < 0 || begin[i] > kMaxDim || end[i] > kMaxDim)
          fail(n, "pads " + dims_text(pads) + ": must be 0..2^24");
      }
    }
    for (std::size_t i = 0; i < s; ++i) {
      const std::int64_t span = in[i] + begin[i] + end[i] - ((kernel[i] - 1) * dil[i] + 1);
      if (span < 0) fail(n, "the window " + dims_text(kernel) + " is larger than the padded input");
      out[i] = (ceil_mode ? (span + strides[i] - 1) / strides[i] : span / strides[i]) + 1;
      // ceil_mode: lpsim's floor rule with the extra padding at the end that
      // gives the same extent.
      const std::int64_t need =
          (out[i] - 1) * strides[i] + (kernel[i] - 1) * dil[i] + 1 - in[i] - begin[i];
      if (need > end[i]) end[i] = need;
    }
  } else {
    fail(n, "auto_pad '" + clean_name(auto_pad) + "' unknown");
  }
  const std::size_t h = s == 2 ? 0 : SIZE_MAX;
  const std::size_t w = s - 1;
  l.kernel_h = h == SIZE_MAX ? 1 : kernel[h];
  l.kernel_w = kernel[w];
  l.stride = h == SIZE_MAX ? 1 : strides[h];
  if (strides[w] != l.stride) l.stride_w = strides[w];
  l.padding = h == SIZE_MAX ? 0 : begin[h];
  if (begin[w] != l.padding) l.padding_w = begin[w];
  const std::int64_t bottom = h == SIZE_MAX ? 0 : end[h];
  if (bottom != l.padding) l.padding_bottom = bottom;
  if (end[w] != begin[w]) l.padding_right = end[w];
  l.dilation_h = h == SIZE_MAX ? 1 : dil[h];
  l.dilation_w = dil[w];
}

void Importer::conv(int n) {
  const Value& x = known_input(n, 0);
  const Value& w = known_input(n, 1);
  if (w.kind == VKind::Data) return uncosted(n, "Conv");  // weights computed from the data
  if (x.shape.size() != 3 && x.shape.size() != 4) return uncosted(n, "Conv");  // 3-D conv
  const int spatial = static_cast<int>(x.shape.size()) - 2;
  if (w.shape.size() != x.shape.size())
    fail(n, "weight shape " + dims_text(w.shape) + " does not fit the input " + dims_text(x.shape));
  const std::int64_t group = attr_int(n, "group", 1);
  const std::int64_t c = x.shape[1], m = w.shape[0];
  if (group < 1 || group > c || c % group != 0 || m % group != 0 || w.shape[1] != c / group)
    fail(n, "group " + std::to_string(group) + " does not fit the input channels " +
                std::to_string(c) + " and the weights " + dims_text(w.shape));
  Dims kernel;
  if (!attr_ints(n, "kernel_shape", kernel)) kernel.assign(w.shape.begin() + 2, w.shape.end());
  if (kernel != Dims(w.shape.begin() + 2, w.shape.end()))
    fail(n,
         "kernel_shape " + dims_text(kernel) + " differs from the weights " + dims_text(w.shape));
  Layer l = make_layer("", LayerKind::Conv2d);
  l.out_features = m;
  l.groups = group;
  l.bias = has_input(n, 2);
  Dims out_sp;
  window_attrs(n, l, Dims(x.shape.begin() + 2, x.shape.end()), kernel, out_sp);
  const int in = window_input(n, x, spatial);
  const int layer = add_layer(n, l, {in});
  Dims shape{x.shape[0], m};
  shape.insert(shape.end(), out_sp.begin(), out_sp.end());
  set_data(n, 0, layer, shape, x.batch == 0 ? 0 : -1);
}

void Importer::pool(int n, bool global) {
  const Value& x = known_input(n, 0);
  const auto& op = g_model_.node(n).op_type();
  if (x.shape.size() != 3 && x.shape.size() != 4) return uncosted(n, op);
  const int spatial = static_cast<int>(x.shape.size()) - 2;
  Layer l = make_layer("", LayerKind::Pool);
  l.pool_max = op == "MaxPool" || op == "GlobalMaxPool";
  Dims out_sp;
  if (global) {
    l.pool_global = true;
    out_sp.assign(static_cast<std::size_t>(spatial), 1);
  } else {
    Dims kernel;
    if (!attr_ints(n, "kernel_shape", kernel)) fail(n, "kernel_shape is missing");
    window_attrs(n, l, Dims(x.shape.begin() + 2, x.shape.end()), kernel, out_sp);
  }
  const int in = window_input(n, x, spatial);
  const int layer = add_layer(n, l, {in});
  Dims shape{x.shape[0], x.shape[1]};
  shape.insert(shape.end(), out_sp.begin(), out_sp.end());
  set_data(n, 0, layer, shape, x.batch == 0 ? 0 : -1);
  for (int o = 1; o < g_model_.node(n).output_size(); ++o) {  // MaxPool's indices
    Value v;
    v.known = true;
    v.shape = shape;
    v.elem = onnx::TensorProto::INT64;
    set(n, o, v);
  }
}

void Importer::gemm(int n) {
  const Value& a = known_input(n, 0);
  const Value& b = known_input(n, 1);
  if (a.kind != VKind::Data || attr_int(n, "transA", 0) != 0 || a.shape.size() != 2 ||
      b.shape.size() != 2)
    return uncosted(n, "Gemm");
  const bool tb = attr_int(n, "transB", 0) != 0;
  const std::int64_t k = a.shape[1];
  const std::int64_t kb = tb ? b.shape[1] : b.shape[0], nout = tb ? b.shape[0] : b.shape[1];
  if (k != kb)
    fail(n, "shapes " + dims_text(a.shape) + " and " + dims_text(b.shape) + " do not multiply");
  if (b.kind == VKind::Data) return matmul(n);
  Layer l = make_layer("", LayerKind::Linear);
  l.out_features = nout;
  l.bias = has_input(n, 2) && input(n, 2).kind == VKind::Param;
  if (has_input(n, 2) && input(n, 2).kind == VKind::Data) return uncosted(n, "Gemm");
  const int in = a.batch == 0 ? shaped(n, a, {k}) : full(n, a);
  const int layer = add_layer(n, l, {in});
  set_data(n, 0, layer, {a.shape[0], nout}, a.batch == 0 ? 0 : -1);
}

void Importer::matmul(int n) {
  const auto& p = g_model_.node(n);
  const Value& a = known_input(n, 0);
  const Value& b = known_input(n, 1);
  if (a.shape.empty() || b.shape.empty()) fail(n, "a scalar operand");
  const bool gemm_b = p.op_type() == "Gemm";
  if (gemm_b && attr_int(n, "transB", 0) != 0) return uncosted(n, "Gemm");
  // The model's output shape (numpy matmul).
  Dims as = a.shape, bs = b.shape;
  const bool a1 = as.size() == 1, b1 = bs.size() == 1;
  if (a1) as.insert(as.begin(), 1);
  if (b1) bs.push_back(1);
  if (as.back() != bs[bs.size() - 2])
    fail(n, "shapes " + dims_text(a.shape) + " and " + dims_text(b.shape) + " do not multiply");
  const std::size_t r = std::max(as.size(), bs.size());
  Dims out(r - 2, 1);
  for (std::size_t i = 0; i + 2 < r; ++i) {
    const std::size_t ia = i + as.size(), ib = i + bs.size();
    const std::int64_t x = ia < r ? 1 : as[ia - r];
    const std::int64_t y = ib < r ? 1 : bs[ib - r];
    if (x != y && x != 1 && y != 1)
      fail(n, "batch dimensions of " + dims_text(a.shape) + " and " + dims_text(b.shape) +
                  " do not broadcast");
    out[i] = x == 1 ? y : x;
  }
  if (!a1) out.push_back(as[as.size() - 2]);
  if (!b1) out.push_back(bs.back());
  int out_batch = -1;
  if (a.kind == VKind::Data && a.batch >= 0 && a.batch != static_cast<int>(a.shape.size()) - 1)
    out_batch = a.batch + static_cast<int>(out.size()) - static_cast<int>(a.shape.size());
  else if (b.kind == VKind::Data && b.batch >= 0 && b.batch + 2 < static_cast<int>(b.shape.size()))
    out_batch = b.batch + static_cast<int>(out.size()) - static_cast<int>(b.shape.size());
  if (out_batch < 0 || out_batch >= static_cast<int>(out.size())) out_batch = -1;

  if (a.kind == VKind::Data && b.kind != VKind::Data) {
    if (b.shape.size() != 2 || b.kind != VKind::Param) return uncosted(n, clean_name(p.op_type()));
    // x W (+ b): a linear layer; a bias Add that only this feeds joins it.
    Layer l = make_layer("", LayerKind::Linear);
    l.out_features = b.shape[1];
    const Dims ps = per_sample(n, a);
    const int in = ps.back() == b.shape[0]
                       ? a.layer
                       : shaped(n, a, {elements_of(ps) / b.shape[0], b.shape[0]});
    std::string result = p.output(0);
    if (auto it = uses_.find(p.output(0));
        it != uses_.end() && it->second.size() == 1 && !outputs_.count(p.output(0))) {
      const int user = it->second[0].node;
      const auto& q = g_model_.node(user);
      if (q.op_type() == "Add" && q.input_size() == 2 &&
          (q.domain().empty() || q.domain() == "ai.onnx")) {
        const std::string& other = q.input(1 - it->second[0].slot);
        auto ov = values_.find(other);
        if (ov != values_.end() && ov->second.kind == VKind::Param && ov->second.known &&
            elements_of(ov->second.shape) == b.shape[1] && ov->second.shape.back() == b.shape[1] &&
            ov->second.shape.size() <= out.size()) {
          l.bias = true;
          fused_.insert(user);
          const int layer = add_layer(n, l, {in});
          set_data(n, 0, layer, out, out_batch);
          if (q.output_size() > 0 && !q.output(0).empty())
            set_data_named(user, q.output(0), values_.at(p.output(0)).layer, out, out_batch);
          return;
        }
      }
    }
    const int layer = add_layer(n, l, {in});
    set_data(n, 0, layer, out, out_batch);
    return;
  }
  if (a.kind != VKind::Data || b.kind != VKind::Data)
    return uncosted(n, clean_name(p.op_type()));  // a weight times the data, or a constant
  // Two activations: a batched GEMM (attention's QK^T and AV).
  int la = -1, lb = -1;
  const bool per =
      a.batch >= 0 && b.batch >= 0 && a.batch + 2 < static_cast<int>(a.shape.size()) &&
      b.batch + 2 < static_cast<int>(b.shape.size()) &&
      static_cast<int>(a.shape.size()) - a.batch == static_cast<int>(b.shape.size()) - b.batch;
  if (per) {
    la = a.layer;
    lb = b.layer;
  } else {
    if (batch_ != 1)
      fail(n, "the batch is not a shared leading axis of both operands; import it with --batch 1");
    la = shaped(n, a, as);
    lb = shaped(n, b, bs);
  }
  Layer l = make_layer("", LayerKind::MatMul);
  const int layer = add_layer(n, l, {la, lb});
  set_data(n, 0, layer, out, out_batch);
}

void Importer::batchnorm(int n) {
  const Value& x = known_input(n, 0);
  if (x.shape.size() < 2) fail(n, "input shape " + dims_text(x.shape) + " has no channel axis");
  if (x.batch != 0 && (batch_ != 1 || x.shape[0] != 1))
    fail(n, "its input's batch is not its first axis");
  const int in = shaped(n, x, Dims(x.shape.begin() + 1, x.shape.end()));
  const int layer = add_layer(n, make_layer("", LayerKind::BatchNorm), {in});
  set_data(n, 0, layer, x.shape, x.batch);
  for (int o = 1; o < g_model_.node(n).output_size(); ++o) {  // running statistics
    Value v;
    v.known = true;
    v.shape = {x.shape[1]};
    v.elem = onnx::TensorProto::FLOAT;
    set(n, o, v);
  }
}

void Importer::layernorm(int n) {
  const Value& x = known_input(n, 0);
  const std::int64_t axis = axis_of(n, attr_int(n, "axis", -1), x.shape.size(), "axis");
  if (x.batch >= axis && x.batch >= 0) fail(n, "normalises over the batch axis");
  std::int64_t width = 1;
  for (auto i = static_cast<std::size_t>(axis); i < x.shape.size(); ++i) width *= x.shape[i];
  Dims ps = per_sample(n, x);
  const std::int64_t rows = elements_of(ps) / width;
  const int in = ps.back() == width ? x.layer : shaped(n, x, {rows, width});
  const int layer = add_layer(n, make_layer("", LayerKind::LayerNorm), {in});
  set_data(n, 0, layer, x.shape, x.batch);
  Value stats;  // Mean and InvStdDev: one per normalised row
  stats.known = true;
  stats.shape = x.shape;
  for (auto i = static_cast<std::size_t>(axis); i < x.shape.size(); ++i) stats.shape[i] = 1;
  stats.elem = onnx::TensorProto::FLOAT;
  for (int o = 1; o < g_model_.node(n).output_size(); ++o) set(n, o, stats);
}

void Importer::activation(int n, const std::string& function) {
  const Value& x = known_input(n, 0);
  Layer l = make_layer("", LayerKind::Activation);
  l.activation = function;
  const int layer = add_layer(n, l, {x.layer});
  set_data(n, 0, layer, x.shape, x.batch);
  for (int o = 1; o < g_model_.node(n).output_size(); ++o) {  // Dropout's mask
    Value v;
    v.known = true;
    v.shape = x.shape;
    v.elem = onnx::TensorProto::BOOL;
    set(n, o, v);
  }
}

void Importer::softmax(int n) {
  const auto& p = g_model_.node(n);
  const Value& x = known_input(n, 0);
  const bool last = outputs_.count(p.output(0)) > 0;
  if (last && opt_.loss) {  // the network's end: softmax + cross-entropy loss
    const int layer = add_layer(n, make_layer("", LayerKind::Softmax), {x.layer});
    set_data(n, 0, layer, x.shape, x.batch);
    return;
  }
  activation(n, p.op_type() == "Softmax" ? "softmax" : "log_softmax");
}

void Importer::binary(int n, const std::string& function) {
  const Value& a = known_input(n, 0);
  Value b = known_input(n, 1);
  // Before opset 7: broadcast=1 aligns B with A from `axis` (default: the
  // trailing axes, as numpy); in numpy terms B gets trailing axes of size 1.
  if (opset_ < 7 && attr_int(n, "broadcast", 0) != 0) {
    const auto ra = static_cast<std::int64_t>(a.shape.size());
    const auto rb = static_cast<std::int64_t>(b.shape.size());
    const std::int64_t axis = attr_int(n, "axis", ra - rb);
    if (axis < 0 || axis + rb > ra)
      fail(n, "broadcast axis " + std::to_string(axis) + " does not fit shapes " +
                  dims_text(a.shape) + " and " + dims_text(b.shape));
    if (axis + rb < ra) {
      if (b.kind == VKind::Data) fail(n, "a legacy broadcast (opset < 7) of data");
      b.shape.insert(b.shape.end(), static_cast<std::size_t>(ra - axis - rb), 1);
    }
  }
  // The model's output shape.
  const std::size_t r = std::max(a.shape.size(), b.shape.size());
  Dims out(r, 1);
  for (std::size_t i = 0; i < r; ++i) {
    const std::int64_t x = i < r - a.shape.size() ? 1 : a.shape[i - (r - a.shape.size())];
    const std::int64_t y = i < r - b.shape.size() ? 1 : b.shape[i - (r - b.shape.size())];
    if (x != y && x != 1 && y != 1)
      fail(n, "shapes " + dims_text(a.shape) + " and " + dims_text(b.shape) + " do not broadcast");
    out[i] = x == 1 ? y : x;
  }
  auto aligned = [&](const Value& v) {
    return v.batch < 0 ? -1 : v.batch + static_cast<int>(r - v.shape.size());
  };
  if (a.kind == VKind::Data && b.kind == VKind::Data) {
    const int ba = aligned(a), bb = aligned(b);
    const int out_batch = ba >= 0 ? ba : bb;
    int la = a.layer, lb = b.layer;
    if (!(ba >= 0 && ba == bb)) {
      if (batch_ != 1) fail(n, "the operands' batch axes differ; import it with --batch 1");
      la = full(n, a);
      lb = full(n, b);
    }
    Layer l = make_layer("", function == "add" && g_.layer(la).out_shape == g_.layer(lb).out_shape
                                 ? LayerKind::Add
                                 : LayerKind::Elementwise);
    l.activation = function;
    const int layer = add_layer(n, l, {la, lb});
    set_data(n, 0, layer, out, out_batch);
    return;
  }
  // One data operand; the other a weight or a constant.
  const Value& x = a.kind == VKind::Data ? a : b;
  const Value& c = a.kind == VKind::Data ? b : a;
  const int xb = aligned(x);
  // Pow by a constant 2 or 0.5: square or sqrt.
  if (function == "pow" && &x == &a && c.has_values && c.values.size() == 1 &&
      (c.values[0] == 2 || c.values[0] == 0.5 || c.values[0] == 1)) {
    if (c.values[0] == 1 && out == x.shape) return alias(n, 0, x);
    if (out == x.shape && c.values[0] != 1)
      return activation(n, c.values[0] == 2 ? "square" : "sqrt");
  }
  Layer l = make_layer("", LayerKind::Elementwise);
  l.activation = function;
  l.learnable = c.kind == VKind::Param;
  // The operand's per-sample shape: its axes aligned with the data's, the
  // batch axis (where it reaches it, with size 1) left out.
  Dims operand = c.shape;
  int lx = x.layer;
  if (xb >= 0) {
    const int pos = xb - static_cast<int>(r - operand.size());
    if (pos >= 0) {
      if (operand[static_cast<std::size_t>(pos)] != 1) {
        if (batch_ != 1) fail(n, "the operand " + dims_text(c.shape) + " varies over the batch");
      } else {
        operand.erase(operand.begin() + pos);
      }
    }
    // A data operand of lower rank than the result: its per-sample shape
    // still broadcasts (aligned at the last axis).
    if (static_cast<int>(operand.size()) == static_cast<int>(c.shape.size()) && pos >= 0) {
      lx = full(n, x);
    }
  }
  while (!operand.empty() && operand.front() == 1 && elements_of(operand) == 1 &&
         operand.size() > 0)
    operand.erase(operand.begin());
  if (elements_of(operand) == 1) operand.clear();
  l.operand = operand;
  if (!l.learnable && operand.empty() && function == "pow" && c.has_values &&
      c.values.size() == 1 && c.values[0] == 2)
    return activation(n, "square");
  const int layer = add_layer(n, l, {lx});
  set_data(n, 0, layer, out, xb);
}

void Importer::reduce(int n, const std::string& function) {
  const Value& x = known_input(n, 0);
  bool present = false;
  Dims axes;
  if (!attr_ints(n, "axes", axes) && has_input(n, 1)) axes = int_values(n, 1, "axes");
  present = !axes.empty();
  const bool keepdims = attr_int(n, "keepdims", 1) != 0;
  if (!present && attr_int(n, "noop_with_empty_axes", 0) != 0) return alias(n, 0, x);
  std::vector<bool> reduced(x.shape.size(), !present);
  for (auto a : axes)
    reduced[static_cast<std::size_t>(axis_of(n, a, x.shape.size(), "axes:"))] = true;
  Dims out;
  int out_batch = -1;
  for (std::size_t i = 0; i < x.shape.size(); ++i) {
    if (static_cast<int>(i) == x.batch && !reduced[i]) out_batch = static_cast<int>(out.size());
    if (!reduced[i])
      out.push_back(x.shape[i]);
    else if (keepdims)
      out.push_back(1);
  }
  Layer l = make_layer("", LayerKind::Reduce);
  l.activation = function;
  l.keepdims = keepdims;
  int in = x.layer;
  if (x.batch >= 0 && !reduced[static_cast<std::size_t>(x.batch)]) {
    for (std::size_t i = 0; i < x.shape.size(); ++i)
      if (reduced[i])
        l.axes.push_back(static_cast<std::int64_t>(i) - (static_cast<int>(i) > x.batch ? 1 : 0));
  } else {
    in = full(n, x);
    for (std::size_t i = 0; i < x.shape.size(); ++i)
      if (reduced[i]) l.axes.push_back(static_cast<std::int64_t>(i));
  }
  const int layer = add_layer(n, l, {in});
  set_data(n, 0, layer, out, out_batch);
}

void Importer::flatten(int n) {
  const Value& x = known_input(n, 0);
  const std::int64_t axis = flatten_axis(attr_int(n, "axis", 1), x.shape.size());
  if (axis < 0 || axis > static_cast<std::int64_t>(x.shape.size()))
    fail(n, "axis " + std::to_string(attr_int(n, "axis", 1)) + " is not an axis of a rank-" +
                std::to_string(x.shape.size()) + " tensor");
  std::int64_t outer = 1, inner = 1;
  for (std::size_t i = 0; i < x.shape.size(); ++i)
    (static_cast<std::int64_t>(i) < axis ? outer : inner) *= x.shape[i];
  if (axis == 1 && x.batch == 0) {  // the classifier's flatten
    const int layer = add_layer(n, make_layer("", LayerKind::Flatten), {x.layer});
    set_data(n, 0, layer, {outer, inner}, 0);
    return;
  }
  reshape_like(n, {outer, inner});
}

// Where the batch axis goes when `in` is viewed as `out` (-1: merged).
int Importer::reshape_batch(const Value& in, const Dims& out) const {
  if (in.batch < 0) return -1;
  std::int64_t before = 1;
  for (int i = 0; i < in.batch; ++i) before *= in.shape[static_cast<std::size_t>(i)];
  std::int64_t acc = 1;
  for (std::size_t q = 0; q < out.size(); ++q) {
    if (acc == before && out[q] == batch_) return static_cast<int>(q);
    acc *= out[q];
    if (acc > before) break;
  }
  return -1;
}

void Importer::reshape_like(int n, Dims out) {
  const Value& x = known_input(n, 0);
  set_data(n, 0, x.layer, out, reshape_batch(x, out));
}

void Importer::transpose(int n) {
  const Value& x = known_input(n, 0);
  Dims perm;
  if (!attr_ints(n, "perm", perm))
    for (std::size_t i = 0; i < x.shape.size(); ++i)
      perm.push_back(static_cast<std::int64_t>(x.shape.size() - 1 - i));
  if (perm.size() != x.shape.size())
    fail(n, "perm " + dims_text(perm) + " does not fit the input " + dims_text(x.shape));
  std::vector<bool> seen(perm.size(), false);
  Dims out;
  int out_batch = -1;
  for (std::size_t i = 0; i < perm.size(); ++i) {
    const auto q = static_cast<std::size_t>(axis_of(n, perm[i], x.shape.size(), "perm: axis"));
    if (seen[q]) fail(n, "perm " + dims_text(perm) + " names an axis twice");
    seen[q] = true;
    out.push_back(x.shape[q]);
    if (static_cast<int>(q) == x.batch) out_batch = static_cast<int>(i);
  }
  // Per sample: without the batch axis; where only axes of size 1 move it is a view.
  Dims pp;
  int in = x.layer;
  if (x.batch >= 0) {
    for (auto q : perm)
      if (q != x.batch) pp.push_back(q - (q > x.batch ? 1 : 0));
  } else {
    in = full(n, x);
    pp = perm;
  }
  const Dims& in_shape = g_.layer(in).out_shape.dims;
  Dims order;  // the non-1 axes in output order
  for (auto q : pp)
    if (in_shape[static_cast<std::size_t>(q)] != 1) order.push_back(q);
  if (std::is_sorted(order.begin(), order.end())) return set_data(n, 0, in, out, out_batch);
  Layer l = make_layer("", LayerKind::Transpose);
  l.perm = pp;
  const int layer = add_layer(n, l, {in});
  set_data(n, 0, layer, out, out_batch);
}

void Importer::concat(int n) {
  const auto& p = g_model_.node(n);
  const Value& x0 = known_input(n, 0);
  // Before opset 4 Concat's axis defaulted to 1.
  const std::int64_t axis =
      axis_of(n, attr_int(n, "axis", opset_ < 4 ? 1 : 0), x0.shape.size(), "axis");
  Dims out = x0.shape;
  out[static_cast<std::size_t>(axis)] = 0;
  bool per = x0.batch >= 0 && x0.batch != axis;
  for (int i = 0; i < p.input_size(); ++i) {
    const Value& v = known_input(n, i);
    if (v.shape.size() != out.size()) fail(n, "inputs of different ranks");
    for (std::size_t d = 0; d < out.size(); ++d)
      if (static_cast<std::int64_t>(d) != axis && v.shape[d] != out[d])
        fail(n, "input shapes " + dims_text(x0.shape) + " and " + dims_text(v.shape) +
                    " differ beyond axis " + std::to_string(axis));
    out[static_cast<std::size_t>(axis)] += v.shape[static_cast<std::size_t>(axis)];
    per = per && v.kind == VKind::Data && v.batch == x0.batch;
  }
  std::vector<int> ins;
  Layer l = make_layer("", LayerKind::Concat);
  if (per) {
    for (int i = 0; i < p.input_size(); ++i) ins.push_back(input(n, i).layer);
    l.axis = axis - (axis > x0.batch ? 1 : 0);
  } else {
    if (batch_ != 1) fail(n, "joins along the batch axis or mixes it; import it with --batch 1");
    l.axis = axis;
    for (int i = 0; i < p.input_size(); ++i) {
      const Value& v = input(n, i);
      if (v.kind == VKind::Data) {
        ins.push_back(full(n, v));
      } else {  // a weight or constant joined to the data: an input of its own
        Layer c = make_layer(unique_name(node_name(n) + ".operand" + std::to_string(i)),
                             LayerKind::Input);
        c.out_shape.dims = v.shape.empty() ? Dims{1} : v.shape;
        for (auto d : c.out_shape.dims)
          if (d < 1 || d > kMaxDim)
            fail(n, "operand shape " + dims_text(v.shape) + " is outside 1..2^24");
        ins.push_back(g_.add(std::move(c), {}));
      }
    }
  }
  int out_batch = per ? x0.batch : -1;
  if (!per) {
    for (int i = 0; i < p.input_size() && out_batch < 0; ++i)
      if (input(n, i).kind == VKind::Data && input(n, i).batch != axis)
        out_batch = input(n, i).batch;
  }
  const int layer = add_layer(n, l, ins);
  set_data(n, 0, layer, out, out_batch);
}

void Importer::split(int n) {
  const auto& p = g_model_.node(n);
  const Value& x = known_input(n, 0);
  const std::int64_t axis = axis_of(n, attr_int(n, "axis", 0), x.shape.size(), "axis");
  const std::int64_t size = x.shape[static_cast<std::size_t>(axis)];
  Dims parts;
  if (!attr_ints(n, "split", parts) && has_input(n, 1)) parts = int_values(n, 1, "split");
  const auto outs = static_cast<std::int64_t>(p.output_size());
  if (parts.empty()) {
    if (outs < 1) fail(n, "no outputs");
    const std::int64_t each = (size + outs - 1) / outs;
    for (std::int64_t i = 0; i < outs; ++i) parts.push_back(std::min(each, size - i * each));
  }
  if (static_cast<std::int64_t>(parts.size()) != outs)
    fail(n, "split " + dims_text(parts) + " does not give one size per output");
  std::int64_t total = 0;
  for (auto s : parts) {
    if (s < 0) fail(n, "split " + dims_text(parts) + ": a negative size");
    total += s;
  }
  if (total != size)
    fail(n, "split " + dims_text(parts) + " does not add up to " + std::to_string(size));
  const bool per = x.batch >= 0 && x.batch != axis;
  const int in = per ? x.layer : full(n, x);
  for (int o = 0; o < p.output_size(); ++o) {
    Dims shape = x.shape;
    shape[static_cast<std::size_t>(axis)] = parts[static_cast<std::size_t>(o)];
    if (parts[static_cast<std::size_t>(o)] == 0) fail(n, "an empty output");
    Layer l = make_layer("", LayerKind::Copy);
    Value tmp = x;
    tmp.shape = shape;
    tmp.batch = per ? x.batch : -1;
    l.target = per ? per_sample(n, tmp) : shape;
    const int layer = add_layer(n, l, {in}, "." + std::to_string(o));
    set_data(n, o, layer, shape, per ? x.batch : -1);
  }
}

void Importer::slice(int n) {
  const Value& x = known_input(n, 0);
  Dims starts, ends, axes, steps;
  if (opset_ < 10) {
    attr_ints(n, "starts", starts);
    attr_ints(n, "ends", ends);
    attr_ints(n, "axes", axes);
  } else {
    starts = int_values(n, 1, "starts");
    ends = int_values(n, 2, "ends");
    if (has_input(n, 3)) axes = int_values(n, 3, "axes");
    if (has_input(n, 4)) steps = int_values(n, 4, "steps");
  }
  if (axes.empty())
    for (std::size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<std::int64_t>(i));
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (starts.size() != ends.size() || axes.size() != starts.size() || steps.size() != starts.size())
    fail(n, "starts, ends, axes and steps differ in length");
  Dims out = x.shape;
  bool batch_sliced = false;
  for (std::size_t i = 0; i < axes.size(); ++i) {
    const auto a = static_cast<std::size_t>(axis_of(n, axes[i], x.shape.size(), "axes:"));
    const std::int64_t dim = x.shape[a], step = steps[i];
    if (step == 0 || step == std::numeric_limits<std::int64_t>::min())
      fail(n, "steps: " + std::to_string(step) + " is not a step");
    auto clamp_index = [&](std::int64_t v) {
      if (v < 0) v += dim;
      return step > 0 ? std::clamp<std::int64_t>(v, 0, dim)
                      : std::clamp<std::int64_t>(v, -1, dim - 1);
    };
    const std::int64_t s = clamp_index(starts[i]), e = clamp_index(ends[i]);
    const std::int64_t count =
        step > 0 ? (e > s ? 1 + (e - s - 1) / step : 0) : (s > e ? 1 + (s - e - 1) / -step : 0);
    if (count <= 0) fail(n, "an empty slice of axis " + std::to_string(a));
    out[a] = count;
    if (static_cast<int>(a) == x.batch && count != dim) batch_sliced = true;
  }
  if (out == x.shape) return alias(n, 0, x);
  const bool per = x.batch >= 0 && !batch_sliced;
  const int in = per ? x.layer : full(n, x);
  Layer l = make_layer("", LayerKind::Copy);
  Value tmp;
  tmp.shape = out;
  tmp.batch = per ? x.batch : -1;
  l.target = per ? per_sample(n, tmp) : out;
  const int layer = add_layer(n, l, {in});
  set_data(n, 0, layer, out, per ? x.batch : -1);
}

void Importer::gather(int n) {
  const Value& d = known_input(n, 0);
  const Value& idx = known_input(n, 1);
  const std::int64_t axis = axis_of(n, attr_int(n, "axis", 0), d.shape.size(), "axis");
  Dims out(d.shape.begin(), d.shape.begin() + axis);
  out.insert(out.end(), idx.shape.begin(), idx.shape.end());
  out.insert(out.end(), d.shape.begin() + axis + 1, d.shape.end());
  if (d.kind != VKind::Data) {
    // A table looked up by the data: an embedding.
    if (axis != 0 || d.shape.size() != 2 || d.kind != VKind::Param) return uncosted(n, "Gather");
    Layer l = make_layer("", LayerKind::Embedding);
    l.vocab = d.shape[0];
    l.out_features = d.shape[1];
    const Dims ps = per_sample(n, idx);
    const int in = ps.size() == 1 ? idx.layer : shaped(n, idx, {elements_of(ps)});
    const int layer = add_layer(n, l, {in});
    set_data(n, 0, layer, out, idx.batch);
    return;
  }
  // Picking parts of the data (x[:, 0]): a copy.
  if (idx.kind == VKind::Data) return uncosted(n, "Gather");
  int out_batch = -1;
  if (d.batch >= 0 && d.batch < axis) out_batch = d.batch;
  if (d.batch > axis) out_batch = d.batch - 1 + static_cast<int>(idx.shape.size());
  const bool per = out_batch >= 0;
  const int in = per ? d.layer : full(n, d);
  Layer l = make_layer("", LayerKind::Copy);
  Value tmp;
  tmp.shape = out;
  tmp.batch = out_batch;
  l.target = per ? per_sample(n, tmp) : (out.empty() ? Dims{1} : out);
  const int layer = add_layer(n, l, {in});
  set_data(n, 0, layer, out, out_batch);
}

void Importer::expand(int n) {
  const Value& x = known_input(n, 0);
  const Dims target = int_values(n, 1, "shape");
  const std::size_t r = std::max(x.shape.size(), target.size());
  Dims out(r, 1);
  for (std::size_t i = 0; i < r; ++i) {
    const std::int64_t a = i < r - x.shape.size() ? 1 : x.shape[i - (r - x.shape.size())];
    const std::int64_t b = i < r - target.size() ? 1 : target[i - (r - target.size())];
    if (a != b && a != 1 && b != 1)
      fail(n, "cannot expand " + dims_text(x.shape) + " to " + dims_text(target));
    out[i] = a == 1 ? b : a;
  }
  const int b = x.batch < 0 ? -1 : x.batch + static_cast<int>(r - x.shape.size());
  if (elements_of(out) == elements_of(x.shape)) return set_data(n, 0, x.layer, out, b);
  Layer l = make_layer("", LayerKind::Copy);
  Value tmp;
  tmp.shape = out;
  tmp.batch = b;
  const bool per = b >= 0 && out[static_cast<std::size_t>(b)] == batch_;
  l.target = per ? per_sample(n, tmp) : out;
  const int in = per ? x.layer : full(n, x);
  const int layer = add_layer(n, l, {in});
  set_data(n, 0, layer, out, per ? b : -1);
}

}  // namespace

std::string OnnxImport::uncosted_text() const {
  if (uncosted.empty()) return "";
  std::int64_t total = 0;
  std::string list;
  for (const auto& [op, count] : uncosted) {
    total += count;
    list += (list.empty() ? "" : ", ") + op + " x" + std::to_string(count);
  }
  return std::to_string(total) + (total == 1 ? " node" : " nodes") +
         " of ops lpsim cannot cost pass through as copies (costed at zero): " + list;
}

OnnxImport import_onnx(const std::string& bytes, const std::string& where,
                       const OnnxImportOptions& options) {
  if (options.batch < 1 || options.batch > kMaxDim)
    throw InputError(where + ": --batch " + std::to_string(options.batch) + ": must be 1..2^24");
  onnx::ModelProto model;
  if (bytes.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()) ||
      !model.ParseFromString(bytes))
    throw InputError(where +
                     ": not an ONNX model: the file does not parse as one (truncated, or another "
                     "format)");
  if (!model.has_graph() || model.ir_version() <= 0)
    throw InputError(
        where + ": not an ONNX model: " + (model.ir_version() <= 0 ? "no IR version" : "no graph") +
        " (an empty, truncated or foreign file)");
  return Importer(model, where, options).run();
}

OnnxImport import_onnx_file(const std::string& path, const OnnxImportOptions& options) {
  // Read whole under the input cap for whole files (the model's weights come
  // along; the reader only looks at their shapes).
  const InputCaps caps = input_caps();
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw InputError(path + ": cannot open: " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) throw InputError(path + ": not a regular file");
  if (st.st_size > caps.max_bytes)
    throw InputError(path + ": " + std::to_string(st.st_size / (1 << 20)) + " MiB, more than the " +
                     std::to_string(caps.max_bytes / (1 << 20)) +
                     " MiB an input may have (raise LPSIM_MAX_INPUT_MB, or export with "
                     "export_params=False: the reader needs no weights)");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open: " + std::strerror(errno));
  std::string bytes(static_cast<std::size_t>(st.st_size), '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (in.gcount() != static_cast<std::streamsize>(bytes.size()))
    throw InputError(path + ": read failed");
  return import_onnx(bytes, path, options);
}

std::pair<std::string, std::vector<std::int64_t>> parse_input_shape(const std::string& text) {
  std::string name, dims_text_part = text;
  const auto eq = text.rfind('=');
  if (eq != std::string::npos) {
    name = text.substr(0, eq);
    dims_text_part = text.substr(eq + 1);
  }
  std::vector<std::int64_t> dims;
  std::size_t start = 0;
  const std::string bad = "--input-shape '" + clean_name(text) +
                          "': expected dimensions joined by x, e.g. 1x3x224x224 (or "
                          "NAME=1x3x224x224), each 1..16777216";
  while (true) {
    const auto x = dims_text_part.find_first_of("x,", start);
    const std::string part = dims_text_part.substr(start, x - start);
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
    if (part.empty() || ec != std::errc() || p != part.data() + part.size() || v < 1 || v > kMaxDim)
      throw InputError(bad);
    dims.push_back(v);
    if (x == std::string::npos) break;
    start = x + 1;
  }
  if (dims.size() > 8) throw InputError(bad);
  return {name, dims};
}

}  // namespace lpsim
