#include "callbacks/domain/validation.h"

#include <string>

#include <catch2/catch.hpp>

#include "callbacks/handlers/users.h"

namespace usersvc::callbacks {
namespace {

std::string Message(const absl::Status& status) { return std::string(status.message()); }

TEST_CASE("emails are trimmed and lower-cased") {
  auto email = NormalizeEmail("email", "  Alice.Smith+Shop@Example.COM \t");
  REQUIRE(email.ok());
  CHECK(*email == "alice.smith+shop@example.com");
}

TEST_CASE("malformed emails are rejected with the field path first") {
  for (const char* bad : {"", "   ", "no-at-sign", "@example.com", "a@", "a@b", "a@@b.com",
                          "a b@example.com", "a@exa mple.com", ".a@example.com", "a..b@example.com",
                          "a@-example.com", "a@example.c0m", "a@example.c"}) {
    INFO(bad);
    auto email = NormalizeEmail("email", bad);
    REQUIRE_FALSE(email.ok());
    CHECK(email.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(Message(email.status()).rfind("email: ", 0) == 0);
  }
}

TEST_CASE("an email longer than 254 characters is rejected") {
  const std::string email = std::string(64, 'a') + "@" + std::string(186, 'b') + ".com";
  REQUIRE(email.size() == 255);
  auto result = NormalizeEmail("email", email);
  REQUIRE_FALSE(result.ok());
  CHECK(Message(result.status()) == "email: must be at most 254 characters");
}

TEST_CASE("UUIDs must be lowercase and canonical") {
  CHECK(CheckUuid("user_id", "123e4567-e89b-12d3-a456-426614174000").ok());
  CHECK(Message(CheckUuid("user_id", "")) == "user_id: is required");
  for (const char* bad : {"123E4567-E89B-12D3-A456-426614174000",
                          "123e4567e89b12d3a456426614174000", "123e4567-e89b-12d3-a456-42661417400",
                          "not-a-uuid", "123e4567-e89b-12d3-a456-42661417400g"}) {
    INFO(bad);
    CHECK(Message(CheckUuid("user_id", bad)) == "user_id: must be a lowercase canonical UUID");
  }
}

TEST_CASE("usernames are 3 to 30 of letters, digits, '_', '.' and '-'") {
  CHECK(CheckUsername("username", "Alice_B.c-1").ok());
  CHECK(CheckUsername("username", std::string(30, 'x')).ok());
  CHECK_FALSE(CheckUsername("username", "ab").ok());
  CHECK_FALSE(CheckUsername("username", std::string(31, 'x')).ok());
  CHECK(Message(CheckUsername("username", "al ice")).rfind("username: ", 0) == 0);
  CHECK(Message(CheckUsername("username", "")) == "username: is required");
}

TEST_CASE("passwords are 8 to 128 characters, counted as characters not bytes") {
  CHECK(CheckPassword("password", "12345678").ok());
  CHECK_FALSE(CheckPassword("password", "1234567").ok());
  CHECK(CheckPassword("password", std::string(128, 'p')).ok());
  CHECK_FALSE(CheckPassword("password", std::string(129, 'p')).ok());
  // Eight two-byte characters are eight characters.
  CHECK(CheckPassword("password", "éééééééé").ok());
}

TEST_CASE("phone numbers are empty or E.164") {
  CHECK(CheckPhone("phone_number", "").ok());
  CHECK(CheckPhone("phone_number", "+14155550123").ok());
  for (const char* bad : {"14155550123", "+04155550123", "+1", "+1415555012345678", "+1-415-555"}) {
    INFO(bad);
    CHECK(Message(CheckPhone("phone_number", bad)).rfind("phone_number: ", 0) == 0);
  }
}

TEST_CASE("lengths count UTF-8 characters") {
  CHECK(Utf8Length("héllo") == 5);
  CHECK(CheckLength("first_name", std::string(100, 'a'), 100).ok());
  CHECK(Message(CheckLength("first_name", std::string(101, 'a'), 100)) ==
        "first_name: must be at most 100 characters");
}

TEST_CASE("names take any printable text and refuse control characters") {
  CHECK(CheckName("last_name", "O'Brien-Núñez Ångström").ok());
  CHECK(CheckName("last_name", "").ok());
  for (const std::string& bad :
       {std::string("a\x1f"
                    "b"),
        std::string("tab\there"), std::string("new\nline"), std::string("del\x7f")}) {
    INFO(bad);
    CHECK(Message(CheckName("last_name", bad)) == "last_name: must not contain control characters");
  }
  CHECK(Message(CheckName("first_name", std::string(101, 'a'))) ==
        "first_name: must be at most 100 characters");
}

user::v1::CreateUserRequest ValidCreateRequest() {
  user::v1::CreateUserRequest request;
  request.set_email(" Bob@Example.com ");
  request.set_username("bob");
  request.set_password("correct horse battery");
  return request;
}

TEST_CASE("a valid CreateUser request is normalised") {
  auto request = ValidateCreateUser(ValidCreateRequest());
  REQUIRE(request.ok());
  CHECK(request->email() == "bob@example.com");
  CHECK(request->role() == user::v1::USER_ROLE_CUSTOMER);
}

TEST_CASE("CreateUser names the first invalid field") {
  auto request = ValidCreateRequest();
  SECTION("password") {
    request.set_password("short");
    CHECK(Message(ValidateCreateUser(request).status()).rfind("password: ", 0) == 0);
  }
  SECTION("role out of the enum") {
    request.set_role(static_cast<user::v1::UserRole>(42));
    CHECK(Message(ValidateCreateUser(request).status()) == "role: unknown role");
  }
  SECTION("request_id") {
    request.set_request_id("retry-1");
    CHECK(Message(ValidateCreateUser(request).status()).rfind("request_id: ", 0) == 0);
  }
  SECTION("last_name") {
    request.set_last_name(std::string(101, 'x'));
    CHECK(Message(ValidateCreateUser(request).status()).rfind("last_name: ", 0) == 0);
  }
}

}  // namespace
}  // namespace usersvc::callbacks
