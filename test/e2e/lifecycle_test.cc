// The server's shape under load and at shutdown: fixed threads, complete drains.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <thread>

#include <catch2/catch.hpp>

#include "grpc/health/v1/health.grpc.pb.h"
#include "test/support/fixtures.h"
#include "test/support/server_process.h"
#include "test/support/test_database.h"

namespace usersvc::test {
namespace {

struct AsyncGet {
  grpc::ClientContext context;
  user::v1::GetUserResponse response;
  grpc::Status status;
  std::unique_ptr<grpc::ClientAsyncResponseReader<user::v1::GetUserResponse>> reader;
};

/// Sends `count` GetUser calls at once on one channel and waits for every answer; the number OK.
/// While they are in flight it samples the server's thread count into `max_threads`.
int ConcurrentGets(const ServerProcess& server, const std::string& user_id, int count,
                   int* max_threads) {
  auto stub = server.stub();
  grpc::CompletionQueue cq;
  std::vector<std::unique_ptr<AsyncGet>> calls;
  user::v1::GetUserRequest request;
  request.set_user_id(user_id);
  for (int i = 0; i < count; ++i) {
    auto call = std::make_unique<AsyncGet>();
    call->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    call->reader = stub->AsyncGetUser(&call->context, request, &cq);
    call->reader->Finish(&call->response, &call->status, call.get());
    calls.push_back(std::move(call));
  }
  int ok_count = 0;
  for (int done = 0; done < count; ++done) {
    if (max_threads != nullptr && done % 50 == 0) {
      *max_threads = std::max(*max_threads, server.ThreadCount());
    }
    void* tag = nullptr;
    bool ok = false;
    REQUIRE(cq.Next(&tag, &ok));
    auto* call = static_cast<AsyncGet*>(tag);
    if (ok && call->status.ok() && call->response.user().id() == user_id) ++ok_count;
  }
  return ok_count;
}

TEST_CASE("1,000 concurrent GetUser calls all succeed and the thread count stays the same") {
  ServerProcess server;
  auto stub = server.stub();
  const std::string user_id = CreateTestUser(*stub).user.id();
  REQUIRE(ConcurrentGets(server, user_id, 200, nullptr) == 200);  // warm every lazy pool up

  const int threads_before = server.ThreadCount();
  int max_threads = threads_before;
  CHECK(ConcurrentGets(server, user_id, 1000, &max_threads) == 1000);
  CHECK(max_threads == threads_before);
  CHECK(server.ThreadCount() == threads_before);
}

struct AsyncCreate {
  grpc::ClientContext context;
  user::v1::CreateUserResponse response;
  grpc::Status status;
  std::unique_ptr<grpc::ClientAsyncResponseReader<user::v1::CreateUserResponse>> reader;
};

/// Starts `count` CreateUser calls. Each spends tens of milliseconds in argon2id on the server's
/// CPU pool, so together they keep it busy for a while.
std::vector<std::unique_ptr<AsyncCreate>> StartCreates(user::v1::UserService::Stub& stub,
                                                       grpc::CompletionQueue& cq, int count) {
  std::vector<std::unique_ptr<AsyncCreate>> calls;
  for (int i = 0; i < count; ++i) {
    const std::string suffix = UniqueSuffix();
    user::v1::CreateUserRequest request;
    request.set_email("drain." + suffix + "@example.com");
    request.set_username("drain_" + suffix);
    request.set_password("drain password " + suffix);
    auto call = std::make_unique<AsyncCreate>();
    call->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    call->reader = stub.AsyncCreateUser(&call->context, request, &cq);
    call->reader->Finish(&call->response, &call->status, call.get());
    calls.push_back(std::move(call));
  }
  return calls;
}

/// Waits for every call started on `cq`; the number that ended OK.
int CountOk(grpc::CompletionQueue& cq, int count) {
  int ok_count = 0;
  for (int i = 0; i < count; ++i) {
    void* tag = nullptr;
    bool ok = false;
    REQUIRE(cq.Next(&tag, &ok));
    auto* call = static_cast<AsyncCreate*>(tag);
    INFO(call->status.error_message());
    if (call->status.ok()) ++ok_count;
  }
  return ok_count;
}

struct AsyncUpdate {
  grpc::ClientContext context;
  user::v1::UpdateUserResponse response;
  grpc::Status status;
  std::unique_ptr<grpc::ClientAsyncResponseReader<user::v1::UpdateUserResponse>> reader;
};

TEST_CASE("SIGTERM lets calls in flight complete, then the process exits 0") {
  ServerProcess server;
  auto stub = server.stub();
  constexpr int kCalls = 12;
  std::vector<std::string> ids;
  for (int i = 0; i < kCalls; ++i) ids.push_back(CreateTestUser(*stub).user.id());

  // The test holds every user's row lock, so the updates stay in flight, however slowly they
  // reach the server, until the test lets them go.
  BlockingDb blocker;
  blocker.Query("BEGIN");
  std::string id_array = "{";
  for (const std::string& id : ids) id_array += (id_array.size() > 1 ? "," : "") + id;
  blocker.Query("SELECT 1 FROM users WHERE id = ANY($1::uuid[]) FOR UPDATE", {id_array + "}"});
  const std::string blocker_pid = blocker.Scalar("SELECT pg_backend_pid()");

  grpc::CompletionQueue cq;
  std::vector<std::unique_ptr<AsyncUpdate>> calls;
  for (const std::string& id : ids) {
    user::v1::UpdateUserRequest request;
    request.set_user_id(id);
    request.mutable_user()->set_first_name("Drained");
    request.mutable_update_mask()->add_paths("first_name");
    auto call = std::make_unique<AsyncUpdate>();
    call->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    call->reader = stub->AsyncUpdateUser(&call->context, request, &cq);
    call->reader->Finish(&call->response, &call->status, call.get());
    calls.push_back(std::move(call));
  }
  BlockingDb observer;
  bool blocked = false;
  for (int i = 0; i < 250 && !blocked; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    blocked = observer.CountBlockedBy(blocker_pid) > 0;
  }
  REQUIRE(blocked);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the rest arrive meanwhile

  server.Signal(SIGTERM);
  // Health turns NOT_SERVING first, so balancers stop sending; then a call that still arrives
  // during the drain is refused, retryably.
  auto health = grpc::health::v1::Health::NewStub(server.channel());
  grpc::health::v1::HealthCheckRequest service;
  service.set_service("user.v1.UserService");
  bool not_serving = false;
  for (int i = 0; i < 200 && !not_serving; ++i) {
    grpc::health::v1::HealthCheckResponse response;
    not_serving = health->Check(ContextWithDeadline(1).get(), service, &response).ok() &&
                  response.status() == grpc::health::v1::HealthCheckResponse::NOT_SERVING;
    if (!not_serving) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(not_serving);
  user::v1::GetUserRequest late;
  late.set_user_id(ids.front());
  user::v1::GetUserResponse late_response;
  CHECK(stub->GetUser(ContextWithDeadline().get(), late, &late_response).error_code() ==
        grpc::StatusCode::UNAVAILABLE);

  blocker.Query("COMMIT");
  for (int i = 0; i < kCalls; ++i) {
    void* tag = nullptr;
    bool ok = false;
    REQUIRE(cq.Next(&tag, &ok));
    const auto* call = static_cast<AsyncUpdate*>(tag);
    INFO(call->status.error_message());
    CHECK(call->status.ok());
    CHECK(call->response.user().first_name() == "Drained");
  }
  INFO(server.Log());
  CHECK(server.WaitForExit(10) == 0);
}

TEST_CASE("a second signal during the drain exits at once, without waiting for calls") {
  ServerProcess server;
  auto stub = server.stub();
  grpc::CompletionQueue cq;
  constexpr int kCalls = 40;
  auto calls = StartCreates(*stub, cq, kCalls);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  server.Signal(SIGTERM);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  server.Signal(SIGTERM);
  CHECK(server.WaitForExit(3) == 1);
  CHECK(CountOk(cq, kCalls) < kCalls);
}

}  // namespace
}  // namespace usersvc::test
