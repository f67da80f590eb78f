#include <string>

#include <catch2/catch.hpp>

#include "base/field_violation.h"
#include "callbacks/domain/crypto.h"
#include "callbacks/handlers/passwords.h"
#include "callbacks/handlers/verification.h"
#include "test/unit/handler_fixture.h"

namespace usersvc::test {
namespace {

using namespace user::v1;  // NOLINT: the request and response messages

ChangePasswordRequest Change(std::string current = "the right password") {
  ChangePasswordRequest request;
  request.set_user_id(kUserId);
  request.set_current_password(std::move(current));
  request.set_new_password("a brand new password");
  return request;
}

std::string FieldOf(const absl::Status& status) {
  return FieldViolationOf(status).value_or(FieldViolation{}).field;
}

TEST_CASE("ChangePassword refuses a bad request before it looks anything up") {
  HandlerFixture fixture;
  ChangePasswordResponse response;
  CHECK(FieldOf(fixture.Call(&callbacks::ChangePassword, Change(""), response)) ==
        "current_password");
  ChangePasswordRequest same = Change("a brand new password");
  CHECK(FieldOf(fixture.Call(&callbacks::ChangePassword, same, response)) == "new_password");
  ChangePasswordRequest weak = Change();
  weak.set_new_password("short");
  CHECK(FieldOf(fixture.Call(&callbacks::ChangePassword, weak, response)) == "new_password");
  CHECK(fixture.SentStatements().empty());
}

TEST_CASE("ChangePassword verifies the stored hash, then writes against the hash it checked") {
  REQUIRE(callbacks::InitCrypto());
  const std::string stored = callbacks::HashPassword("the right password").value();
  HandlerFixture fixture;
  ChangePasswordResponse response;
  fixture.store.Script("select_password_check", FakeStore::Rows({{stored, std::nullopt}}));
  fixture.store.Script("change_password", FakeStore::Rows({{""}}));

  SECTION("the right password: the new hash is written, compared with the one checked") {
    REQUIRE(fixture.Call(&callbacks::ChangePassword, Change(), response).ok());
    const storage::Params params = fixture.store.LastParams("change_password");
    CHECK(params[0] == kUserId);
    CHECK(params[1] == stored);
    CHECK(StartsWith(params[2].value_or(""), "$argon2id$"));
    CHECK(params[2] != stored);
  }
  SECTION("a wrong password: UNAUTHENTICATED, nothing written") {
    const absl::Status status =
        fixture.Call(&callbacks::ChangePassword, Change("a wrong password"), response);
    CHECK(status.code() == absl::StatusCode::kUnauthenticated);
    CHECK(fixture.SentStatements() == std::vector<std::string>{"select_password_check"});
  }
  SECTION("a hash that changed since it was checked: ABORTED") {
    fixture.store.Script("change_password",
                         FakeStore::Error({.sqlstate = "U0409",
                                           .message = "the password changed concurrently, retry"}));
    CHECK(fixture.Call(&callbacks::ChangePassword, Change(), response).code() ==
          absl::StatusCode::kAborted);
  }
  SECTION("no such user") {
    fixture.store.Script("select_password_check", FakeStore::Rows({}, 2));
    CHECK(fixture.Call(&callbacks::ChangePassword, Change(), response).code() ==
          absl::StatusCode::kNotFound);
  }
}

TEST_CASE("ChangePassword repeated with its request_id answers the recorded outcome unhashed") {
  HandlerFixture fixture;
  ChangePasswordRequest request = Change("no longer the current one");
  request.set_request_id(kRequestId);
  ChangePasswordResponse response;
  const int64_t runs_before = callbacks::Argon2idRuns();
  fixture.store.Script("select_password_check", FakeStore::Rows({{"$argon2id$stored", "t"}}));
  CHECK(fixture.Call(&callbacks::ChangePassword, request, response).ok());
  const storage::Params check = fixture.store.LastParams("select_password_check");
  CHECK(check[1] == kRequestId);
  CHECK(StartsWith(check[2].value_or(""), "\\x"));
  fixture.store.Script("select_password_check", FakeStore::Rows({{"$argon2id$stored", "f"}}));
  CHECK(fixture.Call(&callbacks::ChangePassword, request, response).code() ==
        absl::StatusCode::kAlreadyExists);
  CHECK(callbacks::Argon2idRuns() == runs_before);
  for (const std::string& statement : fixture.SentStatements()) {
    CHECK(statement == "select_password_check");
  }
}

TEST_CASE("RequestPasswordReset sends the normalised email, a token's hash and its lifetime") {
  HandlerFixture fixture;
  RequestPasswordResetRequest request;
  RequestPasswordResetResponse response;
  request.set_email("not an email");
  CHECK(FieldOf(fixture.Call(&callbacks::RequestPasswordReset, request, response)) == "email");
  request.set_email(" Ann@Example.com");
  fixture.store.Script("issue_password_reset", FakeStore::Rows({{""}}));
  REQUIRE(fixture.Call(&callbacks::RequestPasswordReset, request, response).ok());
  const storage::Params params = fixture.store.LastParams("issue_password_reset");
  CHECK(params[0] == "ann@example.com");
  CHECK(params[1].value_or("").size() == 66);  // "\x" and a SHA-256 in hex
  CHECK(params[1] != params[2]);               // the raw token is not what is stored
  CHECK(params[3] == "3600.000000 seconds");
}

TEST_CASE("ResetPassword refuses a token it cannot use before it hashes anything") {
  HandlerFixture fixture;
  ResetPasswordRequest request;
  request.set_new_password("a brand new password");
  ResetPasswordResponse response;
  request.set_token("too-short");
  CHECK(FieldOf(fixture.Call(&callbacks::ResetPassword, request, response)) == "token");
  CHECK(fixture.SentStatements().empty());

  request.set_token(callbacks::NewToken().raw);
  fixture.store.Script("select_reset_check",
                       FakeStore::Rows({{"f", std::nullopt, std::string(kUserId)}}));
  CHECK(FieldOf(fixture.Call(&callbacks::ResetPassword, request, response)) == "token");
  CHECK(fixture.SentStatements() == std::vector<std::string>{"select_reset_check"});

  fixture.store.Script("select_reset_check",
                       FakeStore::Rows({{"t", std::nullopt, std::string(kUserId)}}));
  fixture.store.Script("reset_password", FakeStore::Rows({{""}}));
  REQUIRE(fixture.Call(&callbacks::ResetPassword, request, response).ok());
  const storage::Params reset = fixture.store.LastParams("reset_password");
  CHECK(reset[0] == fixture.store.LastParams("select_reset_check")[0]);  // the same token hash
  CHECK(StartsWith(reset[1].value_or(""), "$argon2id$"));
}

TEST_CASE("SendVerificationEmail answers the token's expiry and maps an already verified user") {
  HandlerFixture fixture;
  SendVerificationEmailRequest request;
  request.set_user_id(kUserId);
  SendVerificationEmailResponse response;
  fixture.store.Script("issue_verification", FakeStore::Rows({{"1700000000500000"}}));
  REQUIRE(fixture.Call(&callbacks::SendVerificationEmail, request, response).ok());
  CHECK(response.expires_at().seconds() == 1700000000);
  CHECK(response.expires_at().nanos() == 500000000);
  CHECK(fixture.store.LastParams("issue_verification")[3] == "86400.000000 seconds");
  fixture.store.Script(
      "issue_verification",
      FakeStore::Error({.sqlstate = "U0412", .message = "email is already verified"}));
  const absl::Status verified = fixture.Call(&callbacks::SendVerificationEmail, request, response);
  CHECK(verified.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(verified.message() == "email is already verified");
}

TEST_CASE("VerifyEmail refuses a malformed token at once and passes the database's verdict on") {
  HandlerFixture fixture;
  VerifyEmailRequest request;
  VerifyEmailResponse response;
  request.set_token("!");
  CHECK(FieldOf(fixture.Call(&callbacks::VerifyEmail, request, response)) == "token");
  CHECK(fixture.SentStatements().empty());
  request.set_token(callbacks::NewToken().raw);
  fixture.store.Script("verify_email", FakeStore::Error({.sqlstate = "U0400",
                                                         .message = "token: invalid or expired",
                                                         .column = "token",
                                                         .detail = "invalid or expired"}));
  CHECK(FieldOf(fixture.Call(&callbacks::VerifyEmail, request, response)) == "token");
  fixture.store.Script("verify_email", FakeStore::Rows({UserColumns()}));
  REQUIRE(fixture.Call(&callbacks::VerifyEmail, request, response).ok());
  CHECK(response.user().id() == kUserId);
}

}  // namespace
}  // namespace usersvc::test
