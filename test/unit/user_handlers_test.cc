#include <string>

#include <catch2/catch.hpp>

#include "base/field_violation.h"
#include "callbacks/domain/crypto.h"
#include "callbacks/handlers/users.h"
#include "test/unit/handler_fixture.h"

namespace usersvc::test {
namespace {

using namespace user::v1;  // NOLINT: the request and response messages

CreateUserRequest NewUser() {
  CreateUserRequest request;
  request.set_email("  Ann@Example.COM ");
  request.set_username("ann");
  request.set_password("correct horse battery");
  return request;
}

TEST_CASE("CreateUser refuses each bad field before it hashes or queries anything") {
  struct Case {
    void (*spoil)(CreateUserRequest&);
    const char* field;
  };
  const Case cases[] = {
      {[](CreateUserRequest& r) { r.set_email("not-an-email"); }, "email"},
      {[](CreateUserRequest& r) { r.set_username("x"); }, "username"},
      {[](CreateUserRequest& r) { r.set_password("short"); }, "password"},
      {[](CreateUserRequest& r) { r.set_first_name(std::string(101, 'a')); }, "first_name"},
      {[](CreateUserRequest& r) { r.set_phone_number("555-0100"); }, "phone_number"},
      {[](CreateUserRequest& r) { r.set_role(static_cast<UserRole>(99)); }, "role"},
      {[](CreateUserRequest& r) { r.set_request_id("not-a-uuid"); }, "request_id"},
  };
  for (const Case& c : cases) {
    HandlerFixture fixture;
    CreateUserRequest request = NewUser();
    c.spoil(request);
    CreateUserResponse response;
    const absl::Status status = fixture.Call(&callbacks::CreateUser, request, response);
    INFO(status.ToString());
    CHECK(status.code() == absl::StatusCode::kInvalidArgument);
    CHECK(FieldViolationOf(status).value_or(FieldViolation{}).field == c.field);
    CHECK(fixture.SentStatements().empty());
  }
}

TEST_CASE("CreateUser stores the normalised email, an argon2id hash and the default role") {
  HandlerFixture fixture;
  fixture.store.Script("insert_user", FakeStore::Rows({UserColumns()}));
  CreateUserResponse response;
  REQUIRE(fixture.Call(&callbacks::CreateUser, NewUser(), response).ok());
  const storage::Params params = fixture.store.LastParams("insert_user");
  REQUIRE(params.size() == 9);
  CHECK(params[0] == "ann@example.com");
  CHECK(StartsWith(params[2].value_or(""), "$argon2id$"));
  CHECK(params[2]->find("correct horse") == std::string::npos);
  CHECK(params[6] == "1");  // CUSTOMER
  CHECK_FALSE(params[7].has_value());
  CHECK_FALSE(params[8].has_value());
  // The answer is the stored row, not the request.
  CHECK(response.user().id() == kUserId);
  CHECK(response.user().role() == USER_ROLE_SELLER);
  CHECK(response.user().version() == 3);
}

TEST_CASE("CreateUser names the field whose unique index refused it") {
  for (const auto& [constraint, field] :
       {std::pair{"users_email_key", "email"}, std::pair{"users_username_key", "username"}}) {
    HandlerFixture fixture;
    fixture.store.Script("insert_user", FakeStore::Error({.sqlstate = "23505",
                                                          .message = "duplicate key value",
                                                          .constraint = constraint}));
    CreateUserResponse response;
    const absl::Status status = fixture.Call(&callbacks::CreateUser, NewUser(), response);
    CHECK(status.code() == absl::StatusCode::kAlreadyExists);
    CHECK(MessageStartsWith(status, std::string(field) + ":"));
  }
}

TEST_CASE(
    "CreateUser repeated with its request_id answers the first user only for the same "
    "arguments and password") {
  CreateUserRequest request = NewUser();
  request.set_request_id(kRequestId);
  // The first call, to learn the fingerprint and hash it stores.
  HandlerFixture first;
  first.store.Script("insert_user", FakeStore::Rows({UserColumns()}));
  CreateUserResponse ignored;
  REQUIRE(first.Call(&callbacks::CreateUser, request, ignored).ok());
  const storage::Params stored = first.store.LastParams("insert_user");
  REQUIRE(stored[7] == kRequestId);
  const TextRow recorded = Concat(UserColumns(), {stored[8], stored[2]});

  SECTION("same arguments: the first call's user") {
    HandlerFixture repeat;
    repeat.store.Script("insert_user", FakeStore::Rows({}, storage::UserRow::kColumns));
    repeat.store.Script("select_user_by_request_id", FakeStore::Rows({recorded}));
    CreateUserResponse response;
    REQUIRE(repeat.Call(&callbacks::CreateUser, request, response).ok());
    CHECK(response.user().id() == kUserId);
  }
  SECTION("another password: ALREADY_EXISTS") {
    HandlerFixture repeat;
    repeat.store.Script("insert_user", FakeStore::Rows({}, storage::UserRow::kColumns));
    repeat.store.Script("select_user_by_request_id", FakeStore::Rows({recorded}));
    request.set_password("another password entirely");
    CreateUserResponse response;
    CHECK(repeat.Call(&callbacks::CreateUser, request, response).code() ==
          absl::StatusCode::kAlreadyExists);
  }
  SECTION("another argument: ALREADY_EXISTS without checking the password") {
    HandlerFixture repeat;
    const int64_t runs_before = callbacks::Argon2idRuns();
    repeat.store.Script("insert_user", FakeStore::Rows({}, storage::UserRow::kColumns));
    repeat.store.Script("select_user_by_request_id",
                        FakeStore::Rows({Concat(UserColumns(), {"\\x00", stored[2]})}));
    CreateUserResponse response;
    const absl::Status status = repeat.Call(&callbacks::CreateUser, request, response);
    CHECK(status.code() == absl::StatusCode::kAlreadyExists);
    CHECK(status.message() == "request_id: already used with different arguments");
    CHECK(callbacks::Argon2idRuns() == runs_before + 1);  // the new password's hash, no check
  }
}

TEST_CASE("GetUser checks the id, and answers NOT_FOUND, the user, or the store's error") {
  HandlerFixture fixture;
  GetUserRequest request;
  GetUserResponse response;
  request.set_user_id("123");
  CHECK(fixture.Call(&callbacks::GetUser, request, response).code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(fixture.SentStatements().empty());

  request.set_user_id(kUserId);
  fixture.store.Script("select_users_by_ids", FakeStore::Rows({}, storage::UserRow::kColumns));
  const absl::Status missing = fixture.Call(&callbacks::GetUser, request, response);
  CHECK(missing.code() == absl::StatusCode::kNotFound);
  CHECK(missing.message() == "user not found");
  CHECK(fixture.store.LastParams("select_users_by_ids")[0] == "{\"" + std::string(kUserId) + "\"}");

  fixture.store.Script("select_users_by_ids", FakeStore::Rows({UserColumns()}));
  REQUIRE(fixture.Call(&callbacks::GetUser, request, response).ok());
  CHECK(response.user().email() == "ann@example.com");
  CHECK_FALSE(response.user().has_deactivated_at());

  fixture.store.Script("select_users_by_ids",
                       FakeStore::Failure(absl::UnavailableError("database unavailable")));
  CHECK(fixture.Call(&callbacks::GetUser, request, response).code() ==
        absl::StatusCode::kUnavailable);
}

TEST_CASE("GetUserByEmail looks the normalised email up") {
  HandlerFixture fixture;
  fixture.store.Script("select_users_by_emails", FakeStore::Rows({UserColumns()}));
  GetUserByEmailRequest request;
  request.set_email(" ANN@example.com");
  GetUserByEmailResponse response;
  REQUIRE(fixture.Call(&callbacks::GetUserByEmail, request, response).ok());
  CHECK(fixture.store.LastParams("select_users_by_emails")[0] == "{\"ann@example.com\"}");
  CHECK(response.user().id() == kUserId);

  request.set_email("nobody");
  CHECK(fixture.Call(&callbacks::GetUserByEmail, request, response).code() ==
        absl::StatusCode::kInvalidArgument);
}

UpdateUserRequest Update(std::initializer_list<const char*> paths) {
  UpdateUserRequest request;
  request.set_user_id(kUserId);
  for (const char* path : paths) request.mutable_update_mask()->add_paths(path);
  return request;
}

TEST_CASE("UpdateUser sends exactly the masked fields, checked and normalised") {
  HandlerFixture fixture;
  fixture.store.Script("update_user", FakeStore::Rows({UserColumns()}));
  UpdateUserRequest request = Update({"email", "first_name"});
  request.mutable_user()->set_email(" NEW@Example.com ");
  request.mutable_user()->set_first_name("Annie");
  request.mutable_user()->set_username("x");  // outside the mask: neither checked nor sent
  UpdateUserResponse response;
  REQUIRE(fixture.Call(&callbacks::UpdateUser, request, response).ok());
  const storage::Params params = fixture.store.LastParams("update_user");
  CHECK(params[0] == kUserId);
  CHECK(params[1] == R"({"email":"new@example.com","first_name":"Annie"})");
  CHECK(params[2] == "0");
  CHECK(response.user().id() == kUserId);

  SECTION("an empty mask takes the fields that are set") {
    UpdateUserRequest implicit = Update({});
    implicit.mutable_user()->set_last_name("Lee");
    implicit.mutable_user()->set_role(USER_ROLE_ADMIN);
    REQUIRE(fixture.Call(&callbacks::UpdateUser, implicit, response).ok());
    CHECK(fixture.store.LastParams("update_user")[1] == R"({"last_name":"Lee","role":4})");
  }
}

TEST_CASE("UpdateUser refuses a bad mask or field, and maps the database's refusals") {
  HandlerFixture fixture;
  UpdateUserResponse response;
  UpdateUserRequest unknown = Update({"password_hash"});
  CHECK(FieldViolationOf(fixture.Call(&callbacks::UpdateUser, unknown, response))
            .value_or(FieldViolation{})
            .field == "update_mask");
  UpdateUserRequest role = Update({"role"});
  CHECK(FieldViolationOf(fixture.Call(&callbacks::UpdateUser, role, response))
            .value_or(FieldViolation{})
            .field == "user.role");
  UpdateUserRequest version = Update({"username"});
  version.mutable_user()->set_username("annie");
  version.set_expected_version(-1);
  CHECK(FieldViolationOf(fixture.Call(&callbacks::UpdateUser, version, response))
            .value_or(FieldViolation{})
            .field == "expected_version");
  CHECK(fixture.SentStatements().empty());

  version.set_expected_version(7);
  fixture.store.Script(
      "update_user", FakeStore::Error({.sqlstate = "U0409",
                                       .message = "expected_version: the user has changed since"}));
  CHECK(fixture.Call(&callbacks::UpdateUser, version, response).code() ==
        absl::StatusCode::kAborted);
  CHECK(fixture.store.LastParams("update_user")[2] == "7");
  fixture.store.Script("update_user", FakeStore::Error({.sqlstate = "23505",
                                                        .message = "duplicate key value",
                                                        .constraint = "users_username_key"}));
  const absl::Status taken = fixture.Call(&callbacks::UpdateUser, version, response);
  CHECK(taken.code() == absl::StatusCode::kAlreadyExists);
  CHECK(MessageStartsWith(taken, "username:"));
}

TEST_CASE("DeleteUser sends its request key and maps a missing user to NOT_FOUND") {
  HandlerFixture fixture;
  DeleteUserRequest request;
  request.set_user_id(kUserId);
  request.set_request_id(kRequestId);
  fixture.store.Script("delete_user",
                       FakeStore::Error({.sqlstate = "U0404", .message = "user not found"}));
  DeleteUserResponse response;
  CHECK(fixture.Call(&callbacks::DeleteUser, request, response).code() ==
        absl::StatusCode::kNotFound);
  const storage::Params params = fixture.store.LastParams("delete_user");
  CHECK(params[1] == kRequestId);
  CHECK(StartsWith(params[2].value_or(""), "\\x"));

  fixture.store.Script("delete_user", FakeStore::Rows({{kUserId}}));
  CHECK(fixture.Call(&callbacks::DeleteUser, request, response).ok());
}

TEST_CASE("DeactivateUser and ReactivateUser send the state and reason, and answer the user") {
  HandlerFixture fixture;
  fixture.store.Script("set_user_active", FakeStore::Rows({UserColumns()}));
  DeactivateUserRequest off;
  off.set_user_id(kUserId);
  off.set_reason(std::string(501, 'r'));
  DeactivateUserResponse off_response;
  CHECK(FieldViolationOf(fixture.Call(&callbacks::DeactivateUser, off, off_response))
            .value_or(FieldViolation{})
            .field == "reason");
  off.set_reason("asked to leave");
  REQUIRE(fixture.Call(&callbacks::DeactivateUser, off, off_response).ok());
  CHECK(fixture.store.LastParams("set_user_active") ==
        storage::Params{kUserId, "false", "asked to leave"});
  CHECK(off_response.user().id() == kUserId);

  ReactivateUserRequest on;
  on.set_user_id(kUserId);
  ReactivateUserResponse on_response;
  REQUIRE(fixture.Call(&callbacks::ReactivateUser, on, on_response).ok());
  CHECK(fixture.store.LastParams("set_user_active") == storage::Params{kUserId, "true", ""});
  fixture.store.Script("set_user_active",
                       FakeStore::Error({.sqlstate = "U0404", .message = "user not found"}));
  CHECK(fixture.Call(&callbacks::ReactivateUser, on, on_response).code() ==
        absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace usersvc::test
