// VerifyPassword as a sign-in page uses it: the right password of an active account, one answer
// for a wrong password and an unknown email (in about the same time), a deactivated account told
// only to the holder of its password, a lockout after 5 tries that spends no argon2id, and the
// hashes of accounts imported from Django, re-hashed on their first success.
#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "test/support/django_passwords.h"
#include "test/support/fixtures.h"

namespace usersvc::test {
namespace {

/// The RetryInfo delay of a status, in seconds; -1 without one.
double RetryDelaySeconds(const grpc::Status& status) {
  google::rpc::Status details;
  if (!details.ParseFromString(status.error_details())) return -1;
  for (const auto& detail : details.details()) {
    google::rpc::RetryInfo retry;
    if (detail.UnpackTo(&retry)) {
      return static_cast<double>(retry.retry_delay().seconds()) + retry.retry_delay().nanos() / 1e9;
    }
  }
  return -1;
}

std::string UnknownEmail() { return "nobody-" + UniqueSuffix() + "@example.com"; }

}  // namespace

TEST_CASE(
    "VerifyPassword: the right password signs in, and a wrong one looks like an unknown email") {
  ServerProcess server;
  auto stub = server.stub();
  const TestUser who = CreateTestUser(*stub);

  user::v1::VerifyPasswordResponse response;
  REQUIRE(SignIn(*stub, who.user.email(), who.password, &response).ok());
  CHECK(response.user().id() == who.user.id());
  CHECK(response.user().email() == who.user.email());
  // Addresses are compared as CreateUser stores them: case and surrounding blanks do not matter.
  std::string shouted = who.user.email();
  std::transform(shouted.begin(), shouted.end(), shouted.begin(), ::toupper);
  CHECK(SignIn(*stub, "  " + shouted, who.password).ok());

  const grpc::Status wrong = SignIn(*stub, who.user.email(), who.password + "x");
  const grpc::Status unknown = SignIn(*stub, UnknownEmail(), who.password);
  CHECK(wrong.error_code() == grpc::StatusCode::UNAUTHENTICATED);
  CHECK(unknown.error_code() == grpc::StatusCode::UNAUTHENTICATED);
  CHECK(wrong.error_message() == unknown.error_message());
  CHECK(wrong.error_message().find(who.password) == std::string::npos);

  CHECK(SignIn(*stub, "not an email", who.password).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(SignIn(*stub, who.user.email(), "").error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  const std::string log = server.Log();
  CHECK(log.find(who.password) == std::string::npos);
  BlockingDb db;
  const std::string stored =
      db.Scalar("SELECT password_hash FROM users WHERE id = $1", {who.user.id()});
  CHECK(log.find(stored) == std::string::npos);
  CHECK(wrong.error_message().find(stored) == std::string::npos);
}

TEST_CASE(
    "VerifyPassword: a deactivated account is PERMISSION_DENIED, but only with its password") {
  ServerProcess server;
  auto stub = server.stub();
  const TestUser who = CreateTestUser(*stub);
  user::v1::DeactivateUserRequest deactivate;
  deactivate.set_user_id(who.user.id());
  deactivate.set_reason("test");
  user::v1::DeactivateUserResponse deactivated;
  REQUIRE(Call(*stub, &Stub::DeactivateUser, deactivate, &deactivated).ok());

  CHECK(SignIn(*stub, who.user.email(), who.password + "x").error_code() ==
        grpc::StatusCode::UNAUTHENTICATED);
  const grpc::Status right = SignIn(*stub, who.user.email(), who.password);
  CHECK(right.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(right.error_message() == "account is deactivated");
}

TEST_CASE("VerifyPassword: 5 wrong passwords lock the email for 15 minutes without argon2id") {
  MeteredServer metered;
  auto stub = metered.server.stub();
  const TestUser who = CreateTestUser(*stub);
  const std::string stranger = UnknownEmail();

  // Four wrong, then the right one: the count starts again.
  for (int i = 0; i < 4; ++i) {
    CHECK(SignIn(*stub, who.user.email(), "wrong-" + std::to_string(i)).error_code() ==
          grpc::StatusCode::UNAUTHENTICATED);
  }
  REQUIRE(SignIn(*stub, who.user.email(), who.password).ok());
  for (const std::string& email : {who.user.email(), stranger}) {
    INFO(email);
    for (int i = 0; i < 5; ++i) {
      CHECK(SignIn(*stub, email, "wrong-" + std::to_string(i)).error_code() ==
            grpc::StatusCode::UNAUTHENTICATED);
    }
    // Locked, the right password included, and with nothing hashed: an unknown email the same,
    // so that the lockout does not tell which addresses have an account.
    const double runs = metered.Argon2idRuns();
    for (int i = 0; i < 20; ++i) {
      const grpc::Status locked = SignIn(*stub, email, i == 0 ? who.password : "wrong");
      CHECK(locked.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
      const double delay = RetryDelaySeconds(locked);
      CHECK(delay > 14 * 60);
      CHECK(delay <= 15 * 60);
    }
    CHECK(metered.Argon2idRuns() == runs);
  }
  // Other accounts go on.
  const TestUser other = CreateTestUser(*stub);
  CHECK(SignIn(*stub, other.user.email(), other.password).ok());

  // Once the 15 minutes have passed (moved back here, rather than waited for), the right
  // password signs in again.
  BlockingDb db;
  db.Query(
      "UPDATE sign_in_attempts SET window_started_at = window_started_at - interval '15 minutes'"
      " WHERE email_digest IN (usersvc_reset_request_digest($1), usersvc_reset_request_digest($2))",
      {who.user.email(), stranger});
  CHECK(SignIn(*stub, who.user.email(), who.password).ok());
}

TEST_CASE("VerifyPassword: guesses sent all at once get no more than 5 checks") {
  MeteredServer metered;
  auto stub = metered.server.stub();
  const TestUser who = CreateTestUser(*stub);
  const double before = metered.Argon2idRuns();
  std::vector<user::v1::VerifyPasswordRequest> guesses(30);
  for (size_t i = 0; i < guesses.size(); ++i) {
    guesses[i].set_email(who.user.email());
    guesses[i].set_password("guess-" + std::to_string(i));
  }
  const auto statuses = CallConcurrently(*stub, &Stub::AsyncVerifyPassword, guesses);
  int unauthenticated = 0;
  int locked = 0;
  for (const grpc::Status& status : statuses) {
    if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED) ++unauthenticated;
    if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) ++locked;
  }
  CHECK(unauthenticated == 5);
  CHECK(locked == 25);
  CHECK(metered.Argon2idRuns() - before == 5);
}

TEST_CASE("VerifyPassword and ChangePassword take Django's hashes, re-hashed on first success") {
  ServerProcess server;
  auto stub = server.stub();
  BlockingDb db;
  const std::string password = "imported pässword 1";
  for (const std::string hasher : {"pbkdf2_sha256", "pbkdf2_sha1", "argon2", "bcrypt_sha256"}) {
    INFO(hasher);
    const TestUser who = CreateTestUser(*stub);
    const std::string django = DjangoPassword(hasher, password);
    db.Query("UPDATE users SET password_hash = $1 WHERE id = $2", {django, who.user.id()});
    const std::string version =
        db.Scalar("SELECT version FROM users WHERE id = $1", {who.user.id()});

    CHECK(SignIn(*stub, who.user.email(), who.password).error_code() ==
          grpc::StatusCode::UNAUTHENTICATED);
    CHECK(db.Scalar("SELECT password_hash FROM users WHERE id = $1", {who.user.id()}) == django);
    REQUIRE(SignIn(*stub, who.user.email(), password).ok());
    // Now the service's own argon2id, of the same password; not a change the user made.
    const std::string rehashed =
        db.Scalar("SELECT password_hash FROM users WHERE id = $1", {who.user.id()});
    CHECK(rehashed.starts_with("$argon2id$"));
    CHECK(db.Scalar("SELECT version FROM users WHERE id = $1", {who.user.id()}) == version);
    CHECK(SignIn(*stub, who.user.email(), password).ok());
    CHECK(db.Scalar("SELECT password_hash FROM users WHERE id = $1", {who.user.id()}) == rehashed);

    // ChangePassword checks the current password against an imported hash as well.
    const TestUser changer = CreateTestUser(*stub);
    db.Query("UPDATE users SET password_hash = $1 WHERE id = $2", {django, changer.user.id()});
    CHECK(ChangePassword(*stub, changer.user.id(), "not it at all", "a-new-password-1")
              .error_code() == grpc::StatusCode::UNAUTHENTICATED);
    REQUIRE(ChangePassword(*stub, changer.user.id(), password, "a-new-password-1").ok());
    CHECK(SignIn(*stub, changer.user.email(), "a-new-password-1").ok());
  }
  // An account Django marked unusable never signs in.
  const TestUser locked_out = CreateTestUser(*stub);
  db.Query("UPDATE users SET password_hash = $1 WHERE id = $2",
           {DjangoPassword("unusable", password), locked_out.user.id()});
  CHECK(SignIn(*stub, locked_out.user.email(), password).error_code() ==
        grpc::StatusCode::UNAUTHENTICATED);
}

TEST_CASE("VerifyPassword: a re-hash leaves the reset tokens the user was sent working") {
  ServerProcess server;
  auto stub = server.stub();
  BlockingDb db;
  const TestUser who = CreateTestUser(*stub);
  const std::string password = "imported pässword 2";
  db.Query("UPDATE users SET password_hash = $1 WHERE id = $2",
           {DjangoPassword("pbkdf2_sha256", password), who.user.id()});
  REQUIRE(RequestReset(*stub, who.user.email()).ok());
  const std::string token = LatestToken(db, who.user.id(), "user.password_reset_requested");
  REQUIRE(SignIn(*stub, who.user.email(), password).ok());
  CHECK(Reset(*stub, token, "a-new-password-2").ok());
}

TEST_CASE("VerifyPassword: an unknown email takes about as long as a wrong password") {
  // The error floor above what the sanitizer builds take for 260,000 PBKDF2 iterations (0.47 s
  // under AddressSanitizer; 0.066 s in a release build, well under the default 300 ms).
  ServerProcess::Options options;
  options.args = {"--sign_in_error_ms=1000"};
  ServerProcess server(options);
  auto stub = server.stub();
  BlockingDb db;
  // Wrong passwords for an account of the service's own hash, and for one imported from Django
  // (260,000 PBKDF2 iterations: three times argon2id's cost), against unknown emails.
  const TestUser own = CreateTestUser(*stub);
  const TestUser imported = CreateTestUser(*stub);
  db.Query("UPDATE users SET password_hash = $1 WHERE id = $2",
           {DjangoPassword("pbkdf2_sha256", "imported pässword 3"), imported.user.id()});
  auto timed = [&](const std::string& email) {
    const auto start = std::chrono::steady_clock::now();
    const grpc::Status status = SignIn(*stub, email, "not the password");
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    CHECK(status.error_code() == grpc::StatusCode::UNAUTHENTICATED);
    return seconds;
  };
  // Interleaved, so that whatever else the machine does falls on all alike; every fourth round
  // the accounts' counts are cleared (as their right passwords would, which would also re-hash
  // the imported one).
  std::vector<double> own_wrong, imported_wrong, unknown;
  for (int i = 0; i < 12; ++i) {
    own_wrong.push_back(timed(own.user.email()));
    imported_wrong.push_back(timed(imported.user.email()));
    unknown.push_back(timed(UnknownEmail()));
    if (i % 4 == 3) {
      db.Query(
          "DELETE FROM sign_in_attempts WHERE email_digest IN"
          " (usersvc_reset_request_digest($1), usersvc_reset_request_digest($2))",
          {own.user.email(), imported.user.email()});
    }
  }
  auto median = [](std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
  };
  INFO("median unknown " << median(unknown) * 1000 << " ms, wrong (own hash) "
                         << median(own_wrong) * 1000 << " ms, wrong (Django's) "
                         << median(imported_wrong) * 1000 << " ms");
  for (const double ratio :
       {median(unknown) / median(own_wrong), median(unknown) / median(imported_wrong)}) {
    CHECK(ratio > 0.8);
    CHECK(ratio < 1.25);
  }
  CHECK(db.Scalar("SELECT left(password_hash, 7) FROM users WHERE id = $1", {imported.user.id()}) ==
        "pbkdf2_");
}

}  // namespace usersvc::test
