// gzip through zlib: deflate/inflate with the gzip wrapper (windowBits 15 + 16).
#include "traces/impl/gzip.h"

#include <fmt/format.h>
#include <zlib.h>

#include "core/error.h"

namespace lpsim::gzip {

bool has_magic(std::string_view bytes) {
  return bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f &&
         static_cast<unsigned char>(bytes[1]) == 0x8b;
}

std::string compress(std::string_view plain) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw InternalError("zlib: deflateInit2 failed");
  std::string out;
  out.resize(deflateBound(&zs, static_cast<uLong>(plain.size())) + 64);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
  zs.avail_in = static_cast<uInt>(plain.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&zs, Z_FINISH);
  std::size_t produced = zs.total_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) throw InternalError("zlib: deflate did not finish");
  out.resize(produced);
  return out;
}

std::string decompress(std::string_view compressed, std::string_view where) {
  z_stream zs{};
  // 15 + 32: accept a gzip or zlib header.
  if (inflateInit2(&zs, 15 + 32) != Z_OK) throw InternalError("zlib: inflateInit2 failed");
  std::string out;
  char buf[1 << 16];
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  zs.avail_in = static_cast<uInt>(compressed.size());
  int rc = Z_OK;
  while (true) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof buf - zs.avail_out);
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) break;
      // Concatenated gzip members (e.g. `cat a.gz b.gz`) form one stream.
      if (inflateReset(&zs) != Z_OK) break;
      continue;
    }
    if (rc != Z_OK) break;
    if (zs.avail_in == 0 && zs.avail_out != 0) {
      rc = Z_BUF_ERROR;  // input ended before the stream did
      break;
    }
  }
  std::string msg = zs.msg ? zs.msg : "";
  inflateEnd(&zs);
  if (rc != Z_STREAM_END)
    throw InputError(fmt::format(
        "{}: corrupt gzip data: {}", where,
        rc == Z_BUF_ERROR ? "the file is truncated" : (msg.empty() ? "inflate failed" : msg)));
  return out;
}

}  // namespace lpsim::gzip
