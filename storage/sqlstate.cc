#include "storage/sqlstate.h"

#include <string>

namespace usersvc::storage {

absl::Status StatusFromSqlState(std::string_view sqlstate, std::string_view message) {
  const std::string ours(message);
  if (sqlstate == "U0006") return absl::AlreadyExistsError(ours);  // gRPC's code 6
  if (sqlstate == "U0400") return absl::InvalidArgumentError(ours);
  if (sqlstate == "U0404") return absl::NotFoundError(ours);
  if (sqlstate == "U0409") return absl::AbortedError(ours);
  if (sqlstate == "U0412") return absl::FailedPreconditionError(ours);
  if (sqlstate == "23505") return absl::AlreadyExistsError("already exists");
  if (sqlstate == "40001" || sqlstate == "40P01") {
    return absl::AbortedError("concurrent update, retry the call");
  }
  if (sqlstate == "57014") return absl::DeadlineExceededError("database statement timed out");
  // Class 08 (connection exception), 57P01..57P03 (admin shutdown, crash shutdown, cannot connect
  // now) and 53300 (too many connections) mean the database is not reachable right now.
  if (sqlstate.starts_with("08") || sqlstate == "57P01" || sqlstate == "57P02" ||
      sqlstate == "57P03" || sqlstate == "53300") {
    return ConnectionLost();
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
