#include "core/error.h"

#include <fmt/format.h>

namespace lpsim {

std::string one_line(const char* message) {
  std::string out;
  for (const char* p = message; *p; ++p) {
    const auto c = static_cast<unsigned char>(*p);
    if (c == '\n')
      out += "\\n";
    else if (c == '\r')
      out += "\\r";
    else if ((c < 0x20 && c != '\t') || c == 0x7f)
      out += fmt::format("\\x{:02x}", c);
    else
      out += *p;
  }
  return out;
}

}  // namespace lpsim
