#include "storage/sqlstate.h"

#include <string>

#include "base/field_violation.h"

namespace usersvc::storage {

SqlError SqlErrorOf(std::string_view sqlstate) {
  if (sqlstate.empty()) return SqlError::kNone;
  if (sqlstate == "23505") return SqlError::kUniqueViolation;
  if (sqlstate == "40001" || sqlstate == "40P01") return SqlError::kSerializationFailure;
  if (sqlstate == "57014") return SqlError::kQueryCanceled;
  // Class 08 (connection exception), 57P01..57P03 (admin shutdown, crash shutdown, cannot connect
  // now) and 53300 (too many connections) mean the database is not reachable right now.
  if (sqlstate.starts_with("08") || sqlstate == "57P01" || sqlstate == "57P02" ||
      sqlstate == "57P03" || sqlstate == "53300") {
    return SqlError::kUnreachable;
  }
  if (sqlstate.starts_with("U0")) return SqlError::kServiceRefusal;
  return SqlError::kOther;
}

absl::Status StatusFromPgError(const PgErrorFields& error) {
  const std::string ours(error.message);
  switch (SqlErrorOf(error.sqlstate)) {
    case SqlError::kServiceRefusal:
      if (error.sqlstate == "U0006") return absl::AlreadyExistsError(ours);  // gRPC's code 6
      if (error.sqlstate == "U0400") {
        if (!error.column.empty() && !error.detail.empty()) {
          return FieldViolationError(error.column, error.detail);
        }
        return absl::InvalidArgumentError(ours);
      }
      if (error.sqlstate == "U0404") return absl::NotFoundError(ours);
      if (error.sqlstate == "U0409") return absl::AbortedError(ours);
      if (error.sqlstate == "U0412") return absl::FailedPreconditionError(ours);
      break;
    case SqlError::kUniqueViolation:
      return absl::AlreadyExistsError("already exists");
    case SqlError::kSerializationFailure:
      return absl::AbortedError("concurrent update, retry the call");
    case SqlError::kQueryCanceled:
      return absl::DeadlineExceededError("database statement timed out");
    case SqlError::kUnreachable:
      return ConnectionLost();
    case SqlError::kNone:
    case SqlError::kOther:
      break;
  }
  return absl::InternalError("internal database error");
}

absl::Status ConnectionLost() { return absl::UnavailableError("database unavailable"); }

absl::Status OutcomeUnknown() {
  return absl::UnknownError(
      "the connection to the database was lost after the change was sent: it may or may not "
      "have been applied; read it back, or retry with the same request_id");
}

}  // namespace usersvc::storage
