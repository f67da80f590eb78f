// ListUsers' and SearchUsers' real statements over 1,000,000 users: PostgreSQL must serve each
// query shape from an index (and the totals from user_counts or an index alone), never by reading
// the whole table. The users are loaded into a database of this test's own, dropped at the end,
// so that the other tests neither wait for nor see them.
#include <string>
#include <tuple>
#include <vector>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "storage/migrations.h"
#include "storage/queries/listing.h"
#include "test/support/test_database.h"

namespace usersvc::storage {
namespace {

using queries::UserOrder;

constexpr int kUsers = 1'000'000;

/// A database of the test's own, dropped when this goes (also when a REQUIRE below fails).
class ScratchDatabase {
 public:
  ScratchDatabase() : name_("usersvc_plans_" + test::UniqueSuffix()) {
    admin_.Query("CREATE DATABASE " + name_);
  }
  ~ScratchDatabase() { admin_.Query("DROP DATABASE " + name_ + " WITH (FORCE)"); }

  std::string url() const { return test::TestDatabaseUrlNamed(name_); }

 private:
  test::BlockingDb admin_;
  std::string name_;
};

/// 1,000,000 users, a minute apart, with names as a real user base has them: one surname shared
/// by 1% (Smith), one by 0.5%, the rest all but unique; 90% customers, 7% sellers, 2% support,
/// 1% admins; 95% active, 70% verified. The indexes are built after the load, as a restore does.
void LoadUsers(test::BlockingDb& db) {
  std::vector<std::string> indexes;
  for (const auto& row :
       db.Query("SELECT indexdef, indexname FROM pg_indexes WHERE tablename = 'users'"
                " AND indexname NOT IN (SELECT conname FROM pg_constraint)")) {
    indexes.push_back(row[0]);
    db.Query("DROP INDEX " + row[1]);
  }
  db.Query(fmt::format(
      "INSERT INTO users (email, username, password_hash, first_name, last_name, role,"
      " is_active, is_email_verified, created_at)"
      " SELECT lower(first) || '.' || lower(last) || i || '@example.com',"
      "   lower(first) || '_' || lower(last) || i, 'x', first, last,"
      "   CASE WHEN i % 100 < 90 THEN 1 WHEN i % 100 < 97 THEN 2 WHEN i % 100 < 99 THEN 3"
      "   ELSE 4 END, i % 20 <> 0, i % 10 < 7, timestamptz '2020-01-01' + i * interval '1 minute'"
      " FROM (SELECT i, (ARRAY['James', 'Mary', 'Robert', 'Patricia', 'John', 'Jennifer',"
      "   'Michael', 'Linda', 'David', 'Elizabeth', 'William', 'Barbara'])[1 + i % 12] AS first,"
      "   CASE WHEN i % 100 = 7 THEN 'Smith' WHEN i % 200 = 13 THEN 'Johnson'"
      "   ELSE initcap(translate(substr(md5(i::text), 1, 8), '0123456789', 'ghijklmnop')) END"
      "   AS last FROM generate_series(1, {}) AS i) AS people",
      kUsers));
  db.Query("SET maintenance_work_mem = '256MB'");
  for (const std::string& index : indexes) db.Query(index);
  db.Query("VACUUM ANALYZE users");
}

/// The plan `execute` runs on once the statement's plan cache has settled (after five runs
/// PostgreSQL may move to a generic plan, which is what a long-lived pool connection uses).
std::string SettledPlan(test::BlockingDb& db, const std::string& execute) {
  for (int i = 0; i < 6; ++i) db.Query(execute);
  return db.Plan("(COSTS OFF) " + execute);
}

bool Has(const std::string& plan, const std::string& text) {
  return plan.find(text) != std::string::npos;
}

TEST_CASE("At 1,000,000 users every ListUsers and SearchUsers shape runs from an index") {
  ScratchDatabase database;
  REQUIRE(Migrate(database.url()).ok());
  test::BlockingDb db(database.url());
  LoadUsers(db);
  auto prepare = [&](const std::string& name, const Statement& statement) {
    db.Query("PREPARE " + name + " AS " + std::string(statement.sql));
  };
  prepare("all_first", queries::ListAllUsers(UserOrder::kCreatedAt, true).statement());
  prepare("all_after", queries::ListAllUsersAfter(UserOrder::kCreatedAt, true).statement());
  prepare("filtered_first", queries::ListUsers(UserOrder::kCreatedAt, true).statement());
  prepare("filtered_after", queries::ListUsersAfter(UserOrder::kCreatedAt, true).statement());
  prepare("by_email", queries::ListUsers(UserOrder::kEmail, false).statement());
  prepare("state_first", queries::ListUsersByState(UserOrder::kCreatedAt, true).statement());
  prepare("state_after", queries::ListUsersByStateAfter(UserOrder::kCreatedAt, true).statement());
  prepare("state_by_email", queries::ListUsersByState(UserOrder::kEmail, false).statement());
  prepare("search_first", queries::kSearchUsers.statement());
  prepare("search_after", queries::kSearchUsersAfter.statement());
  prepare("search_short", queries::kSearchUsersWithoutTrigrams.statement());
  // A cursor in the middle of the table: the 500,000th user's key and id.
  const auto middle = db.Query(
      "SELECT ((extract(epoch FROM created_at) * 1000000)::int8)::text, id FROM users"
      " ORDER BY created_at DESC, id DESC OFFSET 500000 LIMIT 1");
  const std::string key = middle.at(0).at(0), id = middle.at(0).at(1);

  // One load for every shape (a Catch SECTION would load again for each): ListUsers without a
  // filter takes the order's index and the total from user_counts.
  {
    // The first page counts, a later page takes the total from its token and counts nothing,
    // and both are planned once: PostgreSQL settles on a generic plan for each.
    for (const auto& [name, execute, counts] :
         {std::tuple{"all_first", std::string("EXECUTE all_first(21)"), true},
          std::tuple{"all_after",
                     fmt::format("EXECUTE all_after(21, '{}', '{}', 1000000)", key, id), false}}) {
      const std::string plan = SettledPlan(db, execute);
      INFO(execute << "\n" << plan);
      CHECK(Has(plan, "Index Scan Backward using users_created_at_listing_idx on users"));
      CHECK(Has(plan, "user_counts") == counts);
      CHECK_FALSE(Has(plan, "Seq Scan on users"));
      CHECK(db.Scalar("SELECT generic_plans > 0 FROM pg_prepared_statements WHERE name = $1",
                      {name}) == "t");
    }
    // A token of the release before carries no total: its page (the filtered statement with no
    // filter) counts again, from user_counts.
    const std::string old_token = SettledPlan(
        db,
        fmt::format("EXECUTE filtered_after(NULL, NULL, NULL, NULL, NULL, 21, '{}', '{}', NULL)",
                    key, id));
    INFO(old_token);
    CHECK(Has(old_token, "user_counts"));
    CHECK_FALSE(Has(old_token, "Seq Scan on users"));
    // A later page starts its index scan at the cursor rather than reading the pages before it.
    const std::string plan =
        SettledPlan(db, fmt::format("EXECUTE all_after(21, '{}', '{}', 1000000)", key, id));
    INFO(plan);
    CHECK(Has(plan, "Index Cond: (ROW(created_at, id) < ROW("));
  }

  // Filtered by role or state alone: the order's index, the total from user_counts, and planned
  // once (the point of these statements: planning the filtered one cost more than running it).
  {
    for (const auto& [name, execute, index, counts] :
         {std::tuple{"state_first", std::string("EXECUTE state_first(2, NULL, NULL, 21)"),
                     "Index Scan Backward using users_created_at_listing_idx on users", true},
          std::tuple{
              "state_after",
              fmt::format("EXECUTE state_after(2, NULL, NULL, 21, '{}', '{}', 70000)", key, id),
              "Index Cond: (ROW(created_at, id) < ROW(", false},
          std::tuple{"state_by_email", std::string("EXECUTE state_by_email(4, NULL, true, 21)"),
                     "Index Scan using users_email_order_idx on users", true}}) {
      const std::string plan = SettledPlan(db, execute);
      INFO(execute << "\n" << plan);
      CHECK(Has(plan, index));
      CHECK_FALSE(Has(plan, "Seq Scan on users"));
      CHECK(db.Scalar("SELECT generic_plans > 0 FROM pg_prepared_statements WHERE name = $1",
                      {name}) == "t");
      if (counts) CHECK(Has(plan, "user_counts"));
    }
  }

  // With a created range as well: the order's index, the total from the index alone.
  {
    const std::string role =
        SettledPlan(db, "EXECUTE filtered_first(2, NULL, NULL, NULL, NULL, 21)");
    INFO(role);
    CHECK(Has(role, "Index Scan Backward using users_created_at_listing_idx on users"));
    CHECK(Has(role, "user_counts"));
    CHECK_FALSE(Has(role, "Seq Scan on users"));
    // A created range is counted from the index alone.
    const std::string from = "1600000000000000", to = "1610000000000000";
    const std::string ranged = SettledPlan(
        db, fmt::format("EXECUTE filtered_first(NULL, true, NULL, {}, {}, 21)", from, to));
    INFO(ranged);
    CHECK(Has(ranged, "Index Only Scan using users_created_at_listing_idx on users"));
    CHECK_FALSE(Has(ranged, "Seq Scan on users"));
    const std::string later = SettledPlan(
        db, fmt::format("EXECUTE filtered_after(2, NULL, NULL, NULL, NULL, 21, '{}', '{}', 70000)",
                        key, id));
    INFO(later);
    CHECK(Has(later, "Index Cond: (ROW(created_at, id) < ROW("));
    CHECK_FALSE(Has(later, "Seq Scan on users"));
    const std::string by_email = SettledPlan(db, "EXECUTE by_email(4, NULL, true, NULL, NULL, 21)");
    INFO(by_email);
    CHECK(Has(by_email, "Index Scan using users_email_order_idx on users"));
    CHECK_FALSE(Has(by_email, "Seq Scan on users"));
  }

  // SearchUsers: the trigram index, for a common surname, a rare one and a later page.
  {
    // User 4241's surname, one of the md5-made ones.
    const std::string rare =
        db.Scalar("SELECT lower(last_name) FROM users ORDER BY created_at OFFSET 4240 LIMIT 1");
    for (const std::string& query : {std::string("smith"), rare}) {
      const std::string plan = SettledPlan(
          db, fmt::format("EXECUTE search_first('{0}', '{0}%', '%{0}%', false, 21)", query));
      INFO(query << "\n" << plan);
      CHECK(Has(plan, "Bitmap Index Scan on users_search_trgm_idx"));
      CHECK_FALSE(Has(plan, "Seq Scan on users"));
    }
    const std::string later =
        SettledPlan(db,
                    "EXECUTE search_after('smith', 'smith%', '%smith%', false, 21, 1, 'm', "
                    "'00000000-0000-0000-0000-000000000000', 9500)");
    INFO(later);
    CHECK(Has(later, "Bitmap Index Scan on users_search_trgm_idx"));
    CHECK_FALSE(Has(later, "Seq Scan on users"));
    // A query with no trigram reads the table once, not the whole trigram index and then the
    // table: also once its plan has settled (a generic plan cannot see how short the query is).
    const std::string short_query =
        SettledPlan(db, "EXECUTE search_short('jo', 'jo%', '%jo%', false, 21)");
    INFO(short_query);
    CHECK(Has(short_query, "Seq Scan on users"));
    CHECK_FALSE(Has(short_query, "users_search_trgm_idx"));
    // And the ranking holds on that much data: the exact username first, then prefixes.
    const std::string username = db.Scalar(
        "SELECT username FROM users WHERE last_name = 'Smith'"
        " ORDER BY username DESC LIMIT 1");
    const auto found =
        db.Query(fmt::format("EXECUTE search_first('{0}', '{0}%', '%{0}%', false, 21)", username));
    REQUIRE(!found.empty());
    constexpr int kUsernameColumn = 2;  // id, email, username, ... (storage/queries/columns.h)
    CHECK(found[0][kUsernameColumn] == username);
  }
}

}  // namespace
}  // namespace usersvc::storage
