#include "base/field_violation.h"

#include <absl/strings/cord.h>
#include <absl/strings/str_cat.h>

namespace usersvc {
namespace {

// Not a google.rpc type URL: server/ forwards those as they are, and builds the BadRequest
// from this one itself.
constexpr char kPayloadUrl[] = "usersvc/field-violation";

}  // namespace

absl::Status FieldViolationError(std::string_view field, std::string_view description) {
  const absl::string_view field_view(field.data(), field.size());
  const absl::string_view description_view(description.data(), description.size());
  absl::Status status =
      absl::InvalidArgumentError(absl::StrCat(field_view, ": ", description_view));
  // The field, a NUL, the description: a field path never holds a NUL.
  status.SetPayload(kPayloadUrl,
                    absl::Cord(absl::StrCat(field_view, std::string(1, '\0'), description_view)));
  return status;
}

std::optional<FieldViolation> FieldViolationOf(const absl::Status& status) {
  const auto payload = status.GetPayload(kPayloadUrl);  // an absl::optional<absl::Cord>
  if (!payload) return std::nullopt;
  const std::string flat(*payload);
  const size_t nul = flat.find('\0');
  if (nul == std::string::npos) return std::nullopt;
  return FieldViolation{flat.substr(0, nul), flat.substr(nul + 1)};
}

}  // namespace usersvc
