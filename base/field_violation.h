#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <absl/status/status.h>

namespace usersvc {

/// A request field that is wrong, and what is wrong with it.
struct FieldViolation {
  std::string field;  // its path in the request, e.g. "preferences.timezone"
  std::string description;
};

/// INVALID_ARGUMENT for `field`: the message reads "<field>: <description>", and the two travel
/// as a payload of their own, which server/ turns into the google.rpc.BadRequest the contract
/// promises. Every layer that rejects a field (validation in callbacks/, the SQL functions through
/// storage/) makes its status here, so nothing downstream has to read the message apart.
absl::Status FieldViolationError(std::string_view field, std::string_view description);

/// The violation a status carries, if it was made by FieldViolationError.
std::optional<FieldViolation> FieldViolationOf(const absl::Status& status);

}  // namespace usersvc
