#include "storage/pool.h"

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <thread>

#include <absl/time/clock.h>
#include <catch2/catch.hpp>

#include "test/support/test_database.h"

namespace usersvc::storage {
namespace {

using test::TestDatabaseUrl;
using test::UniqueSuffix;

const Statement kEcho{"echo", "SELECT $1::int", /*read_only=*/true};
const Statement kDivide{"divide", "SELECT 100 / $1::int", /*read_only=*/true};
const Statement kSleep{"sleep", "SELECT pg_sleep($1::float8), 1", /*read_only=*/true};
// Not a change, but the pool cannot tell: declared as one, it is treated as one.
const Statement kSleepingChange{"sleeping_change", "SELECT pg_sleep($1::float8), 2"};
// Stands for a search: a read declared as one that may go through a whole table.
// Its third column is when PostgreSQL finished it (microseconds since the epoch).
const Statement kSleepingScan{
    "sleeping_scan",
    "SELECT pg_sleep($1::float8), 3, (extract(epoch FROM clock_timestamp()) * 1e6)::int8",
    /*read_only=*/true, /*scans=*/true};

PoolOptions TestPoolOptions(int connections) {
  PoolOptions options;
  options.conninfo = TestDatabaseUrl();
  options.connections = connections;
  options.application_name = "usersvc-test-" + UniqueSuffix();
  options.statements = {kEcho, kDivide, kSleep, kSleepingChange, kSleepingScan};
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

bool WaitReady(const Pool& pool, int connections) {
  for (int i = 0; i < 500 && pool.ready_connections() < connections; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pool.ready_connections() == connections;
}

TEST_CASE("hundreds of queries in flight over two connections all complete with their own rows") {
  Pool pool(TestPoolOptions(2));
  pool.Start();
  constexpr int kQueries = 600;
  std::vector<std::future<Result>> results;
  for (int i = 0; i < kQueries; ++i)
    results.push_back(ExecuteAsync(pool, kEcho, {std::to_string(i)}));
  for (int i = 0; i < kQueries; ++i) {
    REQUIRE(results[i].wait_for(std::chrono::seconds(20)) == std::future_status::ready);
    Result result = results[i].get();
    INFO(result.status().ToString());
    REQUIRE(result.ok());
    CHECK(result.Int64(0, 0) == i);
  }
  CHECK(pool.ready_connections() == 2);
}

TEST_CASE(
    "a statement outliving its deadline is cancelled by PostgreSQL, and the connection serves on") {
  Pool pool(TestPoolOptions(1));
  pool.Start();
  REQUIRE(WaitReady(pool, 1));
  const absl::Time start = absl::Now();
  auto blocked = ExecuteAsync(pool, kSleep, {"30"}, In(absl::Milliseconds(300)));
  auto behind = ExecuteAsync(pool, kEcho, {"7"}, In(absl::Seconds(10)));
  REQUIRE(blocked.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
  Result cancelled = blocked.get();
  const absl::Duration took = absl::Now() - start;
  CHECK(cancelled.status().code() == absl::StatusCode::kDeadlineExceeded);
  CHECK(cancelled.sqlstate() == "57014");
  CHECK(took >= absl::Milliseconds(300));
  CHECK(took < absl::Seconds(2));
  // The query pipelined behind it on the one connection runs as soon as it is cancelled.
  REQUIRE(behind.wait_for(std::chrono::seconds(2)) == std::future_status::ready);
  Result next = behind.get();
  REQUIRE(next.ok());
  CHECK(next.Int64(0, 0) == 7);
  CHECK(pool.ready_connections() == 1);
}

TEST_CASE("a statement with a longer deadline is not cut short by an earlier, shorter one") {
  Pool pool(TestPoolOptions(1));
  pool.Start();
  REQUIRE(WaitReady(pool, 1));
  REQUIRE(ExecuteAsync(pool, kEcho, {"1"}, In(absl::Milliseconds(200))).get().ok());
  Result slow = ExecuteAsync(pool, kSleep, {"0.6"}, In(absl::Seconds(10))).get();
  REQUIRE(slow.ok());
  CHECK(slow.Int64(0, 1) == 1);
}

TEST_CASE("an error in one pipelined query fails only that query") {
  Pool pool(TestPoolOptions(1));
  pool.Start();
  REQUIRE(WaitReady(pool, 1));
  auto before = ExecuteAsync(pool, kDivide, {"4"});
  auto failing = ExecuteAsync(pool, kDivide, {"0"});
  auto after = ExecuteAsync(pool, kDivide, {"5"});
  Result first = before.get();
  Result error = failing.get();
  Result last = after.get();
  REQUIRE(first.ok());
  CHECK(first.Int64(0, 0) == 25);
  CHECK(error.status().code() == absl::StatusCode::kInternal);
  CHECK(error.sqlstate() == "22012");
  CHECK(error.status().message() == "internal database error");
  REQUIRE(last.ok());
  CHECK(last.Int64(0, 0) == 20);
}

TEST_CASE(
    "a terminated backend fails its reads UNAVAILABLE, its changes UNKNOWN, and the pool "
    "reconnects") {
  PoolOptions options = TestPoolOptions(1);
  const std::string application = options.application_name;
  Pool pool(std::move(options));
  pool.Start();
  REQUIRE(WaitReady(pool, 1));
  auto sleeping = ExecuteAsync(pool, kSleep, {"30"}, In(absl::Seconds(60)));
  auto queued_behind = ExecuteAsync(pool, kEcho, {"1"}, In(absl::Seconds(60)));
  auto change_behind = ExecuteAsync(pool, kSleepingChange, {"0"}, In(absl::Seconds(60)));

  test::BlockingDb db;
  const std::string find_backend =
      "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query LIKE '%pg_sleep%'"
      " AND state = 'active'";
  std::string pid;
  for (int i = 0; i < 200 && pid.empty(); ++i) {
    auto rows = db.Query(find_backend, {application});
    if (!rows.empty()) pid = rows[0][0];
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  REQUIRE(!pid.empty());
  CHECK(db.Scalar("SELECT pg_terminate_backend($1::int)", {pid}) == "t");

  REQUIRE(sleeping.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
  CHECK(sleeping.get().status().code() == absl::StatusCode::kUnavailable);
  CHECK(queued_behind.get().status().code() == absl::StatusCode::kUnavailable);
  // The change had been sent: it may or may not have been applied, and its caller is told so.
  CHECK(change_behind.get().status().code() == absl::StatusCode::kUnknown);

  // Back by itself: a fresh connection serves again within a few seconds.
  bool recovered = false;
  for (int i = 0; i < 100 && !recovered; ++i) {
    recovered = ExecuteAsync(pool, kEcho, {"7"}).get().ok();
    if (!recovered) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(recovered);
}

TEST_CASE("a full queue refuses at once with RESOURCE_EXHAUSTED") {
  PoolOptions options = TestPoolOptions(1);
  options.max_pending = 5;
  options.max_in_flight_per_connection = 1;
  Pool pool(std::move(options));
  pool.Start();
  REQUIRE(WaitReady(pool, 1));
  auto blocker = ExecuteAsync(pool, kSleep, {"0.5"});
  for (int i = 0; i < 200 && pool.queued() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::vector<std::future<Result>> queued;
  for (int i = 0; i < 5; ++i) queued.push_back(ExecuteAsync(pool, kEcho, {std::to_string(i)}));
  REQUIRE(pool.queued() == 5);

  bool answered_inline = false;
  absl::StatusCode code = absl::StatusCode::kOk;
  pool.Execute(kEcho, {"99"}, In(absl::Seconds(10)), [&](Result result) {
    answered_inline = true;
    code = result.status().code();
  });
  CHECK(answered_inline);  // before Execute returned, not after the queue drained
  CHECK(code == absl::StatusCode::kResourceExhausted);

  CHECK(blocker.get().ok());
  for (auto& result : queued) CHECK(result.get().ok());
}

TEST_CASE("a query whose deadline passed before it was sent is dropped with DEADLINE_EXCEEDED") {
  PoolOptions options = TestPoolOptions(1);
  options.max_in_flight_per_connection = 1;
  Pool pool(std::move(options));
  pool.Start();
  REQUIRE(WaitReady(pool, 1));
  auto blocker = ExecuteAsync(pool, kSleep, {"2"});
  auto expired = ExecuteAsync(pool, kEcho, {"1"}, In(absl::Milliseconds(50)));
  Result dropped = expired.get();
  // Answered at its deadline, not when the connection it waited for came free.
  CHECK(blocker.wait_for(std::chrono::seconds(0)) == std::future_status::timeout);
  CHECK(dropped.status().code() == absl::StatusCode::kDeadlineExceeded);
  CHECK(dropped.sqlstate().empty());  // PostgreSQL never saw it
  CHECK(blocker.get().ok());
}

TEST_CASE("with the database unreachable, queries fail fast with UNAVAILABLE") {
  PoolOptions options = TestPoolOptions(2);
  options.conninfo = "postgresql://usersvc@/usersvc?host=/nonexistent-usersvc-socket-dir";
  Pool pool(std::move(options));
  pool.Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // first connection attempts fail
  const auto started = std::chrono::steady_clock::now();
  Result result = ExecuteAsync(pool, kEcho, {"1"}).get();
  CHECK(result.status().code() == absl::StatusCode::kUnavailable);
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::milliseconds(100));
}

TEST_CASE("stopping the pool answers every queued query") {
  PoolOptions options = TestPoolOptions(1);
  options.max_in_flight_per_connection = 1;
  Pool pool(std::move(options));
  pool.Start();
  REQUIRE(WaitReady(pool, 1));
  auto running = ExecuteAsync(pool, kSleep, {"0.2"});
  auto waiting = ExecuteAsync(pool, kEcho, {"1"});
  pool.Stop();
  CHECK(running.wait_for(std::chrono::seconds(1)) == std::future_status::ready);
  CHECK(waiting.get().status().code() == absl::StatusCode::kUnavailable);
  CHECK(ExecuteAsync(pool, kEcho, {"1"}).get().status().code() == absl::StatusCode::kUnavailable);
}

TEST_CASE("while a burst of scans holds the scan connections, lookups are answered at once") {
  PoolOptions options = TestPoolOptions(3);
  options.scan_connections = 1;
  Pool pool(std::move(options));
  pool.Start();
  REQUIRE(WaitReady(pool, 3));
  std::vector<std::future<Result>> scans;
  // The first holds the scan connection for long enough that a loaded machine answers the
  // lookups before it could have finished; the others queue behind it.
  for (int i = 0; i < 4; ++i) {
    scans.push_back(ExecuteAsync(pool, kSleepingScan, {i == 0 ? "2" : "0.1"}));
  }
  std::vector<std::future<Result>> lookups;
  for (int i = 0; i < 100; ++i) lookups.push_back(ExecuteAsync(pool, kEcho, {std::to_string(i)}));
  for (int i = 0; i < 100; ++i) {
    Result result = lookups[i].get();
    REQUIRE(result.ok());
    CHECK(result.Int64(0, 0) == i);
  }
  // Every lookup was answered before the first scan could have finished.
  CHECK(scans.front().wait_for(std::chrono::seconds(0)) == std::future_status::timeout);
  for (auto& scan : scans) {
    Result result = scan.get();
    REQUIRE(result.ok());
    CHECK(result.Int64(0, 1) == 3);
  }
}

TEST_CASE("scans run one at a time on each scan connection, in the order they came") {
  PoolOptions options = TestPoolOptions(3);
  options.scan_connections = 1;
  Pool pool(std::move(options));
  pool.Start();
  REQUIRE(WaitReady(pool, 3));
  std::vector<std::future<Result>> scans;
  for (int i = 0; i < 4; ++i) scans.push_back(ExecuteAsync(pool, kSleepingScan, {"0.2"}));
  // When PostgreSQL finished each (its clock, so the client's scheduling does not blur it): side
  // by side they would all finish together; one at a time, in order, each 0.2 s after the last.
  std::vector<int64_t> finished_us;
  for (auto& scan : scans) {
    Result result = scan.get();
    REQUIRE(result.ok());
    finished_us.push_back(result.Int64(0, 2));
  }
  for (int i = 1; i < 4; ++i) CHECK(finished_us[i] - finished_us[i - 1] >= 200'000);
}

TEST_CASE("a scan whose deadline passes while it waits for a scan connection is never sent") {
  PoolOptions options = TestPoolOptions(2);
  options.scan_connections = 1;
  Pool pool(std::move(options));
  pool.Start();
  REQUIRE(WaitReady(pool, 2));
  auto running = ExecuteAsync(pool, kSleepingScan, {"2"});
  auto next = ExecuteAsync(pool, kSleepingScan, {"0"});  // pipelined behind it
  auto waiting = ExecuteAsync(pool, kSleepingScan, {"0"}, In(absl::Milliseconds(100)));
  Result expired = waiting.get();
  // Answered at its deadline, while the scan connection was still busy, not when it came free.
  CHECK(running.wait_for(std::chrono::seconds(0)) == std::future_status::timeout);
  CHECK(expired.status().code() == absl::StatusCode::kDeadlineExceeded);
  CHECK(expired.sqlstate().empty());  // PostgreSQL never saw it
  CHECK(running.get().ok());
  CHECK(next.get().ok());
}

TEST_CASE("with one connection, scans and lookups share it and all complete") {
  Pool pool(TestPoolOptions(1));
  pool.Start();
  REQUIRE(WaitReady(pool, 1));
  std::vector<std::future<Result>> results;
  for (int i = 0; i < 20; ++i) {
    results.push_back(i % 2 == 0 ? ExecuteAsync(pool, kSleepingScan, {"0"})
                                 : ExecuteAsync(pool, kEcho, {std::to_string(i)}));
  }
  for (int i = 0; i < 20; ++i) {
    Result result = results[i].get();
    REQUIRE(result.ok());
    CHECK(result.Int64(0, i % 2 == 0 ? 1 : 0) == (i % 2 == 0 ? 3 : i));
  }
}

TEST_CASE("stopping the pool answers the scans waiting for a scan connection") {
  PoolOptions options = TestPoolOptions(2);
  options.scan_connections = 1;
  Pool pool(std::move(options));
  pool.Start();
  REQUIRE(WaitReady(pool, 2));
  std::vector<std::future<Result>> scans;
  // Long enough that none can finish, and let the next one in, before the pool is stopped.
  for (int i = 0; i < 4; ++i) scans.push_back(ExecuteAsync(pool, kSleepingScan, {"5"}));
  for (int i = 0; i < 200 && pool.queued() != 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  CHECK(pool.queued() == 2);  // two sent to the scan connection, two waiting for it
  pool.Stop();
  for (int i = 2; i < 4; ++i) {
    CHECK(scans[i].get().status().code() == absl::StatusCode::kUnavailable);
  }
}

// A change to the pool (it cannot tell): the notification goes out at its commit, and reaches a
// listening connection right behind the statement's own result.
const Statement kNotify{"notify", "SELECT pg_notify($1, '')"};

/// Polls `done` every 10 ms for up to 10 s.
template <typename Predicate>
bool Eventually(Predicate done) {
  for (int i = 0; i < 1000 && !done(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

TEST_CASE("a listening pool hears each notification, its own too, and says when it listens") {
  const std::string channel = "usersvc_test_" + UniqueSuffix();
  PoolOptions options = TestPoolOptions(1);
  const std::string application_name = options.application_name;
  options.statements.push_back(kNotify);
  options.listen_channel = channel;
  std::atomic<bool> listening = false;
  std::atomic<int> listening_changes = 0;
  std::atomic<int> notifications = 0;
  std::mutex payloads_mutex;
  std::vector<std::string> payloads;
  options.on_listening = [&](bool on) {
    listening = on;
    ++listening_changes;
  };
  options.on_notification = [&](std::string_view payload) {
    std::lock_guard lock(payloads_mutex);
    payloads.emplace_back(payload);
    ++notifications;
  };
  Pool pool(std::move(options));
  pool.Start();
  REQUIRE(Eventually([&] { return listening.load(); }));

  test::BlockingDb other;
  other.Query("SELECT pg_notify($1, 'from another session')", {channel});
  CHECK(Eventually([&] { return notifications >= 1; }));
  {
    std::lock_guard lock(payloads_mutex);
    CHECK(payloads == std::vector<std::string>{"from another session"});
  }
  // Its own: the notification arrives in the same read as the statement's result.
  const int before_own = notifications;
  Result own = ExecuteAsync(pool, kNotify, {channel}).get();
  REQUIRE(own.ok());
  CHECK(Eventually([&] { return notifications > before_own; }));

  // Its connection killed: it says so, reconnects, listens again, and hears what follows.
  CHECK(other.Scalar("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                     " WHERE application_name = $1",
                     {application_name}) == "1");
  CHECK(Eventually([&] { return listening_changes >= 3 && listening; }));
  const int before_reconnect = notifications;
  other.Query("SELECT pg_notify($1, '')", {channel});
  CHECK(Eventually([&] { return notifications > before_reconnect; }));
  pool.Stop();
}

}  // namespace
}  // namespace usersvc::storage
