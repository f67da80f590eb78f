// UpdateUser, DeleteUser, DeactivateUser and ReactivateUser, clause by clause.
#include <absl/strings/ascii.h>
#include <catch2/catch.hpp>

#include "test/support/fixtures.h"

namespace usersvc::test {
namespace {

using user::v1::UpdateUserRequest;
using user::v1::UpdateUserResponse;

UpdateUserRequest Update(const TestUser& who) {
  UpdateUserRequest request;
  request.set_user_id(who.user.id());
  return request;
}

user::v1::User Fetch(Stub& stub, const std::string& id) {
  user::v1::GetUserRequest request;
  request.set_user_id(id);
  user::v1::GetUserResponse response;
  REQUIRE(Call(stub, &Stub::GetUser, request, &response).ok());
  return response.user();
}

TEST_CASE("UpdateUser changes only the masked fields, bumps the version and writes user.updated") {
  ServerProcess server;
  auto stub = server.stub();
  TestUser who = CreateTestUser(*stub);
  UpdateUserRequest request = Update(who);
  request.mutable_user()->set_first_name("Grace");
  request.mutable_user()->set_last_name("ignored: not in the mask");
  request.mutable_user()->set_role(user::v1::USER_ROLE_SELLER);
  request.mutable_update_mask()->add_paths("first_name");
  request.mutable_update_mask()->add_paths("role");
  UpdateUserResponse response;
  REQUIRE(Call(*stub, &Stub::UpdateUser, request, &response).ok());
  CHECK(response.user().first_name() == "Grace");
  CHECK(response.user().last_name() == who.user.last_name());
  CHECK(response.user().role() == user::v1::USER_ROLE_SELLER);
  CHECK(response.user().version() == who.user.version() + 1);
  BlockingDb db;
  CHECK(EventPayloads(db, who.user.id(), "user.updated") ==
        std::vector<std::string>{R"({"changed": ["first_name", "role"]})"});
}

TEST_CASE("UpdateUser with an empty mask updates the fields that are set") {
  ServerProcess server;
  auto stub = server.stub();
  TestUser who = CreateTestUser(*stub);
  UpdateUserRequest request = Update(who);
  request.mutable_user()->set_last_name("Hopper");
  request.mutable_user()->set_phone_number("+4915112345678");
  UpdateUserResponse response;
  REQUIRE(Call(*stub, &Stub::UpdateUser, request, &response).ok());
  CHECK(response.user().last_name() == "Hopper");
  CHECK(response.user().phone_number() == "+4915112345678");
  CHECK(response.user().username() == who.user.username());
}

TEST_CASE("UpdateUser rejects an unknown or read-only mask path and changes nothing") {
  ServerProcess server;
  auto stub = server.stub();
  TestUser who = CreateTestUser(*stub);
  for (const char* path : {"is_active", "id", "version", "nonsense"}) {
    INFO(path);
    UpdateUserRequest request = Update(who);
    request.mutable_user()->set_first_name("X");
    request.mutable_update_mask()->add_paths("first_name");
    request.mutable_update_mask()->add_paths(path);
    UpdateUserResponse response;
    grpc::Status status = Call(*stub, &Stub::UpdateUser, request, &response);
    CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(status.error_message().rfind("update_mask: ", 0) == 0);
  }
  CHECK(Fetch(*stub, who.user.id()).version() == 1);
}

TEST_CASE("UpdateUser validates the new values with their field paths") {
  ServerProcess server;
  auto stub = server.stub();
  TestUser who = CreateTestUser(*stub);
  UpdateUserRequest request = Update(who);
  request.mutable_user()->set_email("not an email");
  UpdateUserResponse response;
  grpc::Status status = Call(*stub, &Stub::UpdateUser, request, &response);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(status.error_message().rfind("user.email: ", 0) == 0);

  request = Update(who);
  request.mutable_update_mask()->add_paths("username");  // masked but empty
  status = Call(*stub, &Stub::UpdateUser, request, &response);
  CHECK(status.error_message().rfind("user.username: ", 0) == 0);

  request.set_user_id("not-a-uuid");
  status = Call(*stub, &Stub::UpdateUser, request, &response);
  CHECK(status.error_message().rfind("user_id: ", 0) == 0);

  request.set_user_id("00000000-0000-4000-8000-000000000000");
  request.mutable_user()->set_username("valid_name");
  CHECK(Call(*stub, &Stub::UpdateUser, request, &response).error_code() ==
        grpc::StatusCode::NOT_FOUND);
}

TEST_CASE("UpdateUser with a stale expected_version is ABORTED and changes nothing") {
  ServerProcess server;
  auto stub = server.stub();
  TestUser who = CreateTestUser(*stub);
  UpdateUserRequest request = Update(who);
  request.mutable_user()->set_first_name("First");
  request.set_expected_version(1);
  UpdateUserResponse response;
  REQUIRE(Call(*stub, &Stub::UpdateUser, request, &response).ok());
  CHECK(response.user().version() == 2);

  request.mutable_user()->set_first_name("Second");  // still expects version 1
  CHECK(Call(*stub, &Stub::UpdateUser, request, &response).error_code() ==
        grpc::StatusCode::ABORTED);
  CHECK(Fetch(*stub, who.user.id()).first_name() == "First");
}

TEST_CASE("An UpdateUser that changes nothing keeps the version and writes no event") {
  ServerProcess server;
  auto stub = server.stub();
  TestUser who = CreateTestUser(*stub);
  UpdateUserRequest request = Update(who);
  request.mutable_user()->set_username(who.user.username());
  UpdateUserResponse response;
  REQUIRE(Call(*stub, &Stub::UpdateUser, request, &response).ok());
  CHECK(response.user().version() == 1);
  BlockingDb db;
  CHECK(EventPayloads(db, who.user.id(), "user.updated").empty());
}

TEST_CASE("Changing the email clears verification and voids outstanding verification tokens") {
  ServerProcess server;
  auto stub = server.stub();
  TestUser who = CreateTestUser(*stub);
  user::v1::SendVerificationEmailRequest send;
  send.set_user_id(who.user.id());
  user::v1::SendVerificationEmailResponse sent;
  REQUIRE(Call(*stub, &Stub::SendVerificationEmail, send, &sent).ok());
  BlockingDb db;
  const std::string token = LatestToken(db, who.user.id(), "user.email_verification_requested");

  UpdateUserRequest request = Update(who);
  request.mutable_user()->set_email("New." + UniqueSuffix() + "@Example.com");
  UpdateUserResponse response;
  REQUIRE(Call(*stub, &Stub::UpdateUser, request, &response).ok());
  CHECK(response.user().email() == absl::AsciiStrToLower(request.user().email()));
  CHECK_FALSE(response.user().is_email_verified());

  user::v1::VerifyEmailRequest verify;
  verify.set_token(token);
  user::v1::VerifyEmailResponse verified;
  CHECK(Call(*stub, &Stub::VerifyEmail, verify, &verified).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_CASE("UpdateUser to a taken email or username is ALREADY_EXISTS naming the field") {
  ServerProcess server;
  auto stub = server.stub();
  TestUser first = CreateTestUser(*stub);
  TestUser second = CreateTestUser(*stub);
  UpdateUserRequest request = Update(second);
  request.mutable_user()->set_email(first.user.email());
  UpdateUserResponse response;
  grpc::Status status = Call(*stub, &Stub::UpdateUser, request, &response);
  CHECK(status.error_code() == grpc::StatusCode::ALREADY_EXISTS);
  CHECK(status.error_message().rfind("email: ", 0) == 0);

  request = Update(second);
  request.mutable_user()->set_username(absl::AsciiStrToUpper(first.user.username()));
  status = Call(*stub, &Stub::UpdateUser, request, &response);
  CHECK(status.error_code() == grpc::StatusCode::ALREADY_EXISTS);
  CHECK(status.error_message().rfind("username: ", 0) == 0);
}

TEST_CASE("DeleteUser removes the user with everything it owns and frees email and username") {
  ServerProcess server;
  auto stub = server.stub();
  TestUser who = CreateTestUser(*stub);
  user::v1::AddAddressRequest add;
  add.set_user_id(who.user.id());
  add.mutable_address()->set_recipient_name("R");
  add.mutable_address()->set_line1("1 Main St");
  add.mutable_address()->set_city("Springfield");
  add.mutable_address()->set_country_code("US");
  user::v1::AddAddressResponse added;
  REQUIRE(Call(*stub, &Stub::AddAddress, add, &added).ok());
  user::v1::UpdateUserPreferencesRequest prefs;
  prefs.set_user_id(who.user.id());
  prefs.mutable_preferences()->set_language("fr");
  user::v1::UpdateUserPreferencesResponse saved;
  REQUIRE(Call(*stub, &Stub::UpdateUserPreferences, prefs, &saved).ok());
  user::v1::SendVerificationEmailRequest send;
  send.set_user_id(who.user.id());
  user::v1::SendVerificationEmailResponse sent;
  REQUIRE(Call(*stub, &Stub::SendVerificationEmail, send, &sent).ok());

  user::v1::DeleteUserRequest request;
  request.set_user_id(who.user.id());
  user::v1::DeleteUserResponse response;
  REQUIRE(Call(*stub, &Stub::DeleteUser, request, &response).ok());
  CHECK(Call(*stub, &Stub::DeleteUser, request, &response).error_code() ==
        grpc::StatusCode::NOT_FOUND);

  BlockingDb db;
  for (const char* table : {"users WHERE id", "addresses WHERE user_id",
                            "user_preferences WHERE user_id", "user_tokens WHERE user_id"}) {
    INFO(table);
    CHECK(db.Scalar(std::string("SELECT count(*) FROM ") + table + " = $1::uuid",
                    {who.user.id()}) == "0");
  }
  CHECK(EventPayloads(db, who.user.id(), "user.deleted") ==
        std::vector<std::string>{R"({"email": ")" + who.user.email() + R"("})"});

  user::v1::CreateUserRequest again;
  again.set_email(who.user.email());
  again.set_username(who.user.username());
  again.set_password("another password");
  user::v1::CreateUserResponse created;
  CHECK(Call(*stub, &Stub::CreateUser, again, &created).ok());
}

TEST_CASE("DeactivateUser and ReactivateUser are idempotent and write events only on change") {
  ServerProcess server;
  auto stub = server.stub();
  TestUser who = CreateTestUser(*stub);
  user::v1::DeactivateUserRequest deactivate;
  deactivate.set_user_id(who.user.id());
  deactivate.set_reason("requested by the user");
  user::v1::DeactivateUserResponse deactivated;
  REQUIRE(Call(*stub, &Stub::DeactivateUser, deactivate, &deactivated).ok());
  CHECK_FALSE(deactivated.user().is_active());
  CHECK(deactivated.user().has_deactivated_at());
  CHECK(deactivated.user().deactivation_reason() == "requested by the user");
  CHECK(deactivated.user().version() == 2);

  deactivate.set_reason("a second time");
  REQUIRE(Call(*stub, &Stub::DeactivateUser, deactivate, &deactivated).ok());
  CHECK(deactivated.user().deactivation_reason() == "requested by the user");
  CHECK(deactivated.user().version() == 2);

  user::v1::ReactivateUserRequest reactivate;
  reactivate.set_user_id(who.user.id());
  user::v1::ReactivateUserResponse reactivated;
  REQUIRE(Call(*stub, &Stub::ReactivateUser, reactivate, &reactivated).ok());
  CHECK(reactivated.user().is_active());
  CHECK_FALSE(reactivated.user().has_deactivated_at());
  CHECK(reactivated.user().deactivation_reason().empty());
  REQUIRE(Call(*stub, &Stub::ReactivateUser, reactivate, &reactivated).ok());
  CHECK(reactivated.user().version() == 3);

  BlockingDb db;
  CHECK(EventPayloads(db, who.user.id(), "user.deactivated") ==
        std::vector<std::string>{R"({"reason": "requested by the user"})"});
  CHECK(EventPayloads(db, who.user.id(), "user.reactivated").size() == 1);

  deactivate.set_reason(std::string(501, 'r'));
  grpc::Status status = Call(*stub, &Stub::DeactivateUser, deactivate, &deactivated);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(status.error_message().rfind("reason: ", 0) == 0);
  deactivate.set_user_id("00000000-0000-4000-8000-000000000000");
  deactivate.set_reason("");
  CHECK(Call(*stub, &Stub::DeactivateUser, deactivate, &deactivated).error_code() ==
        grpc::StatusCode::NOT_FOUND);
}

TEST_CASE("Concurrent updates with the same expected_version: exactly one wins") {
  ServerProcess server;
  auto stub = server.stub();
  TestUser who = CreateTestUser(*stub);
  constexpr int kRacers = 10;
  std::vector<UpdateUserRequest> requests;
  for (int i = 0; i < kRacers; ++i) {
    requests.push_back(Update(who));
    requests.back().mutable_user()->set_first_name("Racer" + std::to_string(i));
    requests.back().set_expected_version(1);
  }
  int won = 0;
  int aborted = 0;
  for (const grpc::Status& status : CallConcurrently(*stub, &Stub::AsyncUpdateUser, requests)) {
    won += status.ok();
    aborted += status.error_code() == grpc::StatusCode::ABORTED;
  }
  CHECK(won == 1);
  CHECK(aborted == kRacers - 1);
  CHECK(Fetch(*stub, who.user.id()).version() == 2);
}

}  // namespace
}  // namespace usersvc::test
