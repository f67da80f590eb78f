#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include <absl/strings/string_view.h>

namespace usersvc {

/// Structured logging: one JSON object per line on stderr. It lives in the lowest layer so that
/// every layer can log; callers must never pass passwords, hashes or raw tokens.
enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

/// One key and its value, already rendered as JSON.
struct LogField {
  LogField(std::string_view name, std::string_view value);
  LogField(std::string_view name, const char* value) : LogField(name, std::string_view(value)) {}
  LogField(std::string_view name, const std::string& value)
      : LogField(name, std::string_view(value)) {}
  // Debian's abseil keeps its own string_view type (ABSL_OPTION_USE_STD_STRING_VIEW is 0).
  LogField(std::string_view name, absl::string_view value)
      : LogField(name, std::string_view(value.data(), value.size())) {}
  LogField(std::string_view name, int64_t value);
  LogField(std::string_view name, int value) : LogField(name, static_cast<int64_t>(value)) {}
  LogField(std::string_view name, double value);

  std::string_view key;
  std::string json;
};

void SetLogLevel(LogLevel level);
/// Whether a line at `level` would be written: check it before building costly fields.
bool LogEnabled(LogLevel level);
bool ParseLogLevel(std::string_view text, LogLevel* level);
void Log(LogLevel level, std::string_view message, std::initializer_list<LogField> fields = {});

/// `text` as a JSON string literal, quotes included.
std::string JsonQuote(std::string_view text);

}  // namespace usersvc
