// Database faults and overload: the service tells callers the truth fast, recovers by itself,
// and loses no write it acknowledged.
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "grpc/health/v1/health.grpc.pb.h"
#include "test/support/fixtures.h"
#include "test/support/health_watch.h"
#include "test/support/private_cluster.h"

namespace usersvc::test {
namespace {

using Clock = std::chrono::steady_clock;
using grpc::health::v1::HealthCheckResponse;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

HealthCheckResponse::ServingStatus Health(const ServerProcess& server) {
  auto stub = grpc::health::v1::Health::NewStub(server.channel());
  HealthCheckResponse response;
  if (!stub->Check(ContextWithDeadline(1).get(), {}, &response).ok()) {
    return HealthCheckResponse::UNKNOWN;
  }
  return response.status();
}

/// Polls `condition` every 20 ms for up to `seconds`; the seconds it took, or -1.
template <typename Condition>
double SecondsUntil(double seconds, Condition condition) {
  const auto start = Clock::now();
  while (SecondsSince(start) < seconds) {
    if (condition()) return SecondsSince(start);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return -1;
}

TEST_CASE(
    "With PostgreSQL down at start the service starts NOT_SERVING and serves once it "
    "appears") {
  PrivateCluster cluster;
  ServerProcess::Options options;
  options.database_url = cluster.url();
  options.wait_until_serving = false;
  ServerProcess server(options);
  CHECK(SecondsUntil(10, [&] { return Health(server) == HealthCheckResponse::NOT_SERVING; }) >= 0);
  // A watcher (gRPC's client-side health checking) is told of the change without asking again.
  HealthWatch watch(server, "user.v1.UserService");
  CHECK(watch.Next() == HealthCheckResponse::NOT_SERVING);

  cluster.Start();
  const double serving_after =
      SecondsUntil(15, [&] { return Health(server) == HealthCheckResponse::SERVING; });
  fmt::print(stderr, "figure: SERVING {:.2f} s after PostgreSQL came up\n", serving_after);
  CHECK(serving_after >= 0);
  CHECK(watch.Next() == HealthCheckResponse::SERVING);
  auto stub = server.stub();
  TestUser who = CreateTestUser(*stub);
  CHECK(who.user.version() == 1);
}

TEST_CASE(
    "PostgreSQL restarted under load: fast UNAVAILABLE, NOT_SERVING, recovery, no lost "
    "write") {
  PrivateCluster cluster;
  cluster.Start();
  ServerProcess::Options options;
  options.database_url = cluster.url();
  ServerProcess server(options);

  // Four clients create users without pause; every OK answer is a write that must survive.
  std::atomic<bool> stop{false};
  std::mutex mutex;
  std::vector<std::string> acknowledged;
  std::atomic<int64_t> last_unavailable_ns{0};
  std::atomic<int64_t> last_ok_ns{0};
  std::atomic<double> slowest_failure{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&, c] {
      auto stub = server.stub();
      for (int i = 0; !stop; ++i) {
        const std::string suffix = fmt::format("{}_{}_{}", UniqueSuffix().substr(0, 8), c, i);
        user::v1::CreateUserRequest request;
        request.set_email("fault." + suffix + "@example.com");
        request.set_username("f_" + suffix);
        request.set_password("fault password");
        user::v1::CreateUserResponse response;
        const auto sent = Clock::now();
        grpc::Status status = stub->CreateUser(ContextWithDeadline(5).get(), request, &response);
        const int64_t now = Clock::now().time_since_epoch().count();
        if (status.ok()) {
          std::lock_guard lock(mutex);
          acknowledged.push_back(response.user().id());
          last_ok_ns = now;
        } else {
          if (status.error_code() == grpc::StatusCode::UNAVAILABLE) last_unavailable_ns = now;
          slowest_failure = std::max(slowest_failure.load(), SecondsSince(sent));
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(1));
  cluster.Stop();
  const auto stopped = Clock::now();
  const double unavailable_after = SecondsUntil(
      5, [&] { return last_unavailable_ns.load() > stopped.time_since_epoch().count(); });
  const double not_serving_after =
      SecondsUntil(5, [&] { return Health(server) == HealthCheckResponse::NOT_SERVING; });
  std::this_thread::sleep_for(std::chrono::seconds(1));
  cluster.Start();
  const auto started = Clock::now();
  const double recovered_after =
      SecondsUntil(10, [&] { return last_ok_ns.load() > started.time_since_epoch().count(); });
  stop = true;
  for (auto& client : clients) client.join();

  fmt::print(stderr,
             "figure: UNAVAILABLE {:.2f} s after the stop, NOT_SERVING after {:.2f} s, slowest "
             "failed call {:.2f} s; serving again {:.2f} s after PostgreSQL came back; {} writes "
             "acknowledged\n",
             unavailable_after, not_serving_after, slowest_failure.load(), recovered_after,
             acknowledged.size());
  CHECK(unavailable_after >= 0);
  CHECK(unavailable_after < 1.0);
  CHECK(slowest_failure.load() < 1.0);  // failures come fast, not at the 5 s deadline
  // The pool's last connection going is reported at once, not at the next probe.
  CHECK(not_serving_after >= 0);
  CHECK(not_serving_after < 0.5);
  CHECK(recovered_after >= 0);
  CHECK(recovered_after < 5.0);
  // SERVING again once a connection is back and a probe answered.
  CHECK(SecondsUntil(5, [&] { return Health(server) == HealthCheckResponse::SERVING; }) >= 0);

  // Every acknowledged CreateUser is there, with its outbox row.
  auto stub = server.stub();
  for (const std::string& id : acknowledged) {
    user::v1::GetUserRequest request;
    request.set_user_id(id);
    user::v1::GetUserResponse response;
    INFO(id);
    CHECK(Call(*stub, &Stub::GetUser, request, &response).ok());
  }
}

TEST_CASE("Overload: with a small query queue a burst is shed at once and the rest succeed") {
  ServerProcess::Options options;
  options.args = {"--max_pending_queries=2", "--db_connections=1"};
  ServerProcess server(options);
  auto stub = server.stub();
  // Health is asked throughout: the probe's query is never shed with the load, so a loaded
  // replica stays in its balancer's rotation.
  std::atomic<bool> bursting{true};
  std::atomic<int> not_serving{0};
  std::thread health_checks([&] {
    while (bursting) {
      // (A check that itself times out on a loaded machine is not the service saying no.)
      if (Health(server) == HealthCheckResponse::NOT_SERVING) ++not_serving;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  std::vector<user::v1::ListUsersRequest> burst(300);
  const auto started = Clock::now();
  std::vector<grpc::Status> statuses;
  for (int round = 0; round < 3; ++round) {  // a few seconds of it, across several probes
    auto answered = CallConcurrently(*stub, &Stub::AsyncListUsers, burst);
    statuses.insert(statuses.end(), answered.begin(), answered.end());
  }
  const double burst_seconds = SecondsSince(started);
  bursting = false;
  health_checks.join();
  int ok = 0;
  int shed = 0;
  for (const grpc::Status& status : statuses) {
    ok += status.ok();
    shed += status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED;
  }
  fmt::print(stderr,
             "figure: 3 bursts of 300 ListUsers with --max_pending_queries=2: {} OK, {} shed "
             "({:.0f}%), in {:.2f} s\n",
             ok, shed, 100.0 * shed / 900, burst_seconds);
  CHECK(ok + shed == 900);  // nothing else: no timeouts, no internal errors
  CHECK(not_serving == 0);
  CHECK(ok > 0);
  CHECK(shed > 0);
  // Recovered once the burst is over.
  user::v1::ListUsersResponse response;
  CHECK(Call(*stub, &Stub::ListUsers, user::v1::ListUsersRequest(), &response).ok());
}

}  // namespace
}  // namespace usersvc::test
