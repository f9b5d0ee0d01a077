// gzip (RFC 1952) compression of whole files in memory, through zlib
// (reading: core/input_file.h).
#pragma once

#include <string>
#include <string_view>

namespace lpsim::gzip {

std::string compress(std::string_view plain);

}  // namespace lpsim::gzip
