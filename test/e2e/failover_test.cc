// A database failover under write load: the primary crashes, its synchronous replica is promoted,
// and the service, given both hosts, finds the new primary by itself and loses no write it
// acknowledged.
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "test/support/fixtures.h"
#include "test/support/private_cluster.h"

namespace usersvc::test {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string Psql(const PrivateCluster& cluster, const std::string& sql) {
  const std::string command = fmt::format("psql '{}' -tAc \"{}\" 2>/dev/null", cluster.url(), sql);
  FILE* pipe = popen(command.c_str(), "r");
  std::string output;
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
  pclose(pipe);
  while (!output.empty() && output.back() == '\n') output.pop_back();
  return output;
}

TEST_CASE("After the primary crashes and its replica is promoted, writes resume, none lost") {
  PrivateCluster primary;
  primary.ListenOnTcp();
  primary.SetOptions("-c synchronous_commit=on");  // the throwaway clusters' default is off
  primary.Start();
  PrivateCluster replica;
  replica.ListenOnTcp();
  replica.StartAsReplicaOf(primary);
  // Synchronous replication from now on (not before: with no standby yet, every commit would
  // wait): a commit is acknowledged only once the replica has it.
  Psql(primary, "ALTER SYSTEM SET synchronous_standby_names = '*'");
  Psql(primary, "SELECT pg_reload_conf()");
  bool synchronous = false;
  for (int i = 0; i < 100 && !synchronous; ++i) {
    synchronous =
        Psql(primary, "SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'") == "1";
    if (!synchronous) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  REQUIRE(synchronous);

  ServerProcess::Options options;
  options.database_url = fmt::format(
      "host=127.0.0.1,127.0.0.1 port={},{} dbname=usersvc user=usersvc "
      "target_session_attrs=read-write",
      primary.tcp_port(), replica.tcp_port());
  options.args = {"--db_connections=2"};
  ServerProcess server(options);

  std::atomic<bool> stop{false};
  std::mutex mutex;
  std::vector<std::string> acknowledged;
  std::atomic<int64_t> last_ok_ns{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < 2; ++w) {
    writers.emplace_back([&, w] {
      auto stub = server.stub();
      for (int i = 0; !stop; ++i) {
        const std::string suffix = fmt::format("{}_{}_{}", UniqueSuffix().substr(0, 8), w, i);
        user::v1::CreateUserRequest request;
        request.set_email("failover." + suffix + "@example.com");
        request.set_username("fo_" + suffix);
        request.set_password("failover password");
        user::v1::CreateUserResponse response;
        if (stub->CreateUser(ContextWithDeadline(5).get(), request, &response).ok()) {
          std::lock_guard lock(mutex);
          acknowledged.push_back(response.user().id());
          last_ok_ns = Clock::now().time_since_epoch().count();
        } else {
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(1));
  primary.Kill();
  replica.Promote();
  const auto promoted = Clock::now();
  double writes_after = -1;
  while (SecondsSince(promoted) < 15 && writes_after < 0) {
    if (last_ok_ns.load() > promoted.time_since_epoch().count())
      writes_after = SecondsSince(promoted);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  stop = true;
  for (auto& writer : writers) writer.join();

  fmt::print(stderr, "figure: writes succeed again {:.2f} s after the promotion; {} acknowledged\n",
             writes_after, acknowledged.size());
  CHECK(writes_after >= 0);
  CHECK(writes_after < 5);
  // Every write the service acknowledged, before or after, is on the new primary.
  std::string ids;
  for (const std::string& id : acknowledged) ids += (ids.empty() ? "'" : ",'") + id + "'";
  REQUIRE_FALSE(ids.empty());
  CHECK(Psql(replica, "SELECT count(*) FROM users WHERE id IN (" + ids + ")") ==
        std::to_string(acknowledged.size()));
}

}  // namespace
}  // namespace usersvc::test
