#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <absl/status/status.h>
#include <absl/status/statusor.h>

/// Request validation as pure functions. Every error is INVALID_ARGUMENT whose message starts with
/// the offending field's path ("email: must be a valid email address") and never echoes a secret.
namespace usersvc::callbacks {

/// INVALID_ARGUMENT "<field>: <description>".
absl::Status FieldError(std::string_view field, std::string_view description);

/// `text` without leading and trailing ASCII white space.
std::string_view TrimAscii(std::string_view text);

/// Code points in `text` (protobuf has already checked it is UTF-8).
size_t Utf8Length(std::string_view text);

/// A required, lowercase canonical UUID ("123e4567-e89b-12d3-a456-426614174000").
absl::Status CheckUuid(std::string_view field, std::string_view value);

/// Trims and lower-cases an email, then checks its shape and length (at most 254 characters).
absl::StatusOr<std::string> NormalizeEmail(std::string_view field, std::string_view raw);

/// 3 to 30 of [A-Za-z0-9_.-].
absl::Status CheckUsername(std::string_view field, std::string_view value);

/// 8 to 128 characters.
absl::Status CheckPassword(std::string_view field, std::string_view value);

/// A first or last name: CheckLength's rules (at most 100 characters), and no control
/// characters (U+0000 to U+001F, U+007F): SearchUsers tells fields apart by one (migration 0011).
absl::Status CheckName(std::string_view field, std::string_view value);

/// At most `max_chars` characters and no NUL; empty is fine.
absl::Status CheckLength(std::string_view field, std::string_view value, size_t max_chars);

/// Empty, or E.164: '+', a non-zero digit, then 1 to 14 more digits.
absl::Status CheckPhone(std::string_view field, std::string_view value);

/// A BCP 47 language tag's shape: a 2-3 letter language, then subtags of 1-8 letters or digits
/// ("en", "pt-BR", "zh-Hant-TW"); at most 35 characters.
absl::Status CheckLanguageTag(std::string_view field, std::string_view value);

}  // namespace usersvc::callbacks
