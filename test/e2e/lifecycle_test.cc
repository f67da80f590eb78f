// The server's shape under load and at shutdown: fixed threads, complete drains.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
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

/// The server's threads, told apart by the names the service gives its own
/// (storage/thread_name.h).
struct ThreadCensus {
  int cq = 0;
  int db = 0;
  int cpu = 0;
  /// The rest but the main thread: gRPC's own (timers, executors, the event engine), and under
  /// ThreadSanitizer its runtime's background thread.
  int library = 0;
  /// gRPC's threads that poll for a callback-API or sync service: none should run, so that only
  /// our completion-queue threads read the sockets.
  int pollers = 0;
  std::string names;
};

ThreadCensus TakeCensus(const ServerProcess& server) {
  ThreadCensus census;
  for (const auto& [name, count] : server.ThreadsByName()) {
    census.names += name + " x" + std::to_string(count) + ", ";
    if (name == "usersvc") {  // the main thread, and any that kept the program's name
      census.library += count - 1;
    } else if (name.starts_with("cq-")) {
      census.cq += count;
    } else if (name.starts_with("db-")) {
      census.db += count;
    } else if (name.starts_with("cpu-")) {
      census.cpu += count;
    } else if (name == "nexting_thread" || name.starts_with("grpcpp_sync")) {
      census.pollers += count;
    } else {
      census.library += count;
    }
  }
  return census;
}

/// Sends `count` GetUser calls at once on one channel and waits for every answer; the number OK.
/// While they are in flight it calls `sample` every 50 answers.
template <typename Sample>
int ConcurrentGets(const ServerProcess& server, const std::string& user_id, int count,
                   Sample sample) {
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
    if (done % 50 == 0) sample();
    void* tag = nullptr;
    bool ok = false;
    REQUIRE(cq.Next(&tag, &ok));
    auto* call = static_cast<AsyncGet*>(tag);
    if (ok && call->status.ok() && call->response.user().id() == user_id) ++ok_count;
  }
  return ok_count;
}

// gRPC starts some threads of its own lazily (timers, executors), each pool bounded by a small
// multiple of the cores whatever the load; a thread per call would pass this at once.
constexpr int kMaxLibraryThreads = 24;

TEST_CASE("1,000 and then 10,000 concurrent GetUser calls all succeed on the same fixed threads") {
  ServerProcess::Options options;
  options.args = {"--cq_threads=2"};
  ServerProcess server(options);
  auto stub = server.stub();
  const std::string user_id = CreateTestUser(*stub).user.id();

  for (const int calls : {1'000, 10'000}) {
    INFO(calls << " concurrent calls");
    int max_library = 0;
    std::string unexpected;  // the first census whose threads of ours were not the fixed set
    auto sample = [&] {
      const ThreadCensus census = TakeCensus(server);
      // Exactly the service's own: one per completion queue, two database threads (the
      // primary's pool and the event feed's; no replica configured), one argon2id thread per
      // completion queue; and no gRPC poller.
      if (unexpected.empty() &&
          (census.cq != 2 || census.db != 2 || census.cpu != 2 || census.pollers != 0)) {
        unexpected = census.names;
      }
      max_library = std::max(max_library, census.library);
    };
    CHECK(ConcurrentGets(server, user_id, calls, sample) == calls);
    sample();
    CHECK(unexpected == "");
    CHECK(max_library <= kMaxLibraryThreads);
  }
}

/// The nice value of each of the server's threads, by thread name (field 19 of
/// /proc/PID/task/TID/stat, counted after the name's closing parenthesis).
std::multimap<std::string, int> NiceByThreadName(const ServerProcess& server) {
  std::multimap<std::string, int> nice;
  const std::filesystem::path tasks = "/proc/" + std::to_string(server.pid()) + "/task";
  for (const auto& task : std::filesystem::directory_iterator(tasks)) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    std::getline(comm, name);
    std::ifstream stat_file(task.path() / "stat");
    std::stringstream stat;
    stat << stat_file.rdbuf();
    const size_t name_end = stat.str().rfind(')');
    if (name.empty() || name_end == std::string::npos) continue;  // the thread ended meanwhile
    std::istringstream fields(stat.str().substr(name_end + 1));
    std::string field;
    int i = 2;
    while (i < 19 && fields >> field) ++i;
    if (i == 19) nice.emplace(name, std::stoi(field));
  }
  return nice;
}

TEST_CASE("password hashing runs --cpu_pool_nice below the process's priority, the rest at it") {
  ServerProcess::Options options;
  options.args = {"--cq_threads=2", "--cpu_pool_nice=7"};
  ServerProcess server(options);
  auto stub = server.stub();
  const TestUser who = CreateTestUser(*stub);  // hashes once: every thread of ours has started
  // Answered from the hashing threads themselves (the check fails there): whatever gRPC does to
  // answer, and any thread it starts for that, must not stay at their priority.
  for (int i = 0; i < 20; ++i) {
    CHECK(ChangePassword(*stub, who.user.id(), "not the password at all", "a-new-password-12")
              .error_code() == grpc::StatusCode::UNAUTHENTICATED);
  }
  const std::multimap<std::string, int> nice_by_name = NiceByThreadName(server);
  REQUIRE(nice_by_name.count("usersvc") >= 1);  // the main thread
  const int own = nice_by_name.find("usersvc")->second;
  int hashing_threads = 0;
  for (const auto& [name, nice] : nice_by_name) {
    INFO("thread " << name);
    if (name.starts_with("cpu-")) {
      ++hashing_threads;
      CHECK(nice == std::min(19, own + 7));
    } else {
      CHECK(nice == own);  // the call, database and event threads are never held behind hashing
    }
  }
  CHECK(hashing_threads == 2);
}

struct AsyncUpdate {
  grpc::ClientContext context;
  user::v1::UpdateUserResponse response;
  grpc::Status status;
  std::unique_ptr<grpc::ClientAsyncResponseReader<user::v1::UpdateUserResponse>> reader;
};

/// Starts an UpdateUser of the first name of `user_id` on `cq`, with a 30 s deadline.
void StartUpdate(user::v1::UserService::Stub& stub, grpc::CompletionQueue& cq,
                 const std::string& user_id, const std::string& first_name, AsyncUpdate* call) {
  user::v1::UpdateUserRequest request;
  request.set_user_id(user_id);
  request.mutable_user()->set_first_name(first_name);
  request.mutable_update_mask()->add_paths("first_name");
  call->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  call->reader = stub.AsyncUpdateUser(&call->context, request, &cq);
  call->reader->Finish(&call->response, &call->status, call);
}

/// True once some backend waits on a lock held by the backend `holder_pid` (polled for 5 s).
bool SomeoneWaitsOn(const std::string& holder_pid) {
  BlockingDb observer;
  for (int i = 0; i < 250; ++i) {
    if (observer.CountBlockedBy(holder_pid) > 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

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
    calls.push_back(std::make_unique<AsyncUpdate>());
    StartUpdate(*stub, cq, id, "Drained", calls.back().get());
  }
  REQUIRE(SomeoneWaitsOn(blocker_pid));
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
  const std::string user_id = CreateTestUser(*stub).user.id();

  // The test holds the user's row lock, so the call stays in flight until the process is gone.
  BlockingDb blocker;
  blocker.Query("BEGIN");
  blocker.Query("SELECT 1 FROM users WHERE id = $1 FOR UPDATE", {user_id});
  const std::string blocker_pid = blocker.Scalar("SELECT pg_backend_pid()");
  grpc::CompletionQueue cq;
  AsyncUpdate call;
  StartUpdate(*stub, cq, user_id, "Interrupted", &call);
  REQUIRE(SomeoneWaitsOn(blocker_pid));

  server.Signal(SIGTERM);
  // Two signals sent before the first is taken would arrive as one: wait until the drain began.
  bool draining = false;
  for (int i = 0; i < 500 && !draining; ++i) {
    draining = server.Log().find("\"msg\":\"draining\"") != std::string::npos;
    if (!draining) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  REQUIRE(draining);
  server.Signal(SIGTERM);
  CHECK(server.WaitForExit(3) == 1);

  void* tag = nullptr;
  bool ok = false;
  REQUIRE(cq.Next(&tag, &ok));
  CHECK(call.status.error_code() == grpc::StatusCode::UNAVAILABLE);
  blocker.Query("ROLLBACK");
}

TEST_CASE("a process stopped and continued (SIGSTOP, SIGCONT) keeps serving") {
  ServerProcess server;
  server.Signal(SIGSTOP);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  server.Signal(SIGCONT);
  // The continue interrupts the main thread's wait for a shutdown signal; that is no signal.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  user::v1::HealthCheckResponse response;
  CHECK(server.stub()->HealthCheck(ContextWithDeadline().get(), {}, &response).ok());
  CHECK(server.Log().find("shutting down") == std::string::npos);
}

TEST_CASE("SIGTERM with the password-hashing queue full answers every call and exits 0") {
  ServerProcess::Options options;
  options.args = {"--drain_seconds=0"};  // what is queued at the signal is abandoned at once
  ServerProcess server(options);
  auto stub = server.stub();
  const TestUser who = CreateTestUser(*stub);
  // Each call checks the current password with argon2id on the CPU pool: a few hundred of them
  // fill its bounded queue (32 per thread) and the rest are shed at once.
  std::vector<user::v1::ChangePasswordRequest> requests(300);
  for (auto& request : requests) {
    request.set_user_id(who.user.id());
    request.set_current_password(who.password);
    request.set_new_password("a new password " + UniqueSuffix());
  }
  std::thread signal([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    server.Signal(SIGTERM);
  });
  const auto statuses = CallConcurrently(*stub, &Stub::AsyncChangePassword, requests);
  signal.join();
  int shut_down = 0, shed = 0;
  for (const grpc::Status& status : statuses) {
    // Answered, one way or another: done, refused as not the current password any more (or
    // changed by a racing call meanwhile), shed by the full queue, stopped by the shutdown, or,
    // for a change whose statement was at the database when the shutdown (no drain) closed the
    // pool, UNKNOWN (README, "Unknown outcomes").
    INFO(status.error_code() << " " << status.error_message());
    CHECK((status.ok() || status.error_code() == grpc::StatusCode::UNAUTHENTICATED ||
           status.error_code() == grpc::StatusCode::ABORTED ||
           status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED ||
           status.error_code() == grpc::StatusCode::UNAVAILABLE ||
           status.error_code() == grpc::StatusCode::UNKNOWN));
    shut_down += status.error_code() == grpc::StatusCode::UNAVAILABLE;
    shed += status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED;
  }
  CHECK(shut_down > 0);
  CHECK(shed > 0);
  INFO(server.Log());
  CHECK(server.WaitForExit(15) == 0);
}

}  // namespace
}  // namespace usersvc::test
