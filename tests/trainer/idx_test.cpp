// The IDX reader on tiny files the tests write.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "trainer/idx.h"

using namespace lpsim;
using namespace lpsim::trainer;

namespace {
std::string temp_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("lpsim_idx_test_" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}
}  // namespace

TEST_CASE("an IDX ubyte file reads back with its dimensions and values, gzipped or plain") {
  const std::string dir = temp_dir("roundtrip");
  const std::vector<std::uint8_t> v = {0, 1, 2, 250, 254, 255};
  for (const std::string name : {"a.idx.gz", "a.idx"}) {
    write_idx_ubyte(dir + "/" + name, {2, 3}, v);
    const IdxArray a = read_idx(dir + "/" + name);
    CHECK(a.type == 0x08);
    CHECK(a.dims == std::vector<std::int64_t>{2, 3});
    CHECK(a.values == std::vector<float>{0, 1, 2, 250, 254, 255});
  }
}

TEST_CASE("IDX int and float element types are read big-endian") {
  const std::string path = temp_dir("types") + "/t.idx";
  // type 0x0C (int32), rank 1, 2 elements: -2 and 258; then type 0x0D float 1.5.
  const unsigned char bytes[] = {0, 0, 0x0C, 1, 0, 0, 0, 2, 0xff, 0xff, 0xff, 0xfe, 0, 0, 1, 2};
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes), sizeof bytes);
  CHECK(read_idx(path).values == std::vector<float>{-2.0f, 258.0f});
  const unsigned char fbytes[] = {0, 0, 0x0D, 1, 0, 0, 0, 1, 0x3f, 0xc0, 0, 0};
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(fbytes), sizeof fbytes);
  CHECK(read_idx(path).values == std::vector<float>{1.5f});
}

TEST_CASE("a missing, truncated or foreign IDX file is an input error naming the file") {
  const std::string dir = temp_dir("bad");
  CHECK_THROWS_WITH(read_idx(dir + "/none.gz", "install it"),
                    Catch::Contains("none.gz: no such file; install it"));
  const unsigned char truncated[] = {0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3};
  std::ofstream(dir + "/short", std::ios::binary)
      .write(reinterpret_cast<const char*>(truncated), sizeof truncated);
  CHECK_THROWS_WITH(read_idx(dir + "/short"), Catch::Contains("short: truncated"));
  std::ofstream(dir + "/text") << "hello world, not IDX";
  CHECK_THROWS_WITH(read_idx(dir + "/text"), Catch::Contains("text: not an IDX file"));
  const unsigned char extra[] = {0, 0, 0x08, 1, 0, 0, 0, 1, 7, 8};
  std::ofstream(dir + "/extra", std::ios::binary)
      .write(reinterpret_cast<const char*>(extra), sizeof extra);
  CHECK_THROWS_WITH(read_idx(dir + "/extra"), Catch::Contains("trailing bytes"));
}

TEST_CASE("Fashion-MNIST loads from a folder of IDX files, normalised, limited on request") {
  const std::string dir = temp_dir("fmnist");
  std::vector<std::uint8_t> pixels(3 * 28 * 28, 0);
  pixels[28 * 28] = 255;  // first pixel of the second image
  write_idx_ubyte(dir + "/train-images-idx3-ubyte.gz", {3, 28, 28}, pixels);
  write_idx_ubyte(dir + "/train-labels-idx1-ubyte.gz", {3}, {9, 0, 4});
  write_idx_ubyte(dir + "/t10k-images-idx3-ubyte.gz", {1, 28, 28},
                  std::vector<std::uint8_t>(28 * 28, 0));
  write_idx_ubyte(dir + "/t10k-labels-idx1-ubyte.gz", {1}, {3});
  const ImageData d = load_fashion_mnist(dir, 2, 0);
  CHECK(d.train.n == 2);
  CHECK(d.test.n == 1);
  CHECK(d.train.labels == std::vector<std::uint8_t>{9, 0});
  CHECK_THAT(d.train.images[0], Catch::Matchers::WithinAbs(-0.2860 / 0.3530, 1e-5));
  CHECK_THAT(d.train.images[28 * 28], Catch::Matchers::WithinAbs((1 - 0.2860) / 0.3530, 1e-5));
}

TEST_CASE("a missing Fashion-MNIST folder names the Debian package to install") {
  CHECK_THROWS_WITH(load_fashion_mnist("/nonexistent/fmnist"),
                    Catch::Contains("train-images-idx3-ubyte.gz: no such file") &&
                        Catch::Contains("dataset-fashion-mnist"));
}

TEST_CASE("a label outside 0..9 is an input error") {
  const std::string dir = temp_dir("labels");
  write_idx_ubyte(dir + "/train-images-idx3-ubyte.gz", {1, 28, 28},
                  std::vector<std::uint8_t>(28 * 28, 0));
  write_idx_ubyte(dir + "/train-labels-idx1-ubyte.gz", {1}, {12});
  write_idx_ubyte(dir + "/t10k-images-idx3-ubyte.gz", {1, 28, 28},
                  std::vector<std::uint8_t>(28 * 28, 0));
  write_idx_ubyte(dir + "/t10k-labels-idx1-ubyte.gz", {1}, {3});
  CHECK_THROWS_WITH(load_fashion_mnist(dir), Catch::Contains("label 12"));
}
