#pragma once

#include <string_view>

#include <absl/status/status.h>

namespace usersvc::storage {

/// The one place where a PostgreSQL SQLSTATE becomes a status for callers. Messages never carry
/// SQL or data, so callers may pass them straight to clients: PostgreSQL's own messages are
/// replaced, and only the SQLSTATEs of class U0, raised by this service's own SQL functions
/// (storage/migrations), keep `message`, which those functions write for clients.
absl::Status StatusFromSqlState(std::string_view sqlstate, std::string_view message = {});

/// The status for a query that never reached the database, or a read lost with its connection:
/// UNAVAILABLE, safe to retry.
absl::Status ConnectionLost();

/// The status for a change whose statement was sent but whose answer never came (the connection
/// was lost): it may or may not have been applied. UNKNOWN, which no retry policy of ours reads
/// as "not applied".
absl::Status OutcomeUnknown();

}  // namespace usersvc::storage
