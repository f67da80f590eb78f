#include "callbacks/domain/validation.h"

#include <vector>

#include <absl/strings/ascii.h>
#include <fmt/format.h>

#include "base/field_violation.h"

namespace usersvc::callbacks {
namespace {

bool IsLowerHex(char c) { return absl::ascii_isdigit(c) || (c >= 'a' && c <= 'f'); }

// RFC 5322 "atext" plus the dot, the practical set for the local part of an address.
bool IsLocalPartChar(char c) {
  return absl::ascii_isalnum(c) ||
         std::string_view("!#$%&'*+/=?^_`{|}~-.").find(c) != std::string_view::npos;
}

bool IsValidDomain(std::string_view domain) {
  if (domain.empty() || domain.size() > 253) return false;
  std::vector<std::string_view> labels;
  for (size_t start = 0;;) {
    const size_t dot = domain.find('.', start);
    labels.push_back(domain.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (labels.size() < 2) return false;
  for (std::string_view label : labels) {
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!absl::ascii_isalnum(c) && c != '-') return false;
    }
  }
  const std::string_view tld = labels.back();
  if (tld.size() < 2) return false;
  for (char c : tld) {
    if (!absl::ascii_isalpha(c)) return false;
  }
  return true;
}

}  // namespace

absl::Status FieldError(std::string_view field, std::string_view description) {
  return FieldViolationError(field, description);
}

std::string_view TrimAscii(std::string_view text) {
  while (!text.empty() && absl::ascii_isspace(text.front())) text.remove_prefix(1);
  while (!text.empty() && absl::ascii_isspace(text.back())) text.remove_suffix(1);
  return text;
}

size_t Utf8Length(std::string_view text) {
  size_t count = 0;
  for (unsigned char c : text) count += (c & 0xC0) != 0x80;  // count every byte but continuations
  return count;
}

absl::Status CheckUuid(std::string_view field, std::string_view value) {
  if (value.empty()) return FieldError(field, "is required");
  bool ok = value.size() == 36;
  for (size_t i = 0; ok && i < value.size(); ++i) {
    ok = (i == 8 || i == 13 || i == 18 || i == 23) ? value[i] == '-' : IsLowerHex(value[i]);
  }
  return ok ? absl::OkStatus() : FieldError(field, "must be a lowercase canonical UUID");
}

absl::StatusOr<std::string> NormalizeEmail(std::string_view field, std::string_view raw) {
  std::string email(TrimAscii(raw));
  for (char& c : email) c = absl::ascii_tolower(c);
  if (email.empty()) return FieldError(field, "is required");
  if (Utf8Length(email) > 254) return FieldError(field, "must be at most 254 characters");
  const size_t at = email.find('@');
  const bool shape_ok =
      at != std::string::npos && at > 0 && at <= 64 && email.find('@', at + 1) == std::string::npos;
  if (shape_ok) {
    const std::string_view local = std::string_view(email).substr(0, at);
    bool local_ok =
        local.front() != '.' && local.back() != '.' && local.find("..") == std::string_view::npos;
    for (char c : local) local_ok = local_ok && IsLocalPartChar(c);
    if (local_ok && IsValidDomain(std::string_view(email).substr(at + 1))) return email;
  }
  return FieldError(field, "must be a valid email address");
}

absl::Status CheckUsername(std::string_view field, std::string_view value) {
  if (value.empty()) return FieldError(field, "is required");
  if (value.size() < 3 || value.size() > 30) {
    return FieldError(field, "must be 3 to 30 characters");
  }
  for (char c : value) {
    if (!absl::ascii_isalnum(c) && c != '_' && c != '.' && c != '-') {
      return FieldError(field, "may contain only letters, digits, '_', '.' and '-'");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckPassword(std::string_view field, std::string_view value) {
  const size_t length = Utf8Length(value);
  if (length < 8 || length > 128) return FieldError(field, "must be 8 to 128 characters");
  return absl::OkStatus();
}

absl::Status CheckLength(std::string_view field, std::string_view value, size_t max_chars) {
  // PostgreSQL's text cannot hold U+0000: refused here rather than cut short or failed there.
  if (value.find('\0') != std::string_view::npos) {
    return FieldError(field, "must not contain NUL characters");
  }
  if (Utf8Length(value) > max_chars) {
    return FieldError(field, fmt::format("must be at most {} characters", max_chars));
  }
  return absl::OkStatus();
}

absl::Status CheckName(std::string_view field, std::string_view value) {
  for (unsigned char c : value) {
    if (c < 0x20 || c == 0x7F) return FieldError(field, "must not contain control characters");
  }
  return CheckLength(field, value, 100);
}

absl::Status CheckPhone(std::string_view field, std::string_view value) {
  if (value.empty()) return absl::OkStatus();
  bool ok = value.size() >= 3 && value.size() <= 16 && value[0] == '+' && value[1] >= '1' &&
            value[1] <= '9';
  for (size_t i = 2; ok && i < value.size(); ++i) ok = absl::ascii_isdigit(value[i]);
  return ok ? absl::OkStatus()
            : FieldError(field, "must be empty or an E.164 number like +14155550123");
}

absl::Status CheckLanguageTag(std::string_view field, std::string_view value) {
  bool ok = !value.empty() && value.size() <= 35;
  size_t subtag_start = 0;
  for (size_t i = 0; ok && i <= value.size(); ++i) {
    if (i < value.size() && value[i] != '-') {
      ok = absl::ascii_isalnum(value[i]) && (subtag_start > 0 || absl::ascii_isalpha(value[i]));
      continue;
    }
    const size_t length = i - subtag_start;
    ok = subtag_start == 0 ? (length == 2 || length == 3) : (length >= 1 && length <= 8);
    subtag_start = i + 1;
  }
  return ok ? absl::OkStatus() : FieldError(field, "must be a BCP 47 language tag like \"pt-BR\"");
}

}  // namespace usersvc::callbacks
