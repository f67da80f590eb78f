#include "test/support/fixtures.h"

#include <catch2/catch.hpp>

#include "test/support/server_process.h"

namespace usersvc::test {

TestUser CreateTestUser(user::v1::UserService::Stub& stub) {
  const std::string suffix = UniqueSuffix();
  user::v1::CreateUserRequest request;
  request.set_email("user." + suffix + "@example.com");
  request.set_username("user_" + suffix);
  request.set_password("password " + suffix);
  user::v1::CreateUserResponse response;
  grpc::Status status = stub.CreateUser(ContextWithDeadline(10).get(), request, &response);
  INFO(status.error_message());
  REQUIRE(status.ok());
  return {response.user(), request.password()};
}

std::vector<std::string> EventPayloads(BlockingDb& db, const std::string& user_id,
                                       const std::string& event_type) {
  std::vector<std::string> payloads;
  for (auto& row : db.Query("SELECT payload::text FROM user_events"
                            " WHERE user_id = $1::uuid AND event_type = $2 ORDER BY id",
                            {user_id, event_type})) {
    payloads.push_back(row[0]);
  }
  return payloads;
}

std::string LatestToken(BlockingDb& db, const std::string& user_id, const std::string& event_type) {
  return db.Scalar(
      "SELECT payload->>'token' FROM user_events WHERE user_id = $1::uuid AND event_type = $2"
      " ORDER BY id DESC LIMIT 1",
      {user_id, event_type});
}

}  // namespace usersvc::test
