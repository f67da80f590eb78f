#include "callbacks/rows.h"

#include <string>
#include <vector>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "storage/query.h"

namespace usersvc::callbacks {
namespace {

// A PGresult built in memory with libpq's own constructors, as a query would return it.
storage::Rows<storage::UserRow> MakeUserRow(const std::vector<const char*>& values) {
  PGresult* result = PQmakeEmptyPGresult(nullptr, PGRES_TUPLES_OK);
  std::vector<PGresAttDesc> columns(values.size());
  std::vector<std::string> names;
  for (size_t i = 0; i < values.size(); ++i) names.push_back(fmt::format("c{}", i));
  for (size_t i = 0; i < values.size(); ++i) {
    columns[i] = PGresAttDesc{names[i].data(), 0, 0, 0, 25, -1, -1};
  }
  REQUIRE(PQsetResultAttrs(result, static_cast<int>(columns.size()), columns.data()) == 1);
  for (size_t i = 0; i < values.size(); ++i) {
    // A null pointer value is SQL NULL.
    REQUIRE(PQsetvalue(result, 0, static_cast<int>(i), const_cast<char*>(values[i]),
                       values[i] ? static_cast<int>(std::string(values[i]).size()) : -1) == 1);
  }
  return storage::Result::Rows(storage::PgResultPtr(result));
}

TEST_CASE("a user row maps onto every User field") {
  const storage::Rows<storage::UserRow> rows =
      MakeUserRow({"123e4567-e89b-12d3-a456-426614174000", "ann@example.com", "Ann", "Ann", "Lee",
                   "+14155550123", "2", "f", "t", "1700000000123456", "1700000001000000",
                   "1700000002500000", "left", "7"});
  REQUIRE(rows.size() == 1);
  user::v1::User user;
  UserFromRow(rows[0], &user);
  CHECK(user.id() == "123e4567-e89b-12d3-a456-426614174000");
  CHECK(user.email() == "ann@example.com");
  CHECK(user.username() == "Ann");
  CHECK(user.first_name() == "Ann");
  CHECK(user.last_name() == "Lee");
  CHECK(user.phone_number() == "+14155550123");
  CHECK(user.role() == user::v1::USER_ROLE_SELLER);
  CHECK_FALSE(user.is_active());
  CHECK(user.is_email_verified());
  CHECK(user.created_at().seconds() == 1700000000);
  CHECK(user.created_at().nanos() == 123456000);
  CHECK(user.updated_at().seconds() == 1700000001);
  CHECK(user.deactivated_at().seconds() == 1700000002);
  CHECK(user.deactivated_at().nanos() == 500000000);
  CHECK(user.deactivation_reason() == "left");
  CHECK(user.version() == 7);
}

TEST_CASE("an active user has no deactivated_at, and an unknown stored role reads as unspecified") {
  const storage::Rows<storage::UserRow> rows =
      MakeUserRow({"123e4567-e89b-12d3-a456-426614174000", "a@b.co", "abc", "", "", "", "99", "t",
                   "f", "0", "0", nullptr, "", "1"});
  user::v1::User user;
  UserFromRow(rows[0], &user);
  CHECK_FALSE(user.has_deactivated_at());
  CHECK(user.role() == user::v1::USER_ROLE_UNSPECIFIED);
  CHECK(user.is_active());
}

TEST_CASE("timestamps before the epoch keep nanos positive") {
  google::protobuf::Timestamp timestamp;
  SetTimestamp(-1, &timestamp);
  CHECK(timestamp.seconds() == -1);
  CHECK(timestamp.nanos() == 999999000);
}

}  // namespace
}  // namespace usersvc::callbacks
