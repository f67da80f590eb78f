// The outbox as its consumers read it: usersvc_events_after (migration 0005) returns events in id
// order and never one whose lower neighbour can still commit, so a consumer that resumes after
// the last id it saw misses none and sees none twice.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "storage/migrations.h"
#include "test/support/test_database.h"

namespace usersvc::storage {
namespace {

// An event of this test's own type, so that other tests sharing the database do not count.
std::string InsertEvent(test::BlockingDb& db, const std::string& type) {
  return db.Scalar("INSERT INTO user_events (event_type, payload) VALUES ($1, '{}') RETURNING id",
                   {type});
}

std::vector<int64_t> ReadAfter(test::BlockingDb& db, int64_t after, const std::string& type,
                               int64_t* last_seen = nullptr) {
  std::vector<int64_t> ids;
  for (const auto& row : db.Query("SELECT id, event_type FROM usersvc_events_after($1, 1000)",
                                  {std::to_string(after)})) {
    if (last_seen != nullptr) *last_seen = std::stoll(row[0]);
    if (row[1] == type) ids.push_back(std::stoll(row[0]));
  }
  return ids;
}

std::vector<int64_t> ReadNaively(test::BlockingDb& db, int64_t after, const std::string& type) {
  std::vector<int64_t> ids;
  for (const auto& row : db.Query("SELECT id FROM user_events WHERE id > $1 AND event_type = $2"
                                  " ORDER BY id",
                                  {std::to_string(after), type})) {
    ids.push_back(std::stoll(row[0]));
  }
  return ids;
}

// Catch's assertions are not thread-safe, so the writer threads use libpq directly and report the
// first error they meet.
class ThreadWriter {
 public:
  ThreadWriter() : conn_(PQconnectdb(test::TestDatabaseUrl().c_str())) {
    if (PQstatus(conn_) != CONNECTION_OK) error_ = PQerrorMessage(conn_);
  }
  ~ThreadWriter() { PQfinish(conn_); }
  ThreadWriter(const ThreadWriter&) = delete;
  ThreadWriter& operator=(const ThreadWriter&) = delete;

  // The first column of the first row, or "" after an error (then error() says which).
  std::string Exec(const std::string& sql, const std::string& param = "") {
    if (!error_.empty()) return "";
    const char* values[] = {param.c_str()};
    PGresult* result = PQexecParams(conn_, sql.c_str(), param.empty() ? 0 : 1, nullptr, values,
                                    nullptr, nullptr, 0);
    std::string value;
    const ExecStatusType status = PQresultStatus(result);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      error_ = sql + ": " + PQresultErrorMessage(result);
    } else if (PQntuples(result) > 0) {
      value = PQgetvalue(result, 0, 0);
    }
    PQclear(result);
    return value;
  }
  const std::string& error() const { return error_; }

 private:
  PGconn* conn_;
  std::string error_;
};

TEST_CASE("an event committed while a lower id is still open is read after it, not instead") {
  REQUIRE(Migrate(test::TestDatabaseUrl()).ok());
  const std::string type = "test.outbox." + test::UniqueSuffix();
  test::BlockingDb slow_writer;
  test::BlockingDb quick_writer;
  test::BlockingDb reader;

  slow_writer.Query("BEGIN");
  const int64_t low = std::stoll(InsertEvent(slow_writer, type));
  const int64_t high = std::stoll(InsertEvent(quick_writer, type));  // commits at once
  REQUIRE(high > low);
  // The hazard is real: a plain read in id order shows the higher id alone, and a consumer that
  // resumed after it would never see the lower one.
  REQUIRE(ReadNaively(reader, low - 1, type) == std::vector<int64_t>{high});

  // While the lower id may still commit, neither is handed out.
  CHECK(ReadAfter(reader, low - 1, type).empty());

  slow_writer.Query("COMMIT");
  CHECK(ReadAfter(reader, low - 1, type) == std::vector<int64_t>{low, high});
  CHECK(ReadAfter(reader, low, type) == std::vector<int64_t>{high});
  CHECK(ReadAfter(reader, high, type).empty());
}

TEST_CASE("a consumer resuming after its last id gets every committed event once, in order") {
  REQUIRE(Migrate(test::TestDatabaseUrl()).ok());
  const std::string type = "test.outbox." + test::UniqueSuffix();
  constexpr int kWriters = 4;
  constexpr int kTransactionsEach = 60;
  const int64_t start =
      std::stoll(test::BlockingDb().Scalar("SELECT coalesce(max(id), 0) FROM user_events"));

  std::atomic<int> writers_left{kWriters};
  std::vector<std::vector<int64_t>> committed(kWriters);
  std::vector<std::string> errors(kWriters);
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      ThreadWriter db;
      std::mt19937 random(w);
      for (int t = 0; t < kTransactionsEach && db.error().empty(); ++t) {
        db.Exec("BEGIN");
        std::vector<int64_t> ids;
        const int events = 1 + static_cast<int>(random() % 2);
        for (int e = 0; e < events; ++e) {
          const std::string id = db.Exec(
              "INSERT INTO user_events (event_type, payload) VALUES ($1, '{}') RETURNING id", type);
          if (!id.empty()) ids.push_back(std::stoll(id));
        }
        // Some transactions stay open a little after taking their ids, so that later ids commit
        // first; some roll back, and their ids must never be read.
        if (random() % 3 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(random() % 8));
        if (random() % 5 == 0) {
          db.Exec("ROLLBACK");
        } else {
          db.Exec("COMMIT");
          if (db.error().empty()) committed[w].insert(committed[w].end(), ids.begin(), ids.end());
        }
      }
      errors[w] = db.error();
      writers_left.fetch_sub(1);
    });
  }

  test::BlockingDb reader;
  std::vector<int64_t> read;
  int64_t last = start;
  auto read_more = [&] {
    std::vector<int64_t> batch = ReadAfter(reader, last, type, &last);
    read.insert(read.end(), batch.begin(), batch.end());
  };
  while (writers_left.load() > 0) read_more();
  for (std::thread& writer : writers) writer.join();
  read_more();
  read_more();
  for (const std::string& error : errors) CHECK(error == "");

  std::vector<int64_t> expected;
  for (const auto& ids : committed) expected.insert(expected.end(), ids.begin(), ids.end());
  std::sort(expected.begin(), expected.end());
  REQUIRE(!expected.empty());
  CHECK(std::is_sorted(read.begin(), read.end()));
  CHECK(std::set<int64_t>(read.begin(), read.end()).size() == read.size());
  CHECK(read == expected);
}

TEST_CASE("a consumer's open transaction does not hold writers up") {
  REQUIRE(Migrate(test::TestDatabaseUrl()).ok());
  const std::string type = "test.outbox." + test::UniqueSuffix();
  test::BlockingDb reader;
  test::BlockingDb writer;
  reader.Query("BEGIN");
  (void)ReadAfter(reader, 0, type);
  // With the reader's transaction still open, a write commits (a lock kept until the reader's
  // commit would make this statement wait out its timeout and fail the test).
  writer.Query("SET statement_timeout = '5s'");
  const int64_t id = std::stoll(InsertEvent(writer, type));
  CHECK(ReadAfter(reader, id - 1, type) == std::vector<int64_t>{id});
  reader.Query("COMMIT");
}

TEST_CASE("reading the outbox under a snapshot older than the statement is refused") {
  REQUIRE(Migrate(test::TestDatabaseUrl()).ok());
  PGconn* conn = PQconnectdb(test::TestDatabaseUrl().c_str());
  REQUIRE(PQstatus(conn) == CONNECTION_OK);
  PQclear(PQexec(conn, "SET default_transaction_isolation = 'repeatable read'"));
  PGresult* result = PQexec(conn, "SELECT * FROM usersvc_events_after(0, 10)");
  CHECK(PQresultStatus(result) == PGRES_FATAL_ERROR);
  CHECK(std::string(PQresultErrorMessage(result)).find("READ COMMITTED") != std::string::npos);
  PQclear(result);
  PQfinish(conn);
}

}  // namespace
}  // namespace usersvc::storage
