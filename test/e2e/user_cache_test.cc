// The lookup cache behind GetUser and GetUserByEmail, as a caller sees it: a change made through
// the server is in its very next read; one made through another server or by SQL within a
// second; and while the server cannot hear of changes it answers from the database.
#include <chrono>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "test/support/fixtures.h"
#include "test/support/private_cluster.h"

namespace usersvc::test {
namespace {

using Clock = std::chrono::steady_clock;

grpc::Status GetUser(Stub& stub, const std::string& id, user::v1::User* user) {
  user::v1::GetUserRequest request;
  request.set_user_id(id);
  user::v1::GetUserResponse response;
  grpc::Status status = Call(stub, &Stub::GetUser, request, &response);
  *user = response.user();
  return status;
}

user::v1::User MustGet(Stub& stub, const std::string& id) {
  user::v1::User user;
  grpc::Status status = GetUser(stub, id, &user);
  INFO(status.error_message());
  REQUIRE(status.ok());
  return user;
}

user::v1::User MustGetByEmail(Stub& stub, const std::string& email) {
  user::v1::GetUserByEmailRequest request;
  request.set_email(email);
  user::v1::GetUserByEmailResponse response;
  grpc::Status status = Call(stub, &Stub::GetUserByEmail, request, &response);
  INFO(status.error_message());
  REQUIRE(status.ok());
  return response.user();
}

void Rename(Stub& stub, const std::string& id, const std::string& first_name) {
  user::v1::UpdateUserRequest request;
  request.set_user_id(id);
  request.mutable_user()->set_first_name(first_name);
  request.mutable_update_mask()->add_paths("first_name");
  user::v1::UpdateUserResponse response;
  REQUIRE(Call(stub, &Stub::UpdateUser, request, &response).ok());
}

/// Seconds until GetUser on `stub` shows `first_name` (polled every 10 ms), or -1 after 10 s.
double SecondsUntilNamed(Stub& stub, const std::string& id, const std::string& first_name) {
  const auto start = Clock::now();
  while (Clock::now() - start < std::chrono::seconds(10)) {
    if (MustGet(stub, id).first_name() == first_name) {
      return std::chrono::duration<double>(Clock::now() - start).count();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return -1;
}

TEST_CASE("A change made through the server is in its very next lookup, cached or not") {
  const int metrics_port = FreePort();
  ServerProcess::Options options;
  options.args = {"--metrics_listen=127.0.0.1:" + std::to_string(metrics_port)};
  ServerProcess server(options);
  auto stub = server.stub();
  BlockingDb db;
  TestUser who = CreateTestUser(*stub);
  const std::string& id = who.user.id();
  // Warm: the second and third lookups are the cache's (once the server listens for changes).
  for (int i = 0; i < 3; ++i) MustGet(*stub, id);
  MustGetByEmail(*stub, who.user.email());

  Rename(*stub, id, "Renamed");
  CHECK(MustGet(*stub, id).first_name() == "Renamed");
  {
    user::v1::DeactivateUserRequest request;
    request.set_user_id(id);
    user::v1::DeactivateUserResponse response;
    REQUIRE(Call(*stub, &Stub::DeactivateUser, request, &response).ok());
  }
  CHECK_FALSE(MustGet(*stub, id).is_active());
  {
    user::v1::ReactivateUserRequest request;
    request.set_user_id(id);
    user::v1::ReactivateUserResponse response;
    REQUIRE(Call(*stub, &Stub::ReactivateUser, request, &response).ok());
  }
  CHECK(MustGet(*stub, id).is_active());
  int64_t version = MustGet(*stub, id).version();
  REQUIRE(ChangePassword(*stub, id, who.password, "a changed password 1").ok());
  CHECK(MustGet(*stub, id).version() == ++version);
  REQUIRE(RequestReset(*stub, who.user.email()).ok());
  REQUIRE(Reset(*stub, LatestToken(db, id, "user.password_reset_requested"), "a reset password 2")
              .ok());
  CHECK(MustGet(*stub, id).version() == ++version);
  {
    user::v1::SendVerificationEmailRequest request;
    request.set_user_id(id);
    user::v1::SendVerificationEmailResponse response;
    REQUIRE(Call(*stub, &Stub::SendVerificationEmail, request, &response).ok());
    user::v1::VerifyEmailRequest verify;
    verify.set_token(LatestToken(db, id, "user.email_verification_requested"));
    user::v1::VerifyEmailResponse verified;
    REQUIRE(Call(*stub, &Stub::VerifyEmail, verify, &verified).ok());
  }
  CHECK(MustGet(*stub, id).is_email_verified());
  // A new email: the old one finds nobody, the new one the user.
  const std::string new_email = "renamed." + UniqueSuffix() + "@example.com";
  {
    user::v1::UpdateUserRequest request;
    request.set_user_id(id);
    request.mutable_user()->set_email(new_email);
    request.mutable_update_mask()->add_paths("email");
    user::v1::UpdateUserResponse response;
    REQUIRE(Call(*stub, &Stub::UpdateUser, request, &response).ok());
  }
  CHECK(MustGetByEmail(*stub, new_email).id() == id);
  {
    user::v1::GetUserByEmailRequest request;
    request.set_email(who.user.email());
    user::v1::GetUserByEmailResponse response;
    CHECK(Call(*stub, &Stub::GetUserByEmail, request, &response).error_code() ==
          grpc::StatusCode::NOT_FOUND);
  }
  {
    user::v1::DeleteUserRequest request;
    request.set_user_id(id);
    user::v1::DeleteUserResponse response;
    REQUIRE(Call(*stub, &Stub::DeleteUser, request, &response).ok());
  }
  user::v1::User gone;
  CHECK(GetUser(*stub, id, &gone).error_code() == grpc::StatusCode::NOT_FOUND);

  const std::string metrics = Scrape(metrics_port);
  CHECK(SeriesValue(metrics, "usersvc_user_cache_hits_total") >= 1);
  CHECK(SeriesValue(metrics, "usersvc_user_cache_misses_total") >= 1);
  CHECK(SeriesValue(metrics, "usersvc_user_cache_evictions_total") == 0);
  CHECK(SeriesValue(metrics, "usersvc_user_cache_bytes") >= 0);
}

TEST_CASE("A change made through another server or by SQL is seen within a second") {
  ServerProcess reader;
  ServerProcess writer;
  auto reading = reader.stub();
  auto writing = writer.stub();
  TestUser who = CreateTestUser(*writing);
  const std::string& id = who.user.id();
  for (int i = 0; i < 3; ++i) MustGet(*reading, id);

  Rename(*writing, id, "FromTheOtherServer");
  const double other_server = SecondsUntilNamed(*reading, id, "FromTheOtherServer");
  CHECK(other_server >= 0);
  CHECK(other_server < 1.0);

  for (int i = 0; i < 3; ++i) MustGet(*reading, id);
  BlockingDb db;
  db.Query("UPDATE users SET first_name = 'BySql' WHERE id = $1::uuid", {id});
  const double by_sql = SecondsUntilNamed(*reading, id, "BySql");
  CHECK(by_sql >= 0);
  CHECK(by_sql < 1.0);
}

TEST_CASE("A server that lost its notification connection answers from the database") {
  PrivateCluster cluster;
  cluster.Start();
  const int metrics_port = FreePort();
  ServerProcess::Options options;
  options.database_url = cluster.url();
  options.args = {"--metrics_listen=127.0.0.1:" + std::to_string(metrics_port)};
  ServerProcess server(options);
  auto stub = server.stub();
  BlockingDb db(cluster.url());
  TestUser who = CreateTestUser(*stub);
  const std::string& id = who.user.id();
  // Until the cache answers (it does once the server listens for changes).
  bool cached = false;
  for (int i = 0; i < 500 && !cached; ++i) {
    MustGet(*stub, id);
    cached = SeriesValue(Scrape(metrics_port), "usersvc_user_cache_hits_total") >= 1;
    if (!cached) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  REQUIRE(cached);
  // A change the server cannot hear of: its notification turned off, the cache goes on
  // answering what it holds.
  db.Query("ALTER TABLE users DISABLE TRIGGER users_changed_notify");
  db.Query("UPDATE users SET first_name = 'Unheard' WHERE id = $1::uuid", {id});
  CHECK(MustGet(*stub, id).first_name() != "Unheard");

  // The listening connection goes: whatever it may have missed, the cache holds none of it.
  CHECK(db.Scalar("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                  " WHERE application_name = 'usersvc-events'") == "1");
  CHECK(SecondsUntilNamed(*stub, id, "Unheard") >= 0);
  db.Query("ALTER TABLE users ENABLE TRIGGER users_changed_notify");

  // TRUNCATE fires no row trigger, and the cache forgets everyone all the same.
  for (int i = 0; i < 3; ++i) MustGet(*stub, id);
  db.Query("TRUNCATE users CASCADE");
  const auto start = Clock::now();
  user::v1::User gone;
  while (GetUser(*stub, id, &gone).ok() && Clock::now() - start < std::chrono::seconds(10)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(GetUser(*stub, id, &gone).error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(Clock::now() - start < std::chrono::seconds(1));
}

}  // namespace
}  // namespace usersvc::test
