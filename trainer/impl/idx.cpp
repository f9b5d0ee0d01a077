// IDX reader/writer over zlib (gzopen reads plain files transparently).
#include "trainer/idx.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <exception>
#include <memory>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <zlib.h>

#include "core/atomic_file.h"
#include "core/error.h"

namespace lpsim::trainer {
namespace {

struct GzCloser {
  void operator()(gzFile f) const { gzclose(f); }
};
using GzPtr = std::unique_ptr<gzFile_s, GzCloser>;

std::string with_hint(const std::string& message, const std::string& hint) {
  return hint.empty() ? message : message + "; " + hint;
}

std::uint32_t be32(const unsigned char* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

int element_size(std::uint8_t type) {
  switch (type) {
    case 0x08: case 0x09: return 1;
    case 0x0B: return 2;
    case 0x0C: case 0x0D: return 4;
    case 0x0E: return 8;
    default: return 0;
  }
}

float element_value(std::uint8_t type, const unsigned char* p) {
  switch (type) {
    case 0x08: return static_cast<float>(p[0]);
    case 0x09: return static_cast<float>(static_cast<std::int8_t>(p[0]));
    case 0x0B: return static_cast<float>(static_cast<std::int16_t>((p[0] << 8) | p[1]));
    case 0x0C: return static_cast<float>(static_cast<std::int32_t>(be32(p)));
    case 0x0D: {
      const std::uint32_t u = be32(p);
      float f;
      std::memcpy(&f, &u, 4);
      return f;
    }
    default: {  // 0x0E
      std::uint64_t u = (std::uint64_t{be32(p)} << 32) | be32(p + 4);
      double d;
      std::memcpy(&d, &u, 8);
      return static_cast<float>(d);
    }
  }
}

}  // namespace

std::int64_t IdxArray::elements() const {
  std::int64_t n = 1;
  for (auto d : dims) n *= d;
  return n;
}

namespace {

// An IDX file's header and its elements as the file stores them.
struct RawIdx {
  std::uint8_t type = 0x08;
  std::vector<std::int64_t> dims;
  std::vector<unsigned char> bytes;
};

RawIdx read_raw(const std::string& path, const std::string& hint) {
  if (!std::filesystem::is_regular_file(path))
    throw InputError(with_hint(fmt::format("{}: no such file", path), hint));
  GzPtr f(gzopen(path.c_str(), "rb"));
  if (!f) throw InputError(with_hint(fmt::format("{}: cannot open", path), hint));
  gzbuffer(f.get(), 1 << 20);
  auto read_exact = [&](void* dst, std::size_t bytes, const char* what) {
    std::size_t done = 0;
    auto* out = static_cast<unsigned char*>(dst);
    while (done < bytes) {
      const unsigned chunk = static_cast<unsigned>(std::min<std::size_t>(bytes - done, 1u << 30));
      const int got = gzread(f.get(), out + done, chunk);
      if (got < 0) {
        int err = 0;
        const char* msg = gzerror(f.get(), &err);
        throw InputError(with_hint(
            fmt::format("{}: corrupt gzip stream while reading {} ({})", path, what, msg), hint));
      }
      if (got == 0)
        throw InputError(with_hint(
            fmt::format("{}: truncated: {} ends after {} of {} bytes", path, what, done, bytes),
            hint));
      done += static_cast<std::size_t>(got);
    }
  };
  unsigned char magic[4];
  read_exact(magic, 4, "the magic number");
  RawIdx a;
  a.type = magic[2];
  const int rank = magic[3];
  if (magic[0] != 0 || magic[1] != 0 || element_size(a.type) == 0 || rank < 1)
    throw InputError(with_hint(
        fmt::format("{}: not an IDX file (magic {:02x} {:02x} {:02x} {:02x}: expected 00 00, a "
                    "type in 08 09 0b 0c 0d 0e, rank >= 1)",
                    path, magic[0], magic[1], magic[2], magic[3]),
        hint));
  std::vector<unsigned char> dims(4 * static_cast<std::size_t>(rank));
  read_exact(dims.data(), dims.size(), "the dimensions");
  std::int64_t n = 1;
  for (int i = 0; i < rank; ++i) {
    const std::int64_t d = be32(&dims[4 * static_cast<std::size_t>(i)]);
    if (d < 1 || d > (std::int64_t{1} << 31))
      throw InputError(with_hint(
          fmt::format("{}: dimension {} = {}: must be in 1..2^31", path, i, d), hint));
    a.dims.push_back(d);
    // Checked before multiplying: 2^34 x 2^31 overflows int64 (found by fuzz_idx).
    if (n > (std::int64_t{1} << 34) / d)
      throw InputError(with_hint(fmt::format("{}: more than 2^34 elements", path), hint));
    n *= d;
  }
  const int es = element_size(a.type);
  // Grown as the data arrives: a header claiming more than the file holds is
  // refused as truncated, not by allocating the claim (up to 128 GiB) first.
  const std::size_t want = static_cast<std::size_t>(n) * static_cast<std::size_t>(es);
  std::vector<unsigned char> raw;
  while (raw.size() < want) {
    const std::size_t at = raw.size();
    raw.resize(at + std::min<std::size_t>(want - at, std::size_t{64} << 20));
    unsigned char* dst = raw.data() + at;
    const std::size_t bytes = raw.size() - at;
    const int got = gzread(f.get(), dst, static_cast<unsigned>(bytes));
    if (got < 0) read_exact(dst, bytes, "the data");  // reports the gzip error
    if (static_cast<std::size_t>(got) < bytes) {
      raw.resize(at + static_cast<std::size_t>(got));
      if (got == 0)
        throw InputError(with_hint(
            fmt::format("{}: truncated: the data ends after {} of {} bytes", path, raw.size(),
                        want),
            hint));
    }
  }
  unsigned char extra;
  if (gzread(f.get(), &extra, 1) != 0)
    throw InputError(with_hint(
        fmt::format("{}: trailing bytes after {} elements (dimensions say {})", path, n,
                    fmt::join(a.dims, "x")),
        hint));
  a.bytes = std::move(raw);
  return a;
}

std::vector<float> values_of(const RawIdx& r) {
  const std::size_t es = static_cast<std::size_t>(element_size(r.type));
  std::vector<float> values(r.bytes.size() / es);
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = element_value(r.type, &r.bytes[i * es]);
  return values;
}

}  // namespace

IdxArray read_idx(const std::string& path, const std::string& hint) {
  RawIdx r = read_raw(path, hint);
  IdxArray a;
  a.type = r.type;
  a.dims = std::move(r.dims);
  a.values = values_of(r);
  return a;
}

void write_idx_ubyte(const std::string& path, const std::vector<std::int64_t>& dims,
                     const std::vector<std::uint8_t>& values) {
  std::string bytes = {0, 0, 0x08, static_cast<char>(dims.size())};
  for (auto d : dims)
    for (int s = 24; s >= 0; s -= 8) bytes.push_back(static_cast<char>((d >> s) & 0xff));
  bytes.append(values.begin(), values.end());
  if (path.size() > 3 && path.ends_with(".gz")) {
    uLongf cap = compressBound(static_cast<uLong>(bytes.size())) + 64;
    std::string out(cap, '\0');
    z_stream zs{};
    deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    zs.next_in = reinterpret_cast<Bytef*>(bytes.data());
    zs.avail_in = static_cast<uInt>(bytes.size());
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    deflate(&zs, Z_FINISH);
    out.resize(zs.total_out);
    deflateEnd(&zs);
    write_file_atomic(path, out);
  } else {
    write_file_atomic(path, bytes);
  }
}

namespace {

ImageSet load_split(const std::string& dir, const std::string& prefix, std::int64_t limit,
                    const std::string& hint) {
  const std::string img_path = dir + "/" + prefix + "-images-idx3-ubyte.gz";
  const std::string lab_path = dir + "/" + prefix + "-labels-idx1-ubyte.gz";
  const RawIdx img = read_raw(img_path, hint);
  IdxArray lab = read_idx(lab_path, hint);
  if (img.dims.size() != 3)
    throw InputError(with_hint(fmt::format("{}: rank {}: expected 3 (n x rows x cols)", img_path,
                                           img.dims.size()),
                               hint));
  if (lab.dims.size() != 1 || lab.dims[0] != img.dims[0])
    throw InputError(with_hint(fmt::format("{}: expected {} labels (one per image of {})",
                                           lab_path, img.dims[0], img_path),
                               hint));
  ImageSet s;
  s.n = limit > 0 ? std::min(limit, img.dims[0]) : img.dims[0];
  s.height = img.dims[1];
  s.width = img.dims[2];
  const std::size_t count = static_cast<std::size_t>(s.n * s.image_elements());
  s.images.resize(count);
  const float a = 1.0f / (255.0f * kFashionMnistStd);
  const float b = -kFashionMnistMean / kFashionMnistStd;
  if (img.type == 0x08) {  // the usual ubyte pixels: 256 possible results, computed once
    float table[256];
    for (int v = 0; v < 256; ++v) table[v] = static_cast<float>(v) * a + b;
    for (std::size_t i = 0; i < count; ++i) s.images[i] = table[img.bytes[i]];
  } else {
    const std::vector<float> values = values_of(img);
    for (std::size_t i = 0; i < count; ++i) s.images[i] = values[i] * a + b;
  }
  s.labels.resize(static_cast<std::size_t>(s.n));
  for (std::int64_t i = 0; i < s.n; ++i) {
    const float v = lab.values[static_cast<std::size_t>(i)];
    if (v < 0 || v > 9)
      throw InputError(with_hint(
          fmt::format("{}: label {} of sample {}: must be in 0..9", lab_path, v, i), hint));
    s.labels[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v);
  }
  return s;
}

}  // namespace

ImageData load_fashion_mnist(const std::string& dir, std::int64_t train_limit,
                             std::int64_t test_limit) {
  const std::string hint = fmt::format(
      "Fashion-MNIST comes from the Debian package dataset-fashion-mnist "
      "(apt-get install dataset-fashion-mnist, files in {}), or pass --data-dir",
      kFashionMnistDir);
  ImageData d;
  // Two gzip streams, decoded side by side; the training set's error first.
  std::exception_ptr test_error;
  std::thread test([&] {
    try {
      d.test = load_split(dir, "t10k", test_limit, hint);
    } catch (...) {
      test_error = std::current_exception();
    }
  });
  try {
    d.train = load_split(dir, "train", train_limit, hint);
  } catch (...) {
    test.join();
    throw;
  }
  test.join();
  if (test_error) std::rethrow_exception(test_error);
  return d;
}

}  // namespace lpsim::trainer
