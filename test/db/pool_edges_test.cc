// The pool over TCP, at its edges: several hosts, a host that never answers, host names looked up
// off the pool's thread, a link that goes silent, a statement stuck on a lock, TLS to PostgreSQL.
#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include <absl/time/clock.h>
#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "storage/pool.h"
#include "test/support/certificates.h"
#include "test/support/private_cluster.h"
#include "test/support/server_process.h"
#include "test/support/tcp_proxy.h"
#include "test/support/test_database.h"

namespace usersvc::storage {
namespace {

using test::TestDatabaseTcpPort;
using test::TestDatabaseTcpUrl;

const Statement kEcho{"echo", "SELECT $1::int", /*read_only=*/true};
// Waits while the test holds the advisory lock `$1` (released with the statement's transaction).
const Statement kLockWait{"lock_wait", "SELECT pg_advisory_xact_lock($1::bigint), 1",
                          /*read_only=*/true};
// A result large enough to span many TLS records.
const Statement kWide{"wide", "SELECT $1::int, repeat('x', 20000)", /*read_only=*/true};
const Statement kOverTls{"over_tls", "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                         /*read_only=*/true};

PoolOptions Options(const std::string& conninfo, int connections) {
  PoolOptions options;
  options.conninfo = conninfo;
  options.connections = connections;
  options.application_name = "usersvc-test-" + test::UniqueSuffix();
  options.statements = {kEcho, kLockWait, kWide, kOverTls};
  options.connect_timeout = absl::Milliseconds(500);
  return options;
}

absl::Time In(absl::Duration duration) { return absl::Now() + duration; }

std::future<Result> ExecuteAsync(Pool& pool, const Statement& statement, Params params,
                                 absl::Time deadline = In(absl::Seconds(10))) {
  auto promise = std::make_shared<std::promise<Result>>();
  auto future = promise->get_future();
  pool.Execute(statement, std::move(params), deadline,
               [promise](Result result) { promise->set_value(std::move(result)); });
  return future;
}

/// Seconds until `condition` holds (polled every 10 ms), or -1 after `seconds`.
template <typename Condition>
double SecondsUntil(double seconds, Condition condition) {
  const absl::Time start = absl::Now();
  while (absl::Now() - start < absl::Seconds(seconds)) {
    if (condition()) return absl::ToDoubleSeconds(absl::Now() - start);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return -1;
}

bool EchoWorks(Pool& pool) {
  auto result = ExecuteAsync(pool, kEcho, {"7"}, In(absl::Seconds(2)));
  if (result.wait_for(std::chrono::seconds(3)) != std::future_status::ready) return false;
  Result answered = result.get();
  return answered.ok() && answered.Int64(0, 0) == 7;
}

TEST_CASE("with several hosts, a first host that refuses costs nothing: the next serves at once") {
  const int closed = test::FreePort();  // nothing listens there
  Pool pool(Options(TestDatabaseTcpUrl("127.0.0.1,127.0.0.1",
                                       fmt::format("{},{}", closed, TestDatabaseTcpPort())),
                    2));
  pool.Start();
  const double ready_after = SecondsUntil(5, [&] { return pool.ready_connections() == 2; });
  fmt::print(stderr, "figure: both connections ready {:.3f} s after start, first host refused\n",
             ready_after);
  CHECK(ready_after >= 0);
  CHECK(ready_after < 1);
  CHECK(EchoWorks(pool));
}

TEST_CASE("a first host that accepts but never answers costs one connect timeout, then the next") {
  test::TcpProxy black_hole(TestDatabaseTcpPort());
  black_hole.GoSilent();
  Pool pool(
      Options(TestDatabaseTcpUrl("127.0.0.1,127.0.0.1",
                                 fmt::format("{},{}", black_hole.port(), TestDatabaseTcpPort())),
              2));
  pool.Start();
  const double ready_after = SecondsUntil(10, [&] { return pool.ready_connections() == 2; });
  fmt::print(stderr,
             "figure: ready {:.3f} s after start with a silent first host (0.5 s timeout)\n",
             ready_after);
  CHECK(ready_after >= 0.5);
  CHECK(ready_after < 1.5);
  CHECK(EchoWorks(pool));
}

TEST_CASE("a link that goes silent fails its queries within 2 s, new ones at once, and recovers") {
  test::TcpProxy link(TestDatabaseTcpPort());
  Pool pool(Options(TestDatabaseTcpUrl("127.0.0.1", std::to_string(link.port())), 2));
  pool.Start();
  REQUIRE(SecondsUntil(5, [&] { return pool.ready_connections() == 2; }) >= 0);
  REQUIRE(EchoWorks(pool));

  link.GoSilent();
  const absl::Time silent_since = absl::Now();
  // A query sent into the silence, with a deadline far away: the pool, not the deadline, ends it.
  auto lost = ExecuteAsync(pool, kEcho, {"1"}, In(absl::Seconds(30)));
  REQUIRE(lost.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
  const double failed_after = absl::ToDoubleSeconds(absl::Now() - silent_since);
  fmt::print(stderr, "figure: a query on a silent link failed {:.2f} s after the silence\n",
             failed_after);
  CHECK(lost.get().status().code() == absl::StatusCode::kUnavailable);
  CHECK(failed_after < 2);

  // Every connection is found out; from then on calls are refused at once, not queued.
  CHECK(SecondsUntil(2, [&] { return pool.ready_connections() == 0; }) >= 0);
  const absl::Time asked = absl::Now();
  auto refused = ExecuteAsync(pool, kEcho, {"2"}, In(absl::Seconds(30)));
  REQUIRE(refused.wait_for(std::chrono::seconds(1)) == std::future_status::ready);
  CHECK(refused.get().status().code() == absl::StatusCode::kUnavailable);
  CHECK(absl::Now() - asked < absl::Milliseconds(100));

  link.Resume();
  const double recovered_after = SecondsUntil(10, [&] { return EchoWorks(pool); });
  fmt::print(stderr, "figure: serving again {:.2f} s after the link came back\n", recovered_after);
  CHECK(recovered_after >= 0);
}

TEST_CASE("a statement stuck on a lock holds up none of the queries sent after it") {
  Pool pool(Options(test::TestDatabaseUrl(), 2));
  pool.Start();
  REQUIRE(SecondsUntil(5, [&] { return pool.ready_connections() == 2; }) >= 0);
  test::BlockingDb holder;
  holder.Query("SELECT pg_advisory_lock(424242)");
  const std::string holder_pid = holder.Scalar("SELECT pg_backend_pid()");
  auto stuck = ExecuteAsync(pool, kLockWait, {"424242"}, In(absl::Seconds(20)));
  test::BlockingDb observer;
  REQUIRE(SecondsUntil(5, [&] { return observer.CountBlockedBy(holder_pid) > 0; }) >= 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));

  // Short deadlines: a query pipelined behind the stuck one would miss its own.
  std::vector<std::future<Result>> behind;
  for (int i = 0; i < 200; ++i) {
    behind.push_back(ExecuteAsync(pool, kEcho, {std::to_string(i)}, In(absl::Seconds(1))));
  }
  int answered = 0;
  for (int i = 0; i < 200; ++i) {
    REQUIRE(behind[i].wait_for(std::chrono::seconds(3)) == std::future_status::ready);
    Result result = behind[i].get();
    if (result.ok() && result.Int64(0, 0) == i) ++answered;
  }
  CHECK(answered == 200);
  CHECK(stuck.wait_for(std::chrono::milliseconds(0)) == std::future_status::timeout);
  holder.Query("SELECT pg_advisory_unlock(424242)");
  REQUIRE(stuck.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
  CHECK(stuck.get().ok());
}

TEST_CASE("when the connections that move are full, queries wait in the queue, not behind a lock") {
  PoolOptions options = Options(test::TestDatabaseUrl(), 2);
  options.max_in_flight_per_connection = 2;  // the moving connection fills at once
  Pool pool(std::move(options));
  pool.Start();
  REQUIRE(SecondsUntil(5, [&] { return pool.ready_connections() == 2; }) >= 0);
  test::BlockingDb holder;
  holder.Query("SELECT pg_advisory_lock(424243)");
  const std::string holder_pid = holder.Scalar("SELECT pg_backend_pid()");
  auto stuck = ExecuteAsync(pool, kLockWait, {"424243"}, In(absl::Seconds(20)));
  test::BlockingDb observer;
  REQUIRE(SecondsUntil(5, [&] { return observer.CountBlockedBy(holder_pid) > 0; }) >= 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));

  // The stuck connection still has room for one: none of these may take it.
  std::vector<std::future<Result>> behind;
  for (int i = 0; i < 50; ++i) {
    behind.push_back(ExecuteAsync(pool, kEcho, {std::to_string(i)}, In(absl::Seconds(2))));
  }
  int answered = 0;
  for (int i = 0; i < 50; ++i) {
    REQUIRE(behind[i].wait_for(std::chrono::seconds(5)) == std::future_status::ready);
    if (behind[i].get().ok()) ++answered;
  }
  CHECK(answered == 50);
  holder.Query("SELECT pg_advisory_unlock(424243)");
  REQUIRE(stuck.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
  CHECK(stuck.get().ok());
}

TEST_CASE("a slow host name lookup holds up only its own connections, never the pool's thread") {
  // The lookup stands in for a DNS server that takes 1.5 s; the other host is an address. Of the
  // four connections, two go to each host.
  std::atomic<int> lookups{0};
  PoolOptions options = Options(
      TestDatabaseTcpUrl("127.0.0.1,slow.usersvc.test", std::to_string(TestDatabaseTcpPort())), 4);
  options.connect_timeout = absl::Seconds(3);
  options.resolve = [&lookups](const std::string& host,
                               const std::string&) -> absl::StatusOr<std::vector<std::string>> {
    ++lookups;
    if (host != "slow.usersvc.test") return absl::UnavailableError("unknown host");
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    return std::vector<std::string>{"127.0.0.1"};
  };
  Pool pool(std::move(options));
  pool.Start();
  REQUIRE(SecondsUntil(1, [&] { return pool.ready_connections() == 2; }) >= 0);
  // While the lookup is under way, queries go through the connections to the address at once.
  const absl::Time sent = absl::Now();
  for (int i = 0; i < 20; ++i) CHECK(EchoWorks(pool));
  const double twenty_echoes = absl::ToDoubleSeconds(absl::Now() - sent);
  CHECK(pool.ready_connections() == 2);  // the name is still being looked up
  CHECK(twenty_echoes < 1.0);
  const double ready_after = SecondsUntil(5, [&] { return pool.ready_connections() == 4; });
  fmt::print(stderr,
             "figure: 20 queries in {:.3f} s during a 1.5 s lookup; its connection ready {:.2f} s "
             "later\n",
             twenty_echoes, ready_after);
  CHECK(ready_after >= 0);
  CHECK(lookups.load() == 1);  // the two connections to the name shared one lookup
}

TEST_CASE("a host name's addresses are tried in turn: one that refuses costs nothing") {
  PoolOptions options =
      Options(TestDatabaseTcpUrl("db.usersvc.test", std::to_string(TestDatabaseTcpPort())), 2);
  options.resolve = [](const std::string&,
                       const std::string&) -> absl::StatusOr<std::vector<std::string>> {
    return std::vector<std::string>{"127.0.0.2", "127.0.0.1"};  // nothing listens on .2
  };
  Pool pool(std::move(options));
  pool.Start();
  const double ready_after = SecondsUntil(5, [&] { return pool.ready_connections() == 2; });
  fmt::print(stderr, "figure: ready {:.3f} s after start, the name's first address refused\n",
             ready_after);
  CHECK(ready_after >= 0);
  CHECK(ready_after < 1);
  CHECK(EchoWorks(pool));
}

TEST_CASE("a name that does not resolve is skipped for the next host, and localhost resolves") {
  // The unresolvable name fails at once (a real DNS server might take its time to say so);
  // localhost goes through getaddrinfo.
  PoolOptions options = Options(
      TestDatabaseTcpUrl("no-such-host.invalid,localhost", std::to_string(TestDatabaseTcpPort())),
      2);
  options.resolve = [](const std::string& host,
                       const std::string& port) -> absl::StatusOr<std::vector<std::string>> {
    if (host == "no-such-host.invalid") return absl::UnavailableError("no such host");
    return ResolveHost(host, port);
  };
  Pool pool(std::move(options));
  pool.Start();
  const double ready_after = SecondsUntil(5, [&] { return pool.ready_connections() == 2; });
  CHECK(ready_after >= 0);
  CHECK(ready_after < 1);
  CHECK(EchoWorks(pool));
}

TEST_CASE("over TLS (sslmode=verify-full) wide results pipelined by the hundred all arrive") {
  test::Certificates certificates;
  test::PrivateCluster cluster;
  cluster.ListenOnTcp(certificates.dir());
  cluster.Start();
  Pool pool(Options(fmt::format("host=localhost hostaddr=127.0.0.1 port={} dbname=usersvc "
                                "user=usersvc sslmode=verify-full sslrootcert={}",
                                cluster.tcp_port(), certificates.Path("ca.crt")),
                    2));
  pool.Start();
  REQUIRE(SecondsUntil(10, [&] { return pool.ready_connections() == 2; }) >= 0);
  auto tls = ExecuteAsync(pool, kOverTls, {});
  REQUIRE(tls.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
  Result over_tls = tls.get();
  REQUIRE(over_tls.ok());
  CHECK(over_tls.Bool(0, 0));

  // Each answer is 20 kB, more than one TLS record: bytes that libpq leaves inside OpenSSL are
  // never reported by the socket again, and a pool that waited for epoll would stall here.
  constexpr int kQueries = 500;
  std::vector<std::future<Result>> results;
  for (int i = 0; i < kQueries; ++i)
    results.push_back(ExecuteAsync(pool, kWide, {std::to_string(i)}));
  int complete = 0;
  for (int i = 0; i < kQueries; ++i) {
    REQUIRE(results[i].wait_for(std::chrono::seconds(20)) == std::future_status::ready);
    Result result = results[i].get();
    if (result.ok() && result.Int64(0, 0) == i && result.Text(0, 1).size() == 20000) ++complete;
  }
  CHECK(complete == kQueries);
}

TEST_CASE("a host name looked up by the pool still has its certificate checked against the name") {
  test::Certificates certificates;  // the server's certificate names localhost and 127.0.0.1
  test::PrivateCluster cluster;
  cluster.ListenOnTcp(certificates.dir());
  cluster.Start();
  const std::string tls = fmt::format(
      "port={} dbname=usersvc user=usersvc sslmode=verify-full "
      "sslrootcert={}",
      cluster.tcp_port(), certificates.Path("ca.crt"));
  auto resolve_to_loopback = [](const std::string&,
                                const std::string&) -> absl::StatusOr<std::vector<std::string>> {
    return std::vector<std::string>{"127.0.0.1"};
  };

  // localhost, looked up to 127.0.0.1 by the pool and passed as hostaddr=, checked as localhost.
  PoolOptions named = Options("host=localhost " + tls, 1);
  named.resolve = resolve_to_loopback;
  Pool pool(std::move(named));
  pool.Start();
  REQUIRE(SecondsUntil(10, [&] { return pool.ready_connections() == 1; }) >= 0);
  auto over_tls = ExecuteAsync(pool, kOverTls, {});
  REQUIRE(over_tls.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
  Result answered = over_tls.get();
  REQUIRE(answered.ok());
  CHECK(answered.Bool(0, 0));

  // The same address under a name the certificate does not carry is refused: the name checked is
  // the one in the URL, not the address it was looked up to.
  PoolOptions wrong = Options("host=other.usersvc.test " + tls, 1);
  wrong.resolve = resolve_to_loopback;
  Pool refused(std::move(wrong));
  refused.Start();
  CHECK(SecondsUntil(2, [&] { return refused.ready_connections() > 0; }) < 0);
}

}  // namespace
}  // namespace usersvc::storage
