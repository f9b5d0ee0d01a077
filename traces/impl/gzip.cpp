// gzip through zlib: deflate with the gzip wrapper (windowBits 15 + 16). Reading
// gunzips on the fly, under the input caps: core/input_file.h.
#include "traces/impl/gzip.h"

#include <fmt/format.h>
#include <zlib.h>

#include "core/error.h"

namespace lpsim::gzip {

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

}  // namespace lpsim::gzip
