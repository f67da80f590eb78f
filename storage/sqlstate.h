#pragma once

#include <string_view>

#include <absl/status/status.h>

namespace usersvc::storage {

/// The one place where a PostgreSQL SQLSTATE becomes a status for callers. Messages never carry
/// SQL or data: callers may pass them straight to clients.
absl::Status StatusFromSqlState(std::string_view sqlstate);

/// The status for a query that was lost with its connection.
absl::Status ConnectionLost();

}  // namespace usersvc::storage
