#pragma once

#include <string>

#include <grpcpp/grpcpp.h>

#include "test/support/server_process.h"
#include "test/support/test_database.h"
#include "user/v1/user.grpc.pb.h"

namespace usersvc::test {

/// A user created through CreateUser for a test, with the password it was given.
struct TestUser {
  user::v1::User user;
  std::string password;
};

using Stub = user::v1::UserService::Stub;

/// One unary call with a 10 s deadline: Call(stub, &Stub::GetUser, request, &response).
template <typename Request, typename Response>
grpc::Status Call(Stub& stub,
                  grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*),
                  const Request& request, Response* response) {
  return (stub.*method)(ContextWithDeadline(10).get(), request, response);
}

/// Creates a user with unique email and username; fails the test if CreateUser does not succeed.
TestUser CreateTestUser(user::v1::UserService::Stub& stub);

/// Outbox rows of one type for one user, oldest first, as their JSON payloads.
std::vector<std::string> EventPayloads(BlockingDb& db, const std::string& user_id,
                                       const std::string& event_type);

/// The raw token carried by the newest outbox event of `event_type` for the user.
std::string LatestToken(BlockingDb& db, const std::string& user_id, const std::string& event_type);

}  // namespace usersvc::test
