// Changes that do not run to the end: a caller whose deadline passes while its statement waits
// on a lock, and a connection killed while a change is half written. Neither may leave half a
// change behind or a pool connection stuck.
#include <chrono>
#include <future>
#include <thread>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "test/support/fixtures.h"
#include "test/support/tcp_proxy.h"

namespace usersvc::test {
namespace {

using Clock = std::chrono::steady_clock;
using user::v1::UpdateUserRequest;
using user::v1::UpdateUserResponse;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

UpdateUserRequest ChangeFirstName(const TestUser& who, const std::string& first_name) {
  UpdateUserRequest request;
  request.set_user_id(who.user.id());
  request.mutable_user()->set_first_name(first_name);
  request.mutable_update_mask()->add_paths("first_name");
  return request;
}

TEST_CASE(
    "A deadline shorter than a lock wait ends the call and cancels its statement, and the one "
    "connection then serves the next call") {
  ServerProcess::Options options;
  options.args = {"--db_connections=1"};
  ServerProcess server(options);
  auto stub = server.stub();
  TestUser who = CreateTestUser(*stub);

  BlockingDb blocker;
  blocker.Query("BEGIN");
  blocker.Query("SELECT 1 FROM users WHERE id = $1 FOR UPDATE", {who.user.id()});
  const std::string blocker_pid = blocker.Scalar("SELECT pg_backend_pid()");

  const auto start = Clock::now();
  UpdateUserResponse response;
  const grpc::Status status =
      stub->UpdateUser(ContextWithDeadline(0.5).get(), ChangeFirstName(who, "Blocked"), &response);
  CHECK(status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED);
  CHECK(SecondsSince(start) < 1.5);

  // PostgreSQL gives up the statement by itself (statement_timeout from the deadline) while the
  // lock is still held, rather than when the lock goes.
  BlockingDb observer;
  const double cancelled_after = [&] {
    const auto waiting_since = Clock::now();
    bool gone = false;
    while (!gone && SecondsSince(waiting_since) < 5) {
      gone = observer.CountBlockedBy(blocker_pid) == 0;
      if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return gone ? SecondsSince(waiting_since) : -1;
  }();
  fmt::print(stderr, "figure: blocked statement gone {:.2f} s after the deadline\n",
             cancelled_after);
  CHECK(cancelled_after >= 0);
  CHECK(cancelled_after < 1.5);

  // The only pool connection is free again: a read goes through while the lock is still held.
  user::v1::GetUserRequest get;
  get.set_user_id(who.user.id());
  user::v1::GetUserResponse got;
  const auto read_start = Clock::now();
  REQUIRE(stub->GetUser(ContextWithDeadline(2).get(), get, &got).ok());
  CHECK(SecondsSince(read_start) < 1);
  CHECK(got.user().first_name() == who.user.first_name());

  blocker.Query("ROLLBACK");
  REQUIRE(Call(*stub, &Stub::UpdateUser, ChangeFirstName(who, "Unblocked"), &response).ok());
  CHECK(response.user().first_name() == "Unblocked");
  CHECK(response.user().version() == who.user.version() + 1);
  BlockingDb db;
  CHECK(EventPayloads(db, who.user.id(), "user.updated").size() == 1);
}

TEST_CASE(
    "A connection killed after a change wrote its row but before it finished leaves neither the "
    "row change nor its outbox event") {
  ServerProcess server;
  auto stub = server.stub();
  TestUser who = CreateTestUser(*stub);

  // Stall the change for this one user right after its outbox row is written: by then the users
  // row is updated too, inside the change's transaction.
  BlockingDb db;
  const std::string stall = "test_stall_" + UniqueSuffix();
  db.Query(
      fmt::format("CREATE FUNCTION {0}() RETURNS trigger LANGUAGE plpgsql AS "
                  "$$ BEGIN PERFORM pg_sleep(30); RETURN NEW; END $$",
                  stall));
  db.Query(
      fmt::format("CREATE TRIGGER {0} AFTER INSERT ON user_events FOR EACH ROW "
                  "WHEN (NEW.user_id = '{1}') EXECUTE FUNCTION {0}()",
                  stall, who.user.id()));

  auto update = std::async(std::launch::async, [&] {
    UpdateUserResponse response;
    return stub->UpdateUser(ContextWithDeadline(20).get(), ChangeFirstName(who, "Half"), &response);
  });
  const std::string find_stalled =
      "SELECT coalesce(min(pid), 0) FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND "
      "query LIKE '%usersvc_update_user%'";
  std::string pid = "0";
  for (int i = 0; i < 250 && pid == "0"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    pid = db.Scalar(find_stalled);
  }
  REQUIRE(pid != "0");
  CHECK(db.Scalar("SELECT pg_terminate_backend($1::int)", {pid}) == "t");

  // The statement had reached the database, so all the service may say is that it does not know.
  const grpc::Status status = update.get();
  CHECK(status.error_code() == grpc::StatusCode::UNKNOWN);
  db.Query(fmt::format("DROP TRIGGER {0} ON user_events", stall));
  db.Query(fmt::format("DROP FUNCTION {0}()", stall));

  CHECK(
      db.Scalar("SELECT first_name || ' v' || version FROM users WHERE id = $1", {who.user.id()}) ==
      fmt::format("{} v{}", who.user.first_name(), who.user.version()));
  CHECK(EventPayloads(db, who.user.id(), "user.updated").empty());

  // The pool reconnects and the same change then goes through whole.
  UpdateUserResponse response;
  const grpc::Status retried =
      CallWhileReconnecting(*stub, &Stub::UpdateUser, ChangeFirstName(who, "Whole"), &response);
  REQUIRE(retried.ok());
  CHECK(response.user().first_name() == "Whole");
  CHECK(EventPayloads(db, who.user.id(), "user.updated").size() == 1);
}

TEST_CASE("A change whose answer never comes back is UNKNOWN, never UNAVAILABLE: it was applied") {
  // The service reaches PostgreSQL through a proxy of the test's, which will let the change
  // through and drop its answer: the commit happens, the service never hears of it.
  TcpProxy link(TestDatabaseTcpPort());
  ServerProcess::Options options;
  options.database_url = TestDatabaseTcpUrl("127.0.0.1", std::to_string(link.port()));
  options.args = {"--db_connections=2"};
  ServerProcess server(options);
  auto stub = server.stub();
  TestUser who = CreateTestUser(*stub);

  link.DropAnswers(true);
  UpdateUserResponse response;
  const auto sent = std::chrono::steady_clock::now();
  const grpc::Status status =
      stub->UpdateUser(ContextWithDeadline(15).get(), ChangeFirstName(who, "Landed"), &response);
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - sent).count();
  fmt::print(stderr, "figure: UNKNOWN {:.2f} s after a change whose answer was dropped\n", took);
  INFO(status.error_message());
  CHECK(status.error_code() == grpc::StatusCode::UNKNOWN);
  CHECK(took < 5);

  BlockingDb db;
  CHECK(db.Scalar("SELECT first_name FROM users WHERE id = $1", {who.user.id()}) == "Landed");
  CHECK(EventPayloads(db, who.user.id(), "user.updated").size() == 1);
  link.DropAnswers(false);
}

}  // namespace
}  // namespace usersvc::test
