// Email verification and passwords: tokens, their single use and expiry, argon2id checks.
#include <absl/strings/ascii.h>
#include <catch2/catch.hpp>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "test/support/fixtures.h"

namespace usersvc::test {
namespace {

grpc::Status SendVerification(Stub& stub, const std::string& user_id,
                              user::v1::SendVerificationEmailResponse* response) {
  user::v1::SendVerificationEmailRequest request;
  request.set_user_id(user_id);
  return Call(stub, &Stub::SendVerificationEmail, request, response);
}

grpc::Status Verify(Stub& stub, const std::string& token, user::v1::User* user = nullptr) {
  user::v1::VerifyEmailRequest request;
  request.set_token(token);
  user::v1::VerifyEmailResponse response;
  grpc::Status status = Call(stub, &Stub::VerifyEmail, request, &response);
  if (user != nullptr) *user = response.user();
  return status;
}

TEST_CASE("SendVerificationEmail issues a 24 h token through the outbox and stores only its hash") {
  ServerProcess server;
  auto stub = server.stub();
  TestUser who = CreateTestUser(*stub);
  user::v1::SendVerificationEmailResponse sent;
  REQUIRE(SendVerification(*stub, who.user.id(), &sent).ok());
  const int64_t in_a_day = std::time(nullptr) + 24 * 3600;
  CHECK(std::abs(sent.expires_at().seconds() - in_a_day) < 60);

  BlockingDb db;
  const std::string token = LatestToken(db, who.user.id(), "user.email_verification_requested");
  CHECK(token.size() == 43);  // 32 bytes, URL-safe base64 without padding
  CHECK(
      token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
      std::string::npos);
  CHECK(db.Scalar("SELECT payload->>'email' FROM user_events WHERE user_id = $1::uuid"
                  " AND event_type = 'user.email_verification_requested'",
                  {who.user.id()}) == who.user.email());
  CHECK(db.Scalar("SELECT payload->>'expires_at' FROM user_events WHERE user_id = $1::uuid"
                  " AND event_type = 'user.email_verification_requested'",
                  {who.user.id()})
            .ends_with("Z"));
  CHECK(db.Scalar("SELECT count(*) FROM user_tokens WHERE user_id = $1::uuid AND"
                  " token_hash = sha256(decode(translate($2, '-_', '+/') || '=', 'base64'))",
                  {who.user.id(), token}) == "1");

  user::v1::User verified;
  REQUIRE(Verify(*stub, token, &verified).ok());
  CHECK(verified.is_email_verified());
  CHECK(verified.version() == 2);
  CHECK(EventPayloads(db, who.user.id(), "user.email_verified") ==
        std::vector<std::string>{R"({"email": ")" + who.user.email() + R"("})"});

  SECTION("a used token is refused with the one generic message") {
    grpc::Status again = Verify(*stub, token);
    CHECK(again.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(again.error_message() == "token: invalid or expired");
  }
  SECTION("an already verified email is FAILED_PRECONDITION") {
    CHECK(SendVerification(*stub, who.user.id(), &sent).error_code() ==
          grpc::StatusCode::FAILED_PRECONDITION);
  }
}

TEST_CASE(
    "A new verification token voids the earlier one, and malformed, unknown and expired tokens "
    "fail alike") {
  ServerProcess server;
  auto stub = server.stub();
  TestUser who = CreateTestUser(*stub);
  user::v1::SendVerificationEmailResponse sent;
  BlockingDb db;
  REQUIRE(SendVerification(*stub, who.user.id(), &sent).ok());
  const std::string first = LatestToken(db, who.user.id(), "user.email_verification_requested");
  REQUIRE(SendVerification(*stub, who.user.id(), &sent).ok());
  const std::string second = LatestToken(db, who.user.id(), "user.email_verification_requested");
  REQUIRE(first != second);

  for (const std::string& bad :
       {first, std::string("not a token"), std::string(""), std::string(43, 'A')}) {
    grpc::Status status = Verify(*stub, bad);
    CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(status.error_message() == "token: invalid or expired");
  }
  db.Query(
      "UPDATE user_tokens SET expires_at = now() - interval '1 second'"
      " WHERE user_id = $1::uuid",
      {who.user.id()});
  CHECK(Verify(*stub, second).error_message() == "token: invalid or expired");
}

TEST_CASE("SendVerificationEmail refuses a deactivated user and an unknown one") {
  ServerProcess server;
  auto stub = server.stub();
  TestUser who = CreateTestUser(*stub);
  user::v1::DeactivateUserRequest deactivate;
  deactivate.set_user_id(who.user.id());
  user::v1::DeactivateUserResponse deactivated;
  REQUIRE(Call(*stub, &Stub::DeactivateUser, deactivate, &deactivated).ok());
  user::v1::SendVerificationEmailResponse sent;
  CHECK(SendVerification(*stub, who.user.id(), &sent).error_code() ==
        grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(SendVerification(*stub, "00000000-0000-4000-8000-000000000000", &sent).error_code() ==
        grpc::StatusCode::NOT_FOUND);
  BlockingDb db;
  CHECK(EventPayloads(db, who.user.id(), "user.email_verification_requested").empty());
}

TEST_CASE("ChangePassword needs the current password and a different, valid new one") {
  ServerProcess server;
  auto stub = server.stub();
  TestUser who = CreateTestUser(*stub);
  const std::string& id = who.user.id();
  grpc::Status wrong = ChangePassword(*stub, id, "not the password", "brand new password");
  CHECK(wrong.error_code() == grpc::StatusCode::UNAUTHENTICATED);
  CHECK(wrong.error_message().find("not the password") == std::string::npos);
  CHECK(ChangePassword(*stub, id, who.password, who.password).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(
      ChangePassword(*stub, id, who.password, "short").error_message().rfind("new_password: ", 0) ==
      0);
  CHECK(ChangePassword(*stub, "00000000-0000-4000-8000-000000000000", who.password,
                       "brand new password")
            .error_code() == grpc::StatusCode::NOT_FOUND);

  REQUIRE(ChangePassword(*stub, id, who.password, "brand new password").ok());
  // The old password no longer works; the new one does.
  CHECK(ChangePassword(*stub, id, who.password, "yet another one").error_code() ==
        grpc::StatusCode::UNAUTHENTICATED);
  CHECK(ChangePassword(*stub, id, "brand new password", "yet another one").ok());
  BlockingDb db;
  CHECK(EventPayloads(db, id, "user.password_changed").size() == 2);
}

TEST_CASE(
    "RequestPasswordReset answers alike for unknown and known emails, and only an active "
    "account gets a token") {
  ServerProcess server;
  auto stub = server.stub();
  TestUser who = CreateTestUser(*stub);
  BlockingDb db;
  const std::string events_before = db.Scalar("SELECT count(*) FROM user_events");
  CHECK(RequestReset(*stub, "nobody." + UniqueSuffix() + "@example.com").ok());
  CHECK(db.Scalar("SELECT count(*) FROM user_events WHERE event_type ="
                  " 'user.password_reset_requested' AND payload->>'email' LIKE 'nobody.%'") == "0");
  CHECK(RequestReset(*stub, "not an email").error_code() == grpc::StatusCode::INVALID_ARGUMENT);

  REQUIRE(RequestReset(*stub, " " + absl::AsciiStrToUpper(who.user.email())).ok());
  CHECK(EventPayloads(db, who.user.id(), "user.password_reset_requested").size() == 1);

  user::v1::DeactivateUserRequest deactivate;
  deactivate.set_user_id(who.user.id());
  user::v1::DeactivateUserResponse deactivated;
  REQUIRE(Call(*stub, &Stub::DeactivateUser, deactivate, &deactivated).ok());
  CHECK(RequestReset(*stub, who.user.email()).ok());
  CHECK(EventPayloads(db, who.user.id(), "user.password_reset_requested").size() == 1);
  (void)events_before;
}

TEST_CASE("ResetPassword sets the password once per token and voids the user's other tokens") {
  ServerProcess server;
  auto stub = server.stub();
  TestUser who = CreateTestUser(*stub);
  BlockingDb db;
  REQUIRE(RequestReset(*stub, who.user.email()).ok());
  const std::string first = LatestToken(db, who.user.id(), "user.password_reset_requested");
  REQUIRE(RequestReset(*stub, who.user.email()).ok());
  const std::string second = LatestToken(db, who.user.id(), "user.password_reset_requested");

  CHECK(Reset(*stub, second, "short").error_message().rfind("new_password: ", 0) == 0);
  REQUIRE(Reset(*stub, second, "reset password 1").ok());
  CHECK(Reset(*stub, second, "reset password 2").error_message() == "token: invalid or expired");
  CHECK(Reset(*stub, first, "reset password 3").error_message() == "token: invalid or expired");
  CHECK(Reset(*stub, "garbage", "reset password 4").error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(ChangePassword(*stub, who.user.id(), "reset password 1", "after the reset").ok());
  CHECK(EventPayloads(db, who.user.id(), "user.password_changed").size() == 2);
}

TEST_CASE("No table but the outbox holds a raw token or a password after the flows") {
  ServerProcess server;
  auto stub = server.stub();
  TestUser who = CreateTestUser(*stub);
  BlockingDb db;
  user::v1::SendVerificationEmailResponse sent;
  REQUIRE(SendVerification(*stub, who.user.id(), &sent).ok());
  const std::string verification =
      LatestToken(db, who.user.id(), "user.email_verification_requested");
  REQUIRE(RequestReset(*stub, who.user.email()).ok());
  const std::string reset = LatestToken(db, who.user.id(), "user.password_reset_requested");
  REQUIRE(ChangePassword(*stub, who.user.id(), who.password, "changed password x").ok());

  auto tables = db.Query(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
      " AND table_type = 'BASE TABLE' AND table_name <> 'user_events'");
  REQUIRE(tables.size() >= 4);
  for (const auto& row : tables) {
    for (const std::string& secret :
         {verification, reset, who.password, std::string("changed password x")}) {
      INFO(row[0]);
      CHECK(db.Scalar("SELECT count(*) FROM " + row[0] + " t WHERE strpos(t::text, $1) > 0",
                      {secret}) == "0");
    }
  }
}

TEST_CASE("With debug logging on, the log never holds a password, a password hash or a token") {
  ServerProcess::Options options;
  options.args = {"--log_level=debug"};
  ServerProcess server(options);
  auto stub = server.stub();
  TestUser who = CreateTestUser(*stub);
  BlockingDb db;
  user::v1::SendVerificationEmailResponse sent;
  REQUIRE(SendVerification(*stub, who.user.id(), &sent).ok());
  const std::string verification =
      LatestToken(db, who.user.id(), "user.email_verification_requested");
  REQUIRE(Verify(*stub, verification).ok());
  REQUIRE(RequestReset(*stub, who.user.email()).ok());
  const std::string reset = LatestToken(db, who.user.id(), "user.password_reset_requested");
  const std::string reset_password = "reset password for the log test";
  REQUIRE(Reset(*stub, reset, reset_password).ok());
  const std::string wrong_password = "not the right password at all";
  CHECK(ChangePassword(*stub, who.user.id(), wrong_password, "never set password").error_code() ==
        grpc::StatusCode::UNAUTHENTICATED);
  const std::string short_password = "tiny";
  CHECK(ChangePassword(*stub, who.user.id(), reset_password, short_password).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  const std::string final_password = "the final password for logs";
  REQUIRE(ChangePassword(*stub, who.user.id(), reset_password, final_password).ok());
  CHECK(Verify(*stub, verification).error_code() == grpc::StatusCode::INVALID_ARGUMENT);

  const std::string hash =
      db.Scalar("SELECT password_hash FROM users WHERE id = $1", {who.user.id()});
  const auto token_hashes = db.Query(
      "SELECT encode(token_hash, 'hex'), encode(token_hash, 'base64') FROM user_tokens"
      " WHERE user_id = $1",
      {who.user.id()});
  REQUIRE(token_hashes.size() == 2);

  const std::string log = server.Log();
  // The calls were logged, so the log is there to search.
  REQUIRE(log.find(R"("method":"ChangePassword")") != std::string::npos);
  std::vector<std::string> secrets = {who.password,   reset_password, wrong_password,
                                      short_password, final_password, verification,
                                      reset,          hash,           "$argon2"};
  for (const auto& row : token_hashes) secrets.insert(secrets.end(), row.begin(), row.end());
  for (const std::string& secret : secrets) {
    INFO(secret.size() << "-character secret");
    CHECK(log.find(secret) == std::string::npos);
  }
}

}  // namespace
TEST_CASE("A field error raised by the SQL functions carries a google.rpc.BadRequest too") {
  ServerProcess server;
  auto stub = server.stub();
  // Well-formed, so only the database can tell that nobody issued it (usersvc_consume_token).
  const grpc::Status status = Verify(*stub, std::string(43, 'Q'));
  REQUIRE(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(status.error_message() == "token: invalid or expired");
  google::rpc::Status details;
  REQUIRE(details.ParseFromString(status.error_details()));
  REQUIRE(details.details_size() == 1);
  google::rpc::BadRequest bad_request;
  REQUIRE(details.details(0).UnpackTo(&bad_request));
  REQUIRE(bad_request.field_violations_size() == 1);
  CHECK(bad_request.field_violations(0).field() == "token");
  CHECK(bad_request.field_violations(0).description() == "invalid or expired");
}

}  // namespace usersvc::test
