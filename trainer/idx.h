// IDX files (LeCun's MNIST format, gzipped or plain) and the Fashion-MNIST
// data set read from them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lpsim::trainer {

// An IDX array: magic 0x0000 <type> <rank>, then `rank` big-endian uint32
// dimensions, then the elements big-endian. Every element type of the format
// (ubyte 0x08, byte 0x09, short 0x0B, int 0x0C, float 0x0D, double 0x0E) is
// read and converted to float.
struct IdxArray {
  std::uint8_t type = 0x08;
  std::vector<std::int64_t> dims;
  std::vector<float> values;
  std::int64_t elements() const;
};

// Reads `path` (gzip detected by zlib, plain accepted). Throws InputError
// naming the file and what is wrong (missing, truncated, bad magic, ...),
// followed by `hint` when it is not empty.
IdxArray read_idx(const std::string& path, const std::string& hint = "");

// Writes an IDX ubyte array (gzipped when the path ends in .gz); for tests
// and tools.
void write_idx_ubyte(const std::string& path, const std::vector<std::int64_t>& dims,
                     const std::vector<std::uint8_t>& values);

// Images as float [n x channels x height x width], normalised with the data
// set's mean and standard deviation; labels 0..classes-1.
struct ImageSet {
  std::int64_t n = 0, channels = 1, height = 0, width = 0;
  std::vector<float> images;
  std::vector<std::uint8_t> labels;
  std::int64_t image_elements() const { return channels * height * width; }
};

struct ImageData {
  ImageSet train, test;
  int classes = 10;
};

inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";
// Fashion-MNIST training-set statistics of pixel/255 (Xiao et al. 2017 data).
inline constexpr float kFashionMnistMean = 0.2860f;
inline constexpr float kFashionMnistStd = 0.3530f;

// Loads {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz from `dir`. The
// first `train_limit` / `test_limit` samples are kept (0 = all).
ImageData load_fashion_mnist(const std::string& dir, std::int64_t train_limit = 0,
                             std::int64_t test_limit = 0);

}  // namespace lpsim::trainer
