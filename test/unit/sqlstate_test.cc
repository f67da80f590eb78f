#include "storage/sqlstate.h"

#include <catch2/catch.hpp>

#include "base/field_violation.h"

namespace usersvc::storage {
namespace {

absl::Status StatusOf(std::string_view sqlstate, std::string_view message = {},
                      std::string_view column = {}, std::string_view detail = {}) {
  return StatusFromPgError({sqlstate, message, column, detail});
}

TEST_CASE("SQLSTATEs map to the documented status codes") {
  CHECK(StatusOf("23505").code() == absl::StatusCode::kAlreadyExists);
  CHECK(StatusOf("40001").code() == absl::StatusCode::kAborted);
  CHECK(StatusOf("40P01").code() == absl::StatusCode::kAborted);
  CHECK(StatusOf("57014").code() == absl::StatusCode::kDeadlineExceeded);
  for (const char* state : {"08000", "08006", "57P01", "57P02", "57P03", "53300"}) {
    INFO(state);
    CHECK(StatusOf(state).code() == absl::StatusCode::kUnavailable);
    CHECK(SqlErrorOf(state) == SqlError::kUnreachable);
  }
  CHECK(SqlErrorOf("23505") == SqlError::kUniqueViolation);
  CHECK(SqlErrorOf("40P01") == SqlError::kSerializationFailure);
  CHECK(SqlErrorOf("57014") == SqlError::kQueryCanceled);
  CHECK(SqlErrorOf("U0404") == SqlError::kServiceRefusal);
  CHECK(SqlErrorOf("") == SqlError::kNone);
  CHECK(SqlErrorOf("22012") == SqlError::kOther);
}

TEST_CASE("the service's own SQLSTATEs keep the message its SQL functions wrote") {
  CHECK(StatusOf("U0404", "user not found") == absl::NotFoundError("user not found"));
  CHECK(StatusOf("U0409", "x").code() == absl::StatusCode::kAborted);
  CHECK(StatusOf("U0412", "y").code() == absl::StatusCode::kFailedPrecondition);
  CHECK(StatusOf("U0006", "request_id: taken").code() == absl::StatusCode::kAlreadyExists);
}

TEST_CASE("a U0400 that names its field becomes a field violation, read from COLUMN and DETAIL") {
  const absl::Status status =
      StatusOf("U0400", "token: invalid or expired", "token", "invalid or expired");
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK(status.message() == "token: invalid or expired");
  std::optional<FieldViolation> violation = FieldViolationOf(status);
  REQUIRE(violation.has_value());
  CHECK(violation->field == "token");
  CHECK(violation->description == "invalid or expired");
  // Without the structured fields nothing is guessed from the message.
  CHECK_FALSE(FieldViolationOf(StatusOf("U0400", "token: invalid or expired")).has_value());
}

TEST_CASE("PostgreSQL's own messages never reach the caller") {
  CHECK(StatusOf("23505", "duplicate key value violates unique constraint \"users_email_key\"")
            .message() == "already exists");
}

TEST_CASE("other SQLSTATEs are INTERNAL with a message that carries no SQL or data") {
  for (const char* state : {"42P01", "22012", "23503", "XX000", ""}) {
    INFO(state);
    const absl::Status status = StatusOf(state);
    CHECK(status.code() == absl::StatusCode::kInternal);
    CHECK(status.message() == "internal database error");
  }
}

}  // namespace
}  // namespace usersvc::storage
