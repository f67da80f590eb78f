#include "callbacks/domain/rows.h"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "storage/query.h"
#include "test/support/fake_store.h"

namespace usersvc::callbacks {
namespace {

storage::Rows<storage::UserRow> MakeUserRow(const std::vector<const char*>& values) {
  test::TextRow row;
  for (const char* value : values) {  // a null pointer is SQL NULL
    row.push_back(value ? std::optional<std::string>(value) : std::nullopt);
  }
  return test::MakeRows(0, {row});
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
