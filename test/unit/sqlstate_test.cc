#include "storage/sqlstate.h"

#include <catch2/catch.hpp>

namespace usersvc::storage {
namespace {

TEST_CASE("SQLSTATEs map to the documented status codes") {
  CHECK(StatusFromSqlState("23505").code() == absl::StatusCode::kAlreadyExists);
  CHECK(StatusFromSqlState("40001").code() == absl::StatusCode::kAborted);
  CHECK(StatusFromSqlState("40P01").code() == absl::StatusCode::kAborted);
  CHECK(StatusFromSqlState("57014").code() == absl::StatusCode::kDeadlineExceeded);
  for (const char* state : {"08000", "08006", "57P01", "57P02", "57P03", "53300"}) {
    INFO(state);
    CHECK(StatusFromSqlState(state).code() == absl::StatusCode::kUnavailable);
  }
}

TEST_CASE("the service's own SQLSTATEs keep the message its SQL functions wrote") {
  CHECK(StatusFromSqlState("U0400", "token: invalid or expired") ==
        absl::InvalidArgumentError("token: invalid or expired"));
  CHECK(StatusFromSqlState("U0404", "user not found") == absl::NotFoundError("user not found"));
  CHECK(StatusFromSqlState("U0409", "x").code() == absl::StatusCode::kAborted);
  CHECK(StatusFromSqlState("U0412", "y").code() == absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("PostgreSQL's own messages never reach the caller") {
  CHECK(StatusFromSqlState("23505",
                           "duplicate key value violates unique constraint \"users_email_key\"")
            .message() == "already exists");
}

TEST_CASE("other SQLSTATEs are INTERNAL with a message that carries no SQL or data") {
  for (const char* state : {"42P01", "22012", "23503", "XX000", ""}) {
    INFO(state);
    const absl::Status status = StatusFromSqlState(state);
    CHECK(status.code() == absl::StatusCode::kInternal);
    CHECK(status.message() == "internal database error");
  }
}

}  // namespace
}  // namespace usersvc::storage
