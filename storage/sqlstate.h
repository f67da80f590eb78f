#pragma once

#include <string_view>

#include <absl/status/status.h>

namespace usersvc::storage {

/// The database errors callers act on, by what they mean rather than by SQLSTATE, so that no
/// handler compares five-character codes.
enum class SqlError {
  kNone,                  // no database error (success, or a failure before PostgreSQL)
  kUniqueViolation,       // 23505: the constraint is on the Result
  kSerializationFailure,  // 40001, 40P01 (deadlock): retry the transaction
  kQueryCanceled,         // 57014: the statement timeout
  kUnreachable,           // class 08, 57P01..57P03, 53300: the database is not there now
  kServiceRefusal,        // class U0: raised by this service's own SQL functions (migrations)
  kOther,
};

/// What a PostgreSQL error report says, as libpq hands it over.
struct PgErrorFields {
  std::string_view sqlstate;
  std::string_view message;  // the primary message
  std::string_view column;   // COLUMN: the request field of a U0400 (usersvc_raise_field)
  std::string_view detail;   // DETAIL: what is wrong with it
};

SqlError SqlErrorOf(std::string_view sqlstate);

/// The one place where a PostgreSQL error becomes a status for callers. Messages never carry
/// SQL or data, so callers may pass them straight to clients: PostgreSQL's own messages are
/// replaced, and only the SQLSTATEs of class U0, raised by this service's own SQL functions
/// (storage/migrations), keep `message`, which those functions write for clients. A U0400 that
/// names its field (COLUMN and DETAIL) becomes a field violation (base/field_violation.h).
absl::Status StatusFromPgError(const PgErrorFields& error);

/// The status for a query that never reached the database, or a read lost with its connection:
/// UNAVAILABLE, safe to retry.
absl::Status ConnectionLost();

/// The status for a change whose statement was sent but whose answer never came (the connection
/// was lost): it may or may not have been applied. UNKNOWN, which no retry policy of ours reads
/// as "not applied".
absl::Status OutcomeUnknown();

}  // namespace usersvc::storage
