#pragma once

#include <cstdint>
#include <optional>

#include <absl/time/time.h>

namespace usersvc::storage {

/// Bounds every statement by its caller's remaining deadline, so that a query stuck behind a lock
/// is cancelled by PostgreSQL itself (SQLSTATE 57014) instead of holding its connection after the
/// caller has gone. libpq 15's PQcancel blocks, which no pool or CQ thread may do; a
/// `statement_timeout` set in the same pipeline costs no extra round trip.
///
/// The timeout is a session setting, so a connection keeps one value until a statement needs a
/// different one. A value fits when it never cuts a statement short (>= the remaining time) and
/// still ends it promptly (<= twice the remaining time plus 100 ms): calls with similar deadlines
/// then share a setting instead of changing it before every statement.
class StatementTimeout {
 public:
  /// A statement without a deadline is still bounded by this.
  explicit StatementTimeout(absl::Duration cap) : cap_(cap) {}

  /// The statement_timeout in milliseconds to set before a statement that must finish within
  /// `remaining`, or std::nullopt when `current_ms` (std::nullopt: unknown) already fits.
  std::optional<int64_t> ToSet(std::optional<int64_t> current_ms, absl::Duration remaining) const;

 private:
  absl::Duration cap_;
};

}  // namespace usersvc::storage
