// Small ONNX models built in C++ for the ONNX reader's tests (no Python):
// a tiny CNN whose input shape, opset and extra ops the test chooses.
// Needs the onnx_proto target (tests/CMakeLists.txt links it where found).
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <string>
#include <vector>

namespace lpsim::test {

struct TinyCnnOptions {
  std::int64_t opset = 13;
  // The input's dimensions; -1 = symbolic (dim_param "dN"); empty with
  // `shaped` false = no shape at all.
  std::vector<std::int64_t> input = {1, 3, 8, 8};
  bool shaped = true;
  // An op after the ReLU that the reader cannot cost ("" = none), e.g. "Elu".
  std::string extra_op;
};

inline void add_initializer(onnx::GraphProto& g, const std::string& name,
                            std::vector<std::int64_t> dims, float fill = 0.1f) {
  auto* t = g.add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  std::int64_t n = 1;
  for (auto d : dims) {
    t->add_dims(d);
    n *= d;
  }
  for (std::int64_t i = 0; i < n; ++i) t->add_float_data(fill);
}

inline onnx::NodeProto* add_node(onnx::GraphProto& g, const std::string& op,
                                 std::vector<std::string> ins, std::vector<std::string> outs,
                                 const std::string& name) {
  auto* n = g.add_node();
  n->set_op_type(op);
  n->set_name(name);
  for (auto& i : ins) n->add_input(i);
  for (auto& o : outs) n->add_output(o);
  return n;
}

inline void add_ints(onnx::NodeProto* n, const std::string& name, std::vector<std::int64_t> v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (auto x : v) a->add_ints(x);
}

inline void add_int(onnx::NodeProto* n, const std::string& name, std::int64_t v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(v);
}

// conv 3x3 (8 channels, pad 1) + bias -> batch norm -> ReLU [-> extra op]
// -> global average pool -> flatten -> fc 10 (Gemm, transB). Forward MACs per
// sample for an HxW input: 8*3*9*H*W + 8*10; parameters 8*27+8 + 2*8 + 80+10.
inline onnx::ModelProto tiny_cnn(const TinyCnnOptions& o = {}) {
  onnx::ModelProto m;
  m.set_ir_version(7);
  m.set_producer_name("lpsim tests");
  auto* op = m.add_opset_import();
  op->set_domain("");
  op->set_version(o.opset);
  auto& g = *m.mutable_graph();
  g.set_name("tiny");
  auto* in = g.add_input();
  in->set_name("x");
  auto* tt = in->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto::FLOAT);
  if (o.shaped) {
    auto* shape = tt->mutable_shape();
    for (std::size_t i = 0; i < o.input.size(); ++i) {
      auto* d = shape->add_dim();
      if (o.input[i] < 0)
        d->set_dim_param("d" + std::to_string(i));
      else
        d->set_dim_value(o.input[i]);
    }
  }
  add_initializer(g, "conv.w", {8, 3, 3, 3});
  add_initializer(g, "conv.b", {8});
  for (const char* p : {"bn.scale", "bn.bias", "bn.mean", "bn.var"}) add_initializer(g, p, {8}, 1);
  add_initializer(g, "fc.w", {10, 8});
  add_initializer(g, "fc.b", {10});
  auto* conv = add_node(g, "Conv", {"x", "conv.w", "conv.b"}, {"c"}, "conv");
  add_ints(conv, "kernel_shape", {3, 3});
  add_ints(conv, "pads", {1, 1, 1, 1});
  add_node(g, "BatchNormalization", {"c", "bn.scale", "bn.bias", "bn.mean", "bn.var"}, {"b"}, "bn");
  add_node(g, "Relu", {"b"}, {"r"}, "relu");
  std::string last = "r";
  if (!o.extra_op.empty()) {
    add_node(g, o.extra_op, {"r"}, {"e"}, "extra");
    last = "e";
  }
  add_node(g, "GlobalAveragePool", {last}, {"p"}, "pool");
  add_node(g, "Flatten", {"p"}, {"f"}, "flatten");
  auto* fc = add_node(g, "Gemm", {"f", "fc.w", "fc.b"}, {"y"}, "fc");
  add_int(fc, "transB", 1);
  auto* out = g.add_output();
  out->set_name("y");
  out->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
  return m;
}

inline std::string tiny_cnn_bytes(const TinyCnnOptions& o = {}) {
  return tiny_cnn(o).SerializeAsString();
}

}  // namespace lpsim::test
