// Bad ONNX models for `lpsim import`: each refused with exit 2 and one line
// naming the file (and the node, where one is at fault).
#include <catch2/catch.hpp>

#include "bad_inputs/runner.h"

using namespace lpsim::bad_inputs;

#ifndef LPSIM_TEST_ONNX

TEST_CASE("import without ONNX says so") {
  const std::string p = write("x.onnx", "not a model");
  const Result r = run("import " + p + " -o " + path_of("x.yaml"));
  if (r.code == 2 && r.err.find("built without ONNX") != std::string::npos) return;
  WARN("this lpsim has ONNX but the tests were built without onnx_proto: skipped");
}

#else

#include "support/onnx_models.h"

namespace {

std::string model(const std::string& name, const lpsim::test::TinyCnnOptions& o = {}) {
  return write(name, lpsim::test::tiny_cnn_bytes(o));
}

std::string out() { return " -o " + path_of("out.yaml"); }

}  // namespace

TEST_CASE("import: a model that is not ONNX, or cut short") {
  const std::string text = write("text.onnx", "name: resnet\nlayers: []\n");
  expect_refused("import " + text + out(), {text, "not an ONNX model"});
  const std::string empty = write("empty.onnx", "");
  expect_refused("import " + empty + out(), {empty, "not an ONNX model"});
  const std::string whole = lpsim::test::tiny_cnn_bytes();
  const std::string cut = write("cut.onnx", whole.substr(0, whole.size() / 2));
  expect_refused("import " + cut + out(), {cut});
  // Cut after the first node: the graph reads, a node's input is missing.
  lpsim::test::TinyCnnOptions o;
  auto m = lpsim::test::tiny_cnn(o);
  m.mutable_graph()->mutable_node()->DeleteSubrange(1, 1);  // the batch norm
  const std::string holed = write("holed.onnx", m.SerializeAsString());
  expect_refused("import " + holed + out(),
                 {holed, "node 'relu' (Relu)", "input 'b'", "truncated"});
  expect_refused("import " + path_of("missing.onnx") + out(), {"missing.onnx", "cannot open"});
  expect_refused("import " + scratch().string() + out(),
                 {scratch().string(), "not a regular file"});
  // The valid model is accepted.
  const std::string good = model("good.onnx");
  const Result r = run("import " + good + out() + " -q");
  CHECK(r.code == 0);
  CHECK(r.err.empty());
}

TEST_CASE("import: an unsupported opset names the file and the first node") {
  lpsim::test::TinyCnnOptions o;
  o.opset = 18;
  const std::string p = model("opset18.onnx", o);
  expect_refused("import " + p + out(), {p, "opset 18", "node 'conv' (Conv)", "1 to 17"});
}

TEST_CASE("import: no shapes and no --input-shape, or dynamic dimensions without values") {
  lpsim::test::TinyCnnOptions none;
  none.shaped = false;
  const std::string p = model("noshape.onnx", none);
  expect_refused("import " + p + out(), {p, "input 'x'", "node 'conv' (Conv)", "--input-shape"});
  lpsim::test::TinyCnnOptions dynamic;
  dynamic.input = {1, 3, -1, 8};
  const std::string d = model("dynamic.onnx", dynamic);
  expect_refused("import " + d + out(),
                 {d, "input 'x'", "node 'conv' (Conv)", "dimension 2 ('d2')", "dynamic"});
  // --input-shape that is not a shape, or names no input; --batch 0.
  expect_refused("import " + d + out() + " --input-shape banana", {"--input-shape 'banana'"});
  expect_refused("import " + d + out() + " --input-shape y=1x3x8x8",
                 {d, "'y'", "no such data input"});
  expect_refused("import " + p + out() + " --input-shape 1x3x8x8 --batch 0", {p, "--batch 0"});
  // With the values, both import.
  CHECK(run("import " + p + out() + " -q --input-shape 1x3x8x8").code == 0);
  CHECK(run("import " + d + out() + " -q --input-shape x=1x3x8x8").code == 0);
}

TEST_CASE("import --strict: an op lpsim cannot cost is an error, without, one warning line") {
  lpsim::test::TinyCnnOptions o;
  o.extra_op = "Elu";
  const std::string p = model("elu.onnx", o);
  expect_refused("import " + p + out() + " --strict",
                 {p, "node 'extra' (Elu)", "--strict", "Elu x1"});
  const Result r = run("import " + p + out() + " -q");
  CHECK(r.code == 0);
  CHECK(lines(r.err) == 1);
  CHECK_THAT(r.err, Catch::StartsWith("lpsim: warning: " + p) && Catch::Contains("Elu x1"));
}

#endif
