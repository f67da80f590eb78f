#include "storage/params.h"

#include <cstdlib>

#include <absl/strings/str_format.h>

namespace usersvc::storage {

std::string ArrayLiteral(absl::Span<const std::string> values) {
  std::string literal = "{";
  for (const std::string& value : values) {
    if (literal.size() > 1) literal += ',';
    literal += '"';
    for (char c : value) {
      if (c == '"' || c == '\\') literal += '\\';
      literal += c;
    }
    literal += '"';
  }
  return literal + "}";
}

namespace params_internal {

void Append(Params& out, absl::Duration value) {
  const int64_t micros = absl::ToInt64Microseconds(value);
  out.emplace_back(absl::StrFormat("%s%d.%06d seconds", micros < 0 ? "-" : "",
                                   std::abs(micros / 1'000'000), std::abs(micros % 1'000'000)));
}

}  // namespace params_internal
}  // namespace usersvc::storage
