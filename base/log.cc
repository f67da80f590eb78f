#include "base/log.h"

#include <unistd.h>

#include <atomic>

#include <absl/time/clock.h>
#include <absl/time/time.h>
#include <fmt/format.h>

namespace usersvc {
namespace {

std::atomic<LogLevel> min_level{LogLevel::kInfo};

std::string_view LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

}  // namespace

LogField::LogField(std::string_view field_key, std::string_view value)
    : key(field_key), json(JsonQuote(value)) {}
LogField::LogField(std::string_view field_key, int64_t value)
    : key(field_key), json(fmt::format("{}", value)) {}
LogField::LogField(std::string_view field_key, double value)
    : key(field_key), json(fmt::format("{:.3f}", value)) {}

std::string JsonQuote(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out.push_back('"');
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += fmt::format("\\u{:04x}", c);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
  return out;
}

void SetLogLevel(LogLevel level) { min_level.store(level, std::memory_order_relaxed); }

bool ParseLogLevel(std::string_view text, LogLevel* level) {
  for (LogLevel candidate :
       {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarning, LogLevel::kError}) {
    if (text == LevelName(candidate)) {
      *level = candidate;
      return true;
    }
  }
  return false;
}

bool LogEnabled(LogLevel level) { return level >= min_level.load(std::memory_order_relaxed); }

void Log(LogLevel level, std::string_view message, std::initializer_list<LogField> fields) {
  if (!LogEnabled(level)) return;
  std::string line =
      fmt::format(R"({{"time":"{}","level":"{}","msg":{})",
                  absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::Now(), absl::UTCTimeZone()),
                  LevelName(level), JsonQuote(message));
  for (const LogField& field : fields) {
    line += fmt::format(",{}:{}", JsonQuote(field.key), field.json);
  }
  line += "}\n";
  // One write per line keeps lines from different threads whole.
  (void)!::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace usersvc
