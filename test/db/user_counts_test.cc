// ListUsers' total_size against count(*): the counters of migration 0010 and the index-only count
// of a created range must give the number of matching users for every filter combination, after
// every kind of write, also when many transactions write at once.
#include <string_view>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <libpq-fe.h>
#include <catch2/catch.hpp>

#include "storage/migrations.h"
#include "storage/queries/listing.h"
#include "test/support/test_database.h"

namespace usersvc::storage {
namespace {

// The first-page statement's total beside a count(*) written independently of it, in one
// statement and so one snapshot: the other tests' users, committed at any moment, are in both.
std::string TotalCheck() {
  return "SELECT (SELECT page.n FROM (" +
         std::string(queries::ListUsers(queries::UserOrder::kCreatedAt, true).statement().sql) +
         ") AS page LIMIT 1),"
         " (SELECT count(*) FROM users WHERE role = coalesce($1, role)"
         "   AND is_active = coalesce($2, is_active)"
         "   AND is_email_verified = coalesce($3, is_email_verified)"
         "   AND ($4 IS NULL OR created_at >= timestamptz 'epoch' + $4 * interval '1 us')"
         "   AND ($5 IS NULL OR created_at < timestamptz 'epoch' + $5 * interval '1 us'))";
}

// The same for the statement a listing filtered by role or state alone runs.
std::string StateTotalCheck() {
  return "SELECT (SELECT page.n FROM (" +
         std::string(
             queries::ListUsersByState(queries::UserOrder::kUsername, false).statement().sql) +
         ") AS page LIMIT 1),"
         " (SELECT count(*) FROM users WHERE role = coalesce($1, role)"
         "   AND is_active = coalesce($2, is_active)"
         "   AND is_email_verified = coalesce($3, is_email_verified))";
}

// The same for the statement a listing without any filter runs.
std::string UnfilteredTotalCheck() {
  return "SELECT (SELECT page.n FROM (" +
         std::string(queries::ListAllUsers(queries::UserOrder::kEmail, false).statement().sql) +
         ") AS page LIMIT 1), (SELECT count(*) FROM users)";
}

void PrepareTotalChecks(test::BlockingDb& db) {
  db.Query("PREPARE total_check AS " + TotalCheck());
  db.Query("PREPARE unfiltered_total_check AS " + UnfilteredTotalCheck());
  db.Query("PREPARE state_total_check AS " + StateTotalCheck());
}

// Runs the check for every combination of role, is_active and is_email_verified, without a
// created range and with [after, before); returns the combinations whose figures differ.
std::vector<std::string> Mismatches(test::BlockingDb& db, const std::string& after,
                                    const std::string& before) {
  std::vector<std::string> wrong;
  auto unfiltered = db.Query("EXECUTE unfiltered_total_check(21)");
  if (unfiltered.at(0).at(0) != unfiltered.at(0).at(1)) {
    wrong.push_back(fmt::format("no filter: {} vs {}", unfiltered[0][0], unfiltered[0][1]));
  }
  for (const char* role : {"", "1", "2", "3", "4"}) {
    for (const char* active : {"", "true", "false"}) {
      for (const char* verified : {"", "true", "false"}) {
        for (bool ranged : {false, true}) {
          auto literal = [](std::string_view value) {
            return value.empty() ? std::string("NULL") : std::string(value);
          };
          auto rows = db.Query(fmt::format(
              "EXECUTE total_check({}, {}, {}, {}, {}, 21)", literal(role), literal(active),
              literal(verified), literal(ranged ? after : ""), literal(ranged ? before : "")));
          if (rows.at(0).at(0) != rows.at(0).at(1)) {
            wrong.push_back(fmt::format("role={} active={} verified={} range={}: {} vs {}", role,
                                        active, verified, ranged, rows[0][0], rows[0][1]));
          }
          if (ranged) continue;
          auto by_state = db.Query(fmt::format("EXECUTE state_total_check({}, {}, {}, 21)",
                                               literal(role), literal(active), literal(verified)));
          if (by_state.at(0).at(0) != by_state.at(0).at(1)) {
            wrong.push_back(fmt::format("by state: role={} active={} verified={}: {} vs {}", role,
                                        active, verified, by_state[0][0], by_state[0][1]));
          }
        }
      }
    }
  }
  return wrong;
}

TEST_CASE("ListUsers' total is the number of matching users for every filter, after every write") {
  REQUIRE(Migrate(test::TestDatabaseUrl()).ok());
  test::BlockingDb db;
  PrepareTotalChecks(db);
  const std::string tag = test::UniqueSuffix();
  db.Query("BEGIN");
  // 120 users over two hours with every combination, in one statement (the statement trigger).
  db.Query(
      "INSERT INTO users (email, username, password_hash, role, is_active, is_email_verified,"
      " created_at)"
      " SELECT 'count' || i || '.' || $1 || '@example.com', 'count_' || i || '_' || $1, 'x',"
      " 1 + i % 4, i % 3 <> 0, i % 5 = 0, timestamptz '2001-01-01' + i * interval '1 minute'"
      " FROM generate_series(1, 120) AS i",
      {tag});
  const std::string after = db.Scalar(
      "SELECT (extract(epoch FROM timestamptz '2001-01-01 00:30') * 1000000)::int8::text");
  const std::string before = db.Scalar(
      "SELECT (extract(epoch FROM timestamptz '2001-01-01 01:30') * 1000000)::int8::text");
  CHECK(Mismatches(db, after, before).empty());

  // One user at a time, then changes that move users between combinations (the row trigger),
  // a change that moves none, and deletes (the statement trigger again).
  db.Query(
      "INSERT INTO users (email, username, password_hash, role, created_at)"
      " VALUES ('single.' || $1 || '@example.com', 'single_' || $1, 'x', 3,"
      " timestamptz '2001-01-01 00:45')",
      {tag});
  db.Query("UPDATE users SET role = 4 WHERE username LIKE 'count\\_1_\\_' || $1", {tag});
  db.Query(
      "UPDATE users SET is_active = NOT is_active, is_email_verified = NOT is_email_verified"
      " WHERE username LIKE 'count\\_2%\\_' || $1",
      {tag});
  db.Query("UPDATE users SET first_name = 'Renamed' WHERE username LIKE 'count\\_3%\\_' || $1",
           {tag});
  db.Query("DELETE FROM users WHERE username LIKE 'count\\_4%\\_' || $1", {tag});
  CHECK(Mismatches(db, after, before).empty());
  db.Query("ROLLBACK");
  // Rolled back, the counters are as they were: still in step with the table.
  CHECK(Mismatches(db, after, before).empty());
}

TEST_CASE("ListUsers' total stays exact while many transactions create and change users at once") {
  REQUIRE(Migrate(test::TestDatabaseUrl()).ok());
  const std::string tag = test::UniqueSuffix();
  constexpr int kWriters = 8;
  constexpr int kUsersEach = 40;
  const std::string url = test::TestDatabaseUrl();
  // Catch's assertions are not for other threads: each writer keeps its first error instead.
  std::vector<std::string> errors(kWriters);
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([w, &tag, &url, &error = errors[w]] {
      PGconn* conn = PQconnectdb(url.c_str());
      auto run = [&](const std::string& sql, const std::string& name, const std::string& n) {
        const char* values[] = {name.c_str(), n.c_str()};
        PGresult* result = PQexecParams(conn, sql.c_str(), 2, nullptr, values, nullptr, nullptr, 0);
        if (PQresultStatus(result) != PGRES_COMMAND_OK && error.empty()) {
          error = PQresultErrorMessage(result);
        }
        PQclear(result);
      };
      for (int i = 0; i < kUsersEach; ++i) {
        // Each its own transaction, as CreateUser is; every third then changes role and state.
        const std::string name = fmt::format("race_{}_{}_{}", w, i, tag);
        run("INSERT INTO users (email, username, password_hash, role) VALUES"
            " ($1 || '@example.com', $1, 'x', 1 + $2::int % 2)",
            name, std::to_string(i));
        if (i % 3 == 0) {
          run("UPDATE users SET role = 3, is_active = false WHERE username = $1 AND $2 <> ''", name,
              "x");
        }
      }
      PQfinish(conn);
    });
  }
  for (auto& writer : writers) writer.join();
  for (const std::string& error : errors) CHECK(error.empty());
  test::BlockingDb db;
  PrepareTotalChecks(db);
  // A created range around now, which holds the writers' users.
  const std::string hour_ago =
      db.Scalar("SELECT ((extract(epoch FROM now() - interval '1 hour') * 1000000)::int8)::text");
  const std::string hour_on =
      db.Scalar("SELECT ((extract(epoch FROM now() + interval '1 hour') * 1000000)::int8)::text");
  CHECK(Mismatches(db, hour_ago, hour_on).empty());
  CHECK(db.Scalar("SELECT count(*) FROM users WHERE username LIKE 'race\\_%\\_' || $1", {tag}) ==
        std::to_string(kWriters * kUsersEach));
  db.Query("DELETE FROM users WHERE username LIKE 'race\\_%\\_' || $1", {tag});
  CHECK(Mismatches(db, hour_ago, hour_on).empty());
}

}  // namespace
}  // namespace usersvc::storage
