#include "storage/statement_timeout.h"

#include <algorithm>

namespace usersvc::storage {

std::optional<int64_t> StatementTimeout::ToSet(std::optional<int64_t> current_ms,
                                               absl::Duration remaining) const {
  // 0 would mean "no timeout" to PostgreSQL: the shortest bound is 1 ms.
  const int64_t needed_ms = std::max<int64_t>(
      1, absl::ToInt64Milliseconds(absl::Ceil(std::min(remaining, cap_), absl::Milliseconds(1))));
  if (current_ms && *current_ms >= needed_ms && *current_ms <= 2 * needed_ms + 100) {
    return std::nullopt;
  }
  // Half way into the fitting range, so the next calls with a slightly shorter or longer
  // deadline keep it.
  return needed_ms + needed_ms / 2 + 50;
}

}  // namespace usersvc::storage
