// Bad network descriptions (graphs embedded in traces, SCALE-Sim topology
// CSVs), bad IDX data sets, and absurd numbers on the command line.
#include <catch2/catch.hpp>

#include <string>

#include "bad_inputs/runner.h"

using namespace lpsim::bad_inputs;

namespace {

// A trace whose header carries `graph` (models/graph_io.h JSON) in place of a
// zoo model name.
std::string graph_trace(const std::string& name, const std::string& graph) {
  return write(name,
               R"({"lpsim_trace":1,"producer":"catalogue","graph":)" + graph +
                   R"(,"dataset":"d","samples_per_epoch":10,"batch":4,"epochs":1,)"
                   R"("total_iterations":3,"schedule":"static:8/8","seed":0})"
                   "\n"
                   R"({"seg":[0,3],"W":"8","A":"8","E":"8","G":"8"})"
                   "\n"
                   R"({"end":2})"
                   "\n");
}

std::string graph(const std::string& input_shape, const std::string& extra_layer) {
  return R"({"name":"g","layers":[{"name":"x","kind":"input","shape":)" + input_shape +
         R"(},)" + extra_layer + "]}";
}

const std::string kLinear = R"({"name":"fc","kind":"linear","inputs":["x"],"out_features":10})";

std::string topology(const std::string& name, const std::string& row) {
  return write(name,
               "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
               "Num Filter, Strides,\n" + row + "\n");
}

// A topology whose header adds the optional W Bits, A Bits and Groups columns.
std::string topology_bits(const std::string& name, const std::string& row) {
  return write(name,
               "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
               "Num Filter, Strides, W Bits, A Bits, Groups,\n" +
                   row + "\n");
}

// An IDX data-set folder whose training images are `images` (labels valid).
std::string dataset(const std::string& name, const std::string& images) {
  const auto dir = scratch() / name;
  fs::create_directories(dir);
  auto gz = [&](const std::string& file, const std::string& bytes) {
    const std::string plain = (dir / file).string();
    std::ofstream(plain, std::ios::binary) << bytes;
    REQUIRE(std::system(("gzip -nf " + plain).c_str()) == 0);
  };
  const std::string labels = std::string("\0\0\x08\x01\0\0\0\x02\x01\x02", 10);
  const std::string good_images = std::string("\0\0\x08\x03\0\0\0\x02\0\0\0\x02\0\0\0\x02", 16) +
                                  std::string(8, '\x10');
  gz("train-images-idx3-ubyte", images);
  gz("train-labels-idx1-ubyte", labels);
  gz("t10k-images-idx3-ubyte", good_images);
  gz("t10k-labels-idx1-ubyte", labels);
  return dir.string();
}

std::string train(const std::string& dir) {
  return "train --model mlp --epochs 1 -q --data-dir " + dir + " -o " + path_of("train_out.lpt");
}

}  // namespace

TEST_CASE("the catalogue's valid embedded graph is accepted") {
  const Result r = run("bitops -q " + graph_trace("good_graph.lpt", graph("[3, 8, 8]", kLinear)));
  CHECK(r.code == 0);
  CHECK(r.err.empty());
}

TEST_CASE("bad graph: a negative input dimension") {
  const auto p = graph_trace("negative_shape.lpt", graph("[3, -8, 8]", kLinear));
  expect_refused("bitops " + p, {p, "shape"});
}

TEST_CASE("bad graph: a layer of 10^12 elements") {
  const auto p = graph_trace("huge_layer.lpt", graph("[1000, 1000, 1000000]", kLinear));
  expect_refused("bitops " + p, {p, "x", "elements"});
}

TEST_CASE("bad graph: an unknown layer key") {
  const auto p = graph_trace(
      "unknown_layer_key.lpt",
      graph("[3, 8, 8]", R"({"name":"fc","kind":"linear","inputs":["x"],"out_features":10,"wings":2})"));
  expect_refused("bitops " + p, {p, "fc", "wings"});
}

TEST_CASE("bad graph: a layer fed by a layer that does not exist") {
  const auto p = graph_trace(
      "dangling_input.lpt",
      graph("[3, 8, 8]", R"({"name":"fc","kind":"linear","inputs":["ghost"],"out_features":10})"));
  expect_refused("bitops " + p, {p, "fc", "ghost"});
}

TEST_CASE("bad graph: a graph without layers is named by trace file, line and field") {
  const auto p = graph_trace("no_layers.lpt", R"({"name":"g","layers":[]})");
  // Every command that takes a trace reads its graph through trace_graph.
  expect_refused("bitops " + p, {p + ":1: field \"graph\"", "layers", "non-empty"});
  expect_refused("simulate " + p + " --arch tpu_int8",
                 {p + ":1: field \"graph\"", "layers", "non-empty"});
}

TEST_CASE("bad topology: an empty file") {
  const auto p = write("empty_topology.csv", "");
  expect_refused("simulate --topology " + p, {p});
}

TEST_CASE("bad topology: a negative filter size") {
  const auto p = topology("negative_topology.csv", "conv1, 224, 224, -3, 3, 3, 64, 1,");
  expect_refused("simulate --topology " + p, {p, "Filter Height", "-3"});
}

TEST_CASE("bad topology: a 10^12-element input feature map") {
  const auto p = topology("huge_topology.csv", "conv1, 1000000, 1000000, 3, 3, 1000, 64, 1,");
  expect_refused("simulate --topology " + p, {p, "conv1"});
}

TEST_CASE("bad topology: a row with too few columns") {
  const auto p = topology("short_topology.csv", "conv1, 224, 224, 3");
  expect_refused("simulate --topology " + p, {p, "columns"});
}

TEST_CASE("bad topology: a 0-bit weight column") {
  const auto p = topology_bits("w0_topology.csv", "conv1, 226, 226, 3, 3, 64, 128, 1, 0, 8, 1,");
  expect_refused("simulate --topology " + p, {p + ":2", "conv1", "'W Bits' = '0'", "1..64"});
}

TEST_CASE("bad topology: a 65-bit activation column") {
  const auto p = topology_bits("a65_topology.csv", "conv1, 226, 226, 3, 3, 64, 128, 1, 8, 65, 1,");
  expect_refused("simulate --topology " + p, {p + ":2", "conv1", "'A Bits' = '65'", "1..64"});
}

TEST_CASE("bad topology: a fractional bit width") {
  const auto p = topology_bits("wfrac_topology.csv", "conv1, 226, 226, 3, 3, 64, 128, 1, 4.5, 8,");
  expect_refused("simulate --topology " + p, {p + ":2", "conv1", "'W Bits' = '4.5'", "1..64"});
}

TEST_CASE("bad topology: groups that do not divide the channels") {
  const auto p =
      topology_bits("groups_topology.csv", "conv1, 226, 226, 3, 3, 64, 128, 1, 8, 8, 3,");
  expect_refused("simulate --topology " + p, {p + ":2", "conv1", "'Groups' = '3'",
                                              "divides Channels (64) and Num Filter (128)"});
}

TEST_CASE("bad topology: zero groups") {
  const auto p =
      topology_bits("groups0_topology.csv", "conv1, 226, 226, 3, 3, 64, 128, 1, 8, 8, 0,");
  expect_refused("simulate --topology " + p, {p + ":2", "conv1", "'Groups' = '0'", "1.."});
}

TEST_CASE("bad topology: an unknown optional column in the header") {
  const auto p = write("sparsity_topology.csv",
                       "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, "
                       "Channels, Num Filter, Strides, Sparsity,\nconv1, 226, 226, 3, 3, 64, 128, "
                       "1, 2,\n");
  expect_refused("simulate --topology " + p, {p + ":1", "'Sparsity'", "W Bits, A Bits, Groups"});
}

TEST_CASE("bad topology: a directory where the CSV belongs") {
  const auto p = path_of("topology_dir.csv");
  fs::create_directories(p);
  expect_refused("simulate --topology " + p, {p});
}

TEST_CASE("bad data set: a folder without the IDX files") {
  const auto dir = scratch() / "no_dataset";
  fs::create_directories(dir);
  expect_refused(train(dir.string()), {"train-images-idx3-ubyte.gz", "dataset-fashion-mnist"});
}

TEST_CASE("bad data set: an IDX file with the wrong magic number") {
  const auto dir = dataset("bad_magic", std::string("\x12\x34\x08\x03\0\0\0\x01", 8));
  expect_refused(train(dir), {"train-images-idx3-ubyte.gz", "not an IDX file"});
}

TEST_CASE("bad data set: IDX images cut short") {
  const auto dir = dataset("cut_images",
                           std::string("\0\0\x08\x03\0\0\0\x02\0\0\0\x02\0\0\0\x02", 16) + "\x10\x10");
  expect_refused(train(dir), {"train-images-idx3-ubyte.gz", "truncated"});
}

TEST_CASE("bad data set: an IDX header claiming 2^34 elements") {
  const auto dir = dataset("huge_idx", std::string("\0\0\x0e\x03\0\x01\0\0\0\x01\0\0\0\x01\0\0", 16));
  expect_refused(train(dir), {"train-images-idx3-ubyte.gz"});
}

// 2^17 x 2^16 x 2^31: the product passes 2^63 at the third dimension.
TEST_CASE("bad data set: IDX dimensions whose product overflows 64 bits") {
  const auto dir = dataset("overflow_idx", std::string("\0\0\x08\x03\0\x02\0\0\0\x01\0\0\x80\0\0\0", 16));
  expect_refused(train(dir), {"train-images-idx3-ubyte.gz", "more than 2^34 elements"});
}

TEST_CASE("bad number: synth --batch 0") {
  expect_refused("synth --model resnet20 --batch 0 -o " + path_of("b0.lpt"), {"batch", "0"});
}

TEST_CASE("bad number: synth --epochs -1") {
  expect_refused("synth --model resnet20 --epochs -1 -o " + path_of("e.lpt"), {"epochs", "-1"});
}

TEST_CASE("bad number: synth --batch 10^12") {
  expect_refused("synth --model resnet20 --batch 1000000000000 -o " + path_of("b.lpt"),
                 {"batch", "1000000000000"});
}

TEST_CASE("bad number: a fast-cycling schedule over 10^15 iterations") {
  expect_refused("synth --model resnet20 --iterations 1000000000000000 --schedule "
                 "cyclic:3-8/8,cycles=1000000000 -o " + path_of("it.lpt"),
                 {"iterations = 1000000000000000", "at most 1000000000"});
}

TEST_CASE("bad number: simulate --topology --batch 10^12") {
  const auto p = topology("batch_topology.csv", "conv1, 224, 224, 3, 3, 3, 64, 1,");
  expect_refused("simulate --topology " + p + " --batch 1000000000000", {"batch"});
}
