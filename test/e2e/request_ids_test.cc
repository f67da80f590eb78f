// Safe retries: every change that a repeat would apply twice or answer differently takes an
// optional request_id, and a repeat of it answers what the first call did and changes nothing,
// also when the first call's answer was lost on the way back.

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "test/support/fixtures.h"
#include "test/support/tcp_proxy.h"

namespace usersvc::test {
namespace {

using user::v1::Address;

std::string NewRequestId() {
  const std::string hex = UniqueSuffix() + UniqueSuffix();
  return fmt::format("{}-{}-4{}-8{}-{}", hex.substr(0, 8), hex.substr(8, 4), hex.substr(12, 3),
                     hex.substr(15, 3), hex.substr(18, 12));
}

user::v1::AddAddressRequest NewAddress(const std::string& user_id, const std::string& label) {
  user::v1::AddAddressRequest request;
  request.set_user_id(user_id);
  Address& address = *request.mutable_address();
  address.set_type(user::v1::ADDRESS_TYPE_SHIPPING);
  address.set_label(label);
  address.set_recipient_name("Grace Hopper");
  address.set_line1("1 Navy Way");
  address.set_city("Arlington");
  address.set_postal_code("22202");
  address.set_country_code("US");
  return request;
}

int CountAddresses(BlockingDb& db, const std::string& user_id) {
  return std::stoi(db.Scalar("SELECT count(*) FROM addresses WHERE user_id = $1", {user_id}));
}

size_t CountEvents(BlockingDb& db, const std::string& user_id, const std::string& type) {
  return EventPayloads(db, user_id, type).size();
}

TEST_CASE("An AddAddress whose answer was lost, retried with its request_id, adds one address") {
  TcpProxy link(TestDatabaseTcpPort());
  ServerProcess::Options options;
  options.database_url = TestDatabaseTcpUrl("127.0.0.1", std::to_string(link.port()));
  options.args = {"--db_connections=2"};
  ServerProcess server(options);
  auto stub = server.stub();
  TestUser who = CreateTestUser(*stub);
  user::v1::AddAddressRequest request = NewAddress(who.user.id(), "home");
  request.set_request_id(NewRequestId());

  link.DropAnswers(true);
  user::v1::AddAddressResponse lost;
  const grpc::Status first = stub->AddAddress(ContextWithDeadline(15).get(), request, &lost);
  CHECK(first.error_code() == grpc::StatusCode::UNKNOWN);
  link.DropAnswers(false);

  // The caller retries as the UNKNOWN tells it to, while the pool replaces its connections.
  user::v1::AddAddressResponse retried;
  const grpc::Status status = CallWhileReconnecting(*stub, &Stub::AddAddress, request, &retried);
  INFO(status.error_message());
  REQUIRE(status.ok());
  BlockingDb db;
  CHECK(CountAddresses(db, who.user.id()) == 1);
  CHECK(db.Scalar("SELECT id FROM addresses WHERE user_id = $1", {who.user.id()}) ==
        retried.address().id());
  CHECK(CountEvents(db, who.user.id(), "user.address_added") == 1);
}

TEST_CASE("Each change repeated with its request_id answers as the first time and applies once") {
  ServerProcess server;
  auto stub = server.stub();
  BlockingDb db;
  TestUser who = CreateTestUser(*stub);
  const std::string& id = who.user.id();

  SECTION("UpdateUser with expected_version: the repeat is not ABORTED") {
    user::v1::UpdateUserRequest request;
    request.set_user_id(id);
    request.mutable_user()->set_first_name("Once");
    request.mutable_update_mask()->add_paths("first_name");
    request.set_expected_version(who.user.version());
    request.set_request_id(NewRequestId());
    user::v1::UpdateUserResponse first, repeat;
    REQUIRE(Call(*stub, &Stub::UpdateUser, request, &first).ok());
    const grpc::Status status = Call(*stub, &Stub::UpdateUser, request, &repeat);
    INFO(status.error_message());
    REQUIRE(status.ok());
    CHECK(repeat.user().SerializeAsString() == first.user().SerializeAsString());
    CHECK(CountEvents(db, id, "user.updated") == 1);
  }
  SECTION("DeleteUser: the repeat is not NOT_FOUND") {
    user::v1::DeleteUserRequest request;
    request.set_user_id(id);
    request.set_request_id(NewRequestId());
    user::v1::DeleteUserResponse response;
    REQUIRE(Call(*stub, &Stub::DeleteUser, request, &response).ok());
    CHECK(Call(*stub, &Stub::DeleteUser, request, &response).ok());
    CHECK(CountEvents(db, id, "user.deleted") == 1);
    // Without a request_id a second delete still says the user is gone.
    request.clear_request_id();
    CHECK(Call(*stub, &Stub::DeleteUser, request, &response).error_code() ==
          grpc::StatusCode::NOT_FOUND);
  }
  SECTION("AddAddress and DeleteAddress") {
    user::v1::AddAddressRequest add = NewAddress(id, "home");
    add.set_request_id(NewRequestId());
    user::v1::AddAddressResponse first, repeat;
    REQUIRE(Call(*stub, &Stub::AddAddress, add, &first).ok());
    REQUIRE(Call(*stub, &Stub::AddAddress, add, &repeat).ok());
    CHECK(repeat.address().SerializeAsString() == first.address().SerializeAsString());
    CHECK(CountAddresses(db, id) == 1);

    user::v1::DeleteAddressRequest remove;
    remove.set_user_id(id);
    remove.set_address_id(first.address().id());
    remove.set_request_id(NewRequestId());
    user::v1::DeleteAddressResponse removed;
    REQUIRE(Call(*stub, &Stub::DeleteAddress, remove, &removed).ok());
    CHECK(Call(*stub, &Stub::DeleteAddress, remove, &removed).ok());
    CHECK(CountAddresses(db, id) == 0);
    CHECK(CountEvents(db, id, "user.address_deleted") == 1);
  }
  SECTION("SendVerificationEmail and VerifyEmail: one token, one verification") {
    user::v1::SendVerificationEmailRequest send;
    send.set_user_id(id);
    send.set_request_id(NewRequestId());
    user::v1::SendVerificationEmailResponse first, repeat;
    REQUIRE(Call(*stub, &Stub::SendVerificationEmail, send, &first).ok());
    REQUIRE(Call(*stub, &Stub::SendVerificationEmail, send, &repeat).ok());
    CHECK(repeat.expires_at().seconds() == first.expires_at().seconds());
    CHECK(repeat.expires_at().nanos() == first.expires_at().nanos());
    CHECK(CountEvents(db, id, "user.email_verification_requested") == 1);

    user::v1::VerifyEmailRequest verify;
    verify.set_token(LatestToken(db, id, "user.email_verification_requested"));
    verify.set_request_id(NewRequestId());
    user::v1::VerifyEmailResponse verified, again;
    REQUIRE(Call(*stub, &Stub::VerifyEmail, verify, &verified).ok());
    const grpc::Status status = Call(*stub, &Stub::VerifyEmail, verify, &again);
    INFO(status.error_message());
    REQUIRE(status.ok());  // not "token: invalid or expired"
    CHECK(again.user().is_email_verified());
    CHECK(again.user().SerializeAsString() == verified.user().SerializeAsString());
    CHECK(CountEvents(db, id, "user.email_verified") == 1);
  }
  SECTION("ChangePassword: the repeat is not UNAUTHENTICATED") {
    user::v1::ChangePasswordRequest change;
    change.set_user_id(id);
    change.set_current_password(who.password);
    change.set_new_password("a new password 1");
    change.set_request_id(NewRequestId());
    user::v1::ChangePasswordResponse response;
    REQUIRE(Call(*stub, &Stub::ChangePassword, change, &response).ok());
    const grpc::Status status = Call(*stub, &Stub::ChangePassword, change, &response);
    INFO(status.error_message());
    CHECK(status.ok());
    CHECK(CountEvents(db, id, "user.password_changed") == 1);
    // The first call's password is the one that holds.
    change.set_current_password("a new password 1");
    change.set_new_password("a new password 2");
    change.clear_request_id();
    CHECK(Call(*stub, &Stub::ChangePassword, change, &response).ok());
  }
  SECTION("RequestPasswordReset and ResetPassword: one token, one reset") {
    user::v1::RequestPasswordResetRequest ask;
    ask.set_email(who.user.email());
    ask.set_request_id(NewRequestId());
    user::v1::RequestPasswordResetResponse asked;
    REQUIRE(Call(*stub, &Stub::RequestPasswordReset, ask, &asked).ok());
    REQUIRE(Call(*stub, &Stub::RequestPasswordReset, ask, &asked).ok());
    CHECK(CountEvents(db, id, "user.password_reset_requested") == 1);

    user::v1::ResetPasswordRequest reset;
    reset.set_token(LatestToken(db, id, "user.password_reset_requested"));
    reset.set_new_password("a reset password");
    reset.set_request_id(NewRequestId());
    user::v1::ResetPasswordResponse done;
    REQUIRE(Call(*stub, &Stub::ResetPassword, reset, &done).ok());
    const grpc::Status status = Call(*stub, &Stub::ResetPassword, reset, &done);
    INFO(status.error_message());
    CHECK(status.ok());
    CHECK(CountEvents(db, id, "user.password_changed") == 1);
  }
}

TEST_CASE("A request_id used with other arguments or on another method is ALREADY_EXISTS") {
  ServerProcess server;
  auto stub = server.stub();
  BlockingDb db;
  TestUser who = CreateTestUser(*stub);
  const std::string key = NewRequestId();

  user::v1::AddAddressRequest add = NewAddress(who.user.id(), "home");
  add.set_request_id(key);
  user::v1::AddAddressResponse added;
  REQUIRE(Call(*stub, &Stub::AddAddress, add, &added).ok());

  add.mutable_address()->set_label("work");
  grpc::Status status = Call(*stub, &Stub::AddAddress, add, &added);
  CHECK(status.error_code() == grpc::StatusCode::ALREADY_EXISTS);
  CHECK(status.error_message() == "request_id: already used with different arguments");

  user::v1::DeleteUserRequest remove;
  remove.set_user_id(who.user.id());
  remove.set_request_id(key);
  user::v1::DeleteUserResponse removed;
  CHECK(Call(*stub, &Stub::DeleteUser, remove, &removed).error_code() ==
        grpc::StatusCode::ALREADY_EXISTS);

  user::v1::ChangePasswordRequest change;
  change.set_user_id(who.user.id());
  change.set_current_password(who.password);
  change.set_new_password("another password");
  change.set_request_id(key);
  user::v1::ChangePasswordResponse changed;
  CHECK(Call(*stub, &Stub::ChangePassword, change, &changed).error_code() ==
        grpc::StatusCode::ALREADY_EXISTS);

  CHECK(CountAddresses(db, who.user.id()) == 1);
  CHECK(db.Scalar("SELECT count(*) FROM users WHERE id = $1", {who.user.id()}) == "1");
  CHECK(CountEvents(db, who.user.id(), "user.password_changed") == 0);

  change.set_request_id("not-a-uuid");
  status = Call(*stub, &Stub::ChangePassword, change, &changed);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(status.error_message().rfind("request_id: ", 0) == 0);
}

TEST_CASE("A failed change is not recorded: its repeat runs again and fails the same way") {
  ServerProcess server;
  auto stub = server.stub();
  BlockingDb db;
  TestUser who = CreateTestUser(*stub);
  user::v1::UpdateUserRequest request;
  request.set_user_id(who.user.id());
  request.mutable_user()->set_first_name("Stale");
  request.mutable_update_mask()->add_paths("first_name");
  request.set_expected_version(who.user.version() + 5);
  request.set_request_id(NewRequestId());
  user::v1::UpdateUserResponse response;
  CHECK(Call(*stub, &Stub::UpdateUser, request, &response).error_code() ==
        grpc::StatusCode::ABORTED);
  CHECK(Call(*stub, &Stub::UpdateUser, request, &response).error_code() ==
        grpc::StatusCode::ABORTED);
  CHECK(db.Scalar("SELECT count(*) FROM request_outcomes WHERE request_id = $1",
                  {request.request_id()}) == "0");
}

TEST_CASE("Concurrent first calls with one request_id add one address and all get it") {
  ServerProcess server;
  auto stub = server.stub();
  BlockingDb db;
  TestUser who = CreateTestUser(*stub);
  user::v1::AddAddressRequest add = NewAddress(who.user.id(), "home");
  add.set_request_id(NewRequestId());
  std::vector<user::v1::AddAddressResponse> responses;
  const std::vector<grpc::Status> statuses = CallConcurrently(
      *stub, &Stub::AsyncAddAddress, std::vector<user::v1::AddAddressRequest>(20, add), &responses);
  for (size_t i = 0; i < statuses.size(); ++i) {
    INFO(statuses[i].error_message());
    CHECK(statuses[i].ok());
    CHECK(responses[i].address().id() == responses[0].address().id());
  }
  CHECK(CountAddresses(db, who.user.id()) == 1);
  CHECK(CountEvents(db, who.user.id(), "user.address_added") == 1);
}

TEST_CASE("Recorded outcomes hold no password, password hash or raw token") {
  ServerProcess server;
  auto stub = server.stub();
  BlockingDb db;
  TestUser who = CreateTestUser(*stub);
  const std::string& id = who.user.id();
  user::v1::SendVerificationEmailRequest send;
  send.set_user_id(id);
  send.set_request_id(NewRequestId());
  user::v1::SendVerificationEmailResponse sent;
  REQUIRE(Call(*stub, &Stub::SendVerificationEmail, send, &sent).ok());
  user::v1::VerifyEmailRequest verify;
  verify.set_token(LatestToken(db, id, "user.email_verification_requested"));
  verify.set_request_id(NewRequestId());
  user::v1::VerifyEmailResponse verified;
  REQUIRE(Call(*stub, &Stub::VerifyEmail, verify, &verified).ok());
  // The hash the recorded user rows were taken with, and the one after the change.
  const std::string first_hash = db.Scalar("SELECT password_hash FROM users WHERE id = $1", {id});
  user::v1::ChangePasswordRequest change;
  change.set_user_id(id);
  change.set_current_password(who.password);
  change.set_new_password("outcome password 1");
  change.set_request_id(NewRequestId());
  user::v1::ChangePasswordResponse changed;
  const grpc::Status status = Call(*stub, &Stub::ChangePassword, change, &changed);
  INFO(status.error_message());
  REQUIRE(status.ok());

  const std::string second_hash = db.Scalar("SELECT password_hash FROM users WHERE id = $1", {id});
  CHECK(db.Scalar("SELECT count(*) FROM request_outcomes WHERE request_id = ANY($1::uuid[])",
                  {"{" + send.request_id() + "," + verify.request_id() + "," + change.request_id() +
                   "}"}) == "3");
  for (const std::string& secret :
       {verify.token(), who.password, std::string("outcome password 1"), first_hash, second_hash}) {
    CHECK(db.Scalar("SELECT count(*) FROM request_outcomes t WHERE strpos(t::text, $1) > 0",
                    {secret}) == "0");
  }
}

}  // namespace
}  // namespace usersvc::test
