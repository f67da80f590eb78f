// Through a real HTTP/2 gRPC proxy (nginx grpc_pass; Envoy cannot be installed here): health,
// a lookup, an error status with its details, and the caller's deadline all pass through.
#include <chrono>
#include <thread>

#include <catch2/catch.hpp>

#include "grpc/health/v1/health.grpc.pb.h"
#include "test/support/fixtures.h"
#include "test/support/nginx_proxy.h"

namespace usersvc::test {
namespace {

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

TEST_CASE("Through nginx grpc_pass: health, GetUser, an error status and a deadline") {
  ServerProcess server;
  TestUser who = CreateTestUser(*server.stub());
  NginxGrpcProxy proxy(server.port());
  auto channel = grpc::CreateChannel("ipv4:" + proxy.address(), grpc::InsecureChannelCredentials());
  auto stub = user::v1::UserService::NewStub(channel);
  INFO(proxy.ErrorLog());

  auto health = grpc::health::v1::Health::NewStub(channel);
  grpc::health::v1::HealthCheckRequest service;
  service.set_service("user.v1.UserService");
  grpc::health::v1::HealthCheckResponse serving;
  REQUIRE(health->Check(ContextWithDeadline(5).get(), service, &serving).ok());
  CHECK(serving.status() == grpc::health::v1::HealthCheckResponse::SERVING);

  user::v1::GetUserRequest get;
  get.set_user_id(who.user.id());
  user::v1::GetUserResponse got;
  const grpc::Status found = stub->GetUser(ContextWithDeadline(5).get(), get, &got);
  INFO(found.error_message());
  REQUIRE(found.ok());
  CHECK(got.user().email() == who.user.email());

  // An error keeps its code, message and google.rpc details across the proxy.
  get.set_user_id("not-a-uuid");
  const grpc::Status invalid = stub->GetUser(ContextWithDeadline(5).get(), get, &got);
  CHECK(invalid.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(invalid.error_message().rfind("user_id: ", 0) == 0);
  CHECK_FALSE(invalid.error_details().empty());

  // The deadline reaches the service as grpc-timeout: a change stuck behind a lock the test holds
  // is given up by the service itself (its statement cancelled) while the lock is still held.
  BlockingDb blocker;
  blocker.Query("BEGIN");
  blocker.Query("SELECT 1 FROM users WHERE id = $1 FOR UPDATE", {who.user.id()});
  const std::string blocker_pid = blocker.Scalar("SELECT pg_backend_pid()");
  user::v1::UpdateUserRequest update;
  update.set_user_id(who.user.id());
  update.mutable_user()->set_first_name("Proxied");
  update.mutable_update_mask()->add_paths("first_name");
  user::v1::UpdateUserResponse updated;
  const auto start = std::chrono::steady_clock::now();
  CHECK(stub->UpdateUser(ContextWithDeadline(0.5).get(), update, &updated).error_code() ==
        grpc::StatusCode::DEADLINE_EXCEEDED);
  CHECK(SecondsSince(start) < 1.5);
  BlockingDb observer;
  bool released = false;
  for (int i = 0; i < 100 && !released; ++i) {
    released = observer.CountBlockedBy(blocker_pid) == 0;
    if (!released) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(released);
  CHECK(SecondsSince(start) < 2.5);
  blocker.Query("ROLLBACK");
}

}  // namespace
}  // namespace usersvc::test
