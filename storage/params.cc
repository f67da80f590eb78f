#include "storage/params.h"

#include <absl/strings/str_cat.h>

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
  out.emplace_back(absl::StrCat(absl::ToInt64Microseconds(value), " microseconds"));
}

}  // namespace params_internal
}  // namespace usersvc::storage
