// A gzip member of zero bytes, for the gzip-bomb tests (bad_inputs, tools):
// 16 MiB of zeros deflate to about 16 kB.
#pragma once

#include <zlib.h>

#include <catch2/catch.hpp>
#include <cstddef>
#include <string>

namespace lpsim::test {

inline std::string gzip_zeros(std::size_t bytes) {
  z_stream zs{};
  REQUIRE(deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) == Z_OK);
  const std::string zeros(bytes, '\0');
  std::string out(deflateBound(&zs, static_cast<uLong>(bytes)) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(zeros.data()));
  zs.avail_in = static_cast<uInt>(zeros.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&zs, Z_FINISH) == Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

}  // namespace lpsim::test
