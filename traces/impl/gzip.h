// gzip (RFC 1952) compression of whole files in memory, through zlib.
#pragma once

#include <string>
#include <string_view>

namespace lpsim::gzip {

// True when `bytes` starts with the gzip magic number 1f 8b.
bool has_magic(std::string_view bytes);
std::string compress(std::string_view plain);
// Throws InputError "<where>: corrupt gzip data: ..." on damaged or cut input.
std::string decompress(std::string_view compressed, std::string_view where);

}  // namespace lpsim::gzip
