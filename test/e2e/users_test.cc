// CreateUser, GetUser and GetUserByEmail against the running server, one clause at a time.
#include <string>

#include <catch2/catch.hpp>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "test/support/fixtures.h"
#include "test/support/server_process.h"
#include "test/support/test_database.h"

namespace usersvc::test {
namespace {

using user::v1::CreateUserRequest;
using user::v1::CreateUserResponse;

CreateUserRequest NewUserRequest(const std::string& suffix) {
  CreateUserRequest request;
  request.set_email("  Person." + suffix + "@Example.COM ");
  request.set_username("Person_" + suffix);
  request.set_password("correct horse " + suffix);
  request.set_first_name("Ada");
  request.set_last_name("Lovelace");
  request.set_phone_number("+14155550123");
  return request;
}

grpc::Status Create(user::v1::UserService::Stub& stub, const CreateUserRequest& request,
                    CreateUserResponse* response) {
  return stub.CreateUser(ContextWithDeadline(10).get(), request, response);
}

int CountEvents(BlockingDb& db, const std::string& user_id, const std::string& type) {
  return std::stoi(
      db.Scalar("SELECT count(*) FROM user_events WHERE user_id = $1::uuid AND event_type = $2",
                {user_id, type}));
}

TEST_CASE("CreateUser stores a normalised user and writes user.created in the outbox") {
  ServerProcess server;
  auto stub = server.stub();
  const std::string suffix = UniqueSuffix();
  CreateUserResponse response;
  grpc::Status status = Create(*stub, NewUserRequest(suffix), &response);
  REQUIRE(status.error_message() == "");
  REQUIRE(status.ok());
  const user::v1::User& user = response.user();
  CHECK(user.id().size() == 36);
  CHECK(user.email() == "person." + suffix + "@example.com");
  CHECK(user.username() == "Person_" + suffix);
  CHECK(user.first_name() == "Ada");
  CHECK(user.last_name() == "Lovelace");
  CHECK(user.phone_number() == "+14155550123");
  CHECK(user.role() == user::v1::USER_ROLE_CUSTOMER);
  CHECK(user.is_active());
  CHECK_FALSE(user.is_email_verified());
  CHECK(user.version() == 1);
  CHECK(user.created_at().seconds() > 1'700'000'000);
  CHECK_FALSE(user.has_deactivated_at());

  BlockingDb db;
  CHECK(CountEvents(db, user.id(), "user.created") == 1);
  CHECK(db.Scalar("SELECT payload->>'email' FROM user_events WHERE user_id = $1::uuid",
                  {user.id()}) == user.email());
  CHECK(db.Scalar("SELECT payload->>'username' FROM user_events WHERE user_id = $1::uuid",
                  {user.id()}) == user.username());
  // Only an argon2id hash is stored, never the password.
  const std::string hash =
      db.Scalar("SELECT password_hash FROM users WHERE id = $1::uuid", {user.id()});
  CHECK(hash.rfind("$argon2id$", 0) == 0);
  CHECK(hash.find("correct horse") == std::string::npos);
}

TEST_CASE(
    "CreateUser rejects each invalid field with INVALID_ARGUMENT naming it, writing nothing") {
  ServerProcess server;
  auto stub = server.stub();
  struct Case {
    const char* field;
    void (*spoil)(CreateUserRequest&);
  };
  const Case cases[] = {
      {"email", [](CreateUserRequest& r) { r.set_email("not-an-email"); }},
      {"username", [](CreateUserRequest& r) { r.set_username("x"); }},
      {"password", [](CreateUserRequest& r) { r.set_password("short"); }},
      {"first_name", [](CreateUserRequest& r) { r.set_first_name(std::string(101, 'a')); }},
      {"phone_number", [](CreateUserRequest& r) { r.set_phone_number("555-0123"); }},
      {"role", [](CreateUserRequest& r) { r.set_role(static_cast<user::v1::UserRole>(9)); }},
      {"request_id", [](CreateUserRequest& r) { r.set_request_id("not-a-uuid"); }},
  };
  BlockingDb db;
  for (const Case& c : cases) {
    INFO(c.field);
    const std::string suffix = UniqueSuffix();
    CreateUserRequest request = NewUserRequest(suffix);
    c.spoil(request);
    CreateUserResponse response;
    grpc::Status status = Create(*stub, request, &response);
    CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(status.error_message().rfind(std::string(c.field) + ": ", 0) == 0);
    CHECK(db.Scalar("SELECT count(*) FROM users WHERE username = $1", {"Person_" + suffix}) == "0");
  }
}

TEST_CASE("INVALID_ARGUMENT carries a google.rpc.BadRequest naming the field") {
  ServerProcess server;
  auto stub = server.stub();
  CreateUserRequest request = NewUserRequest(UniqueSuffix());
  request.set_email("nope");
  CreateUserResponse response;
  grpc::Status status = Create(*stub, request, &response);
  REQUIRE(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  google::rpc::Status details;
  REQUIRE(details.ParseFromString(status.error_details()));
  CHECK(details.code() == grpc::StatusCode::INVALID_ARGUMENT);
  REQUIRE(details.details_size() == 1);
  google::rpc::BadRequest bad_request;
  REQUIRE(details.details(0).UnpackTo(&bad_request));
  REQUIRE(bad_request.field_violations_size() == 1);
  CHECK(bad_request.field_violations(0).field() == "email");
  CHECK(bad_request.field_violations(0).description() == "must be a valid email address");
}

TEST_CASE("50 racing CreateUser calls with one email: exactly one succeeds") {
  ServerProcess server;
  auto stub = server.stub();
  const std::string email = "race." + UniqueSuffix() + "@example.com";
  std::vector<CreateUserRequest> requests;
  for (int i = 0; i < 50; ++i) {
    requests.push_back(NewUserRequest(UniqueSuffix()));
    requests.back().set_email(email);
  }
  int created = 0;
  int taken = 0;
  for (const grpc::Status& status : CallConcurrently(*stub, &Stub::AsyncCreateUser, requests)) {
    created += status.ok();
    taken += status.error_code() == grpc::StatusCode::ALREADY_EXISTS;
  }
  CHECK(created == 1);
  CHECK(taken == 49);
  BlockingDb db;
  CHECK(db.Scalar("SELECT count(*) FROM user_events WHERE event_type = 'user.created'"
                  " AND payload->>'email' = $1",
                  {email}) == "1");
}

TEST_CASE("CreateUser says which field is taken, ignoring case") {
  ServerProcess server;
  auto stub = server.stub();
  const std::string suffix = UniqueSuffix();
  CreateUserResponse first;
  REQUIRE(Create(*stub, NewUserRequest(suffix), &first).ok());

  CreateUserRequest same_email = NewUserRequest(UniqueSuffix());
  same_email.set_email("PERSON." + suffix + "@example.com");
  CreateUserResponse response;
  grpc::Status status = Create(*stub, same_email, &response);
  CHECK(status.error_code() == grpc::StatusCode::ALREADY_EXISTS);
  CHECK(status.error_message().rfind("email: ", 0) == 0);

  CreateUserRequest same_username = NewUserRequest(UniqueSuffix());
  same_username.set_username("PERSON_" + suffix);
  status = Create(*stub, same_username, &response);
  CHECK(status.error_code() == grpc::StatusCode::ALREADY_EXISTS);
  CHECK(status.error_message().rfind("username: ", 0) == 0);

  BlockingDb db;
  CHECK(db.Scalar("SELECT count(*) FROM users WHERE email = $1", {first.user().email()}) == "1");
}

TEST_CASE("CreateUser with a request_id returns the first user on a retry") {
  ServerProcess server;
  auto stub = server.stub();
  CreateUserRequest request = NewUserRequest(UniqueSuffix());
  request.set_request_id("0b9e6f7a-1c2d-4e5f-8a9b-" + UniqueSuffix().substr(0, 12));
  CreateUserResponse first;
  CreateUserResponse retry;
  REQUIRE(Create(*stub, request, &first).ok());
  REQUIRE(Create(*stub, request, &retry).ok());
  CHECK(retry.user().id() == first.user().id());
  CHECK(retry.user().email() == first.user().email());
  BlockingDb db;
  CHECK(CountEvents(db, first.user().id(), "user.created") == 1);

  SECTION("the same request_id with other arguments is ALREADY_EXISTS") {
    CreateUserRequest changed = request;
    changed.set_first_name("Grace");
    CreateUserResponse response;
    grpc::Status status = Create(*stub, changed, &response);
    CHECK(status.error_code() == grpc::StatusCode::ALREADY_EXISTS);
    CHECK(status.error_message().rfind("request_id: ", 0) == 0);
  }
  SECTION("the same request_id with another password is ALREADY_EXISTS") {
    CreateUserRequest changed = request;
    changed.set_password("another password entirely");
    CreateUserResponse response;
    grpc::Status status = Create(*stub, changed, &response);
    CHECK(status.error_code() == grpc::StatusCode::ALREADY_EXISTS);
    CHECK(status.error_message().find("another password") == std::string::npos);
  }
}

TEST_CASE("GetUser returns the user, NOT_FOUND for an unknown ID, INVALID_ARGUMENT for a bad one") {
  ServerProcess server;
  auto stub = server.stub();
  CreateUserResponse created;
  REQUIRE(Create(*stub, NewUserRequest(UniqueSuffix()), &created).ok());

  user::v1::GetUserRequest request;
  user::v1::GetUserResponse response;
  request.set_user_id(created.user().id());
  REQUIRE(stub->GetUser(ContextWithDeadline().get(), request, &response).ok());
  CHECK(response.user().SerializeAsString() == created.user().SerializeAsString());

  request.set_user_id("00000000-0000-4000-8000-000000000000");
  grpc::Status status = stub->GetUser(ContextWithDeadline().get(), request, &response);
  CHECK(status.error_code() == grpc::StatusCode::NOT_FOUND);

  for (const char* bad :
       {"", "42", "00000000-0000-4000-8000-00000000000Z", "00000000-0000-4000-A000-000000000000"}) {
    INFO(bad);
    request.set_user_id(bad);
    status = stub->GetUser(ContextWithDeadline().get(), request, &response);
    CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(status.error_message().rfind("user_id: ", 0) == 0);
  }
}

TEST_CASE("GetUserByEmail ignores case and surrounding space") {
  ServerProcess server;
  auto stub = server.stub();
  const std::string suffix = UniqueSuffix();
  CreateUserResponse created;
  REQUIRE(Create(*stub, NewUserRequest(suffix), &created).ok());

  user::v1::GetUserByEmailRequest request;
  user::v1::GetUserByEmailResponse response;
  request.set_email(" PERSON." + suffix + "@EXAMPLE.com\t");
  REQUIRE(stub->GetUserByEmail(ContextWithDeadline().get(), request, &response).ok());
  CHECK(response.user().id() == created.user().id());

  request.set_email("nobody." + suffix + "@example.com");
  CHECK(stub->GetUserByEmail(ContextWithDeadline().get(), request, &response).error_code() ==
        grpc::StatusCode::NOT_FOUND);

  request.set_email("nobody");
  grpc::Status status = stub->GetUserByEmail(ContextWithDeadline().get(), request, &response);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(status.error_message().rfind("email: ", 0) == 0);
}

TEST_CASE("a request over 4 MiB is RESOURCE_EXHAUSTED") {
  ServerProcess server;
  auto stub = server.stub();
  CreateUserRequest request = NewUserRequest(UniqueSuffix());
  request.set_first_name(std::string(5 * 1024 * 1024, 'a'));
  CreateUserResponse response;
  CHECK(Create(*stub, request, &response).error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  // And the server keeps serving.
  CHECK(Create(*stub, NewUserRequest(UniqueSuffix()), &response).ok());
}

}  // namespace
}  // namespace usersvc::test
