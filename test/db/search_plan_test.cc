#include <catch2/catch.hpp>

#include "storage/migrations.h"
#include "storage/queries/listing.h"
#include "test/support/test_database.h"

namespace usersvc::storage {
namespace {

// The real SearchUsers statement over 100,000 users: PostgreSQL must find the matches through
// the pg_trgm indexes, not by reading the table. Everything is rolled back afterwards.
TEST_CASE("SearchUsers finds matches through the trigram indexes, not a table scan") {
  REQUIRE(Migrate(test::TestDatabaseUrl()).ok());
  test::BlockingDb db;
  db.Query("BEGIN");
  // Varied names, as real ones are: rows that all shared a prefix would share its trigrams.
  db.Query(
      "INSERT INTO users (email, username, password_hash, first_name, last_name)"
      " SELECT md5(i::text) || '@example.com', 'u' || substr(md5(i::text), 1, 14), 'x',"
      " initcap(substr(md5((i * 7)::text), 1, 9)), initcap(substr(md5((i * 13)::text), 1, 11))"
      " FROM generate_series(1, 100000) AS i");
  // What autovacuum does after a bulk load: move the GIN indexes' pending entries into the index
  // proper (while they wait there, every index scan must read them too), and refresh statistics.
  db.Query(
      "SELECT gin_clean_pending_list(index::regclass) FROM unnest(ARRAY['users_email_trgm_idx',"
      " 'users_username_trgm_idx', 'users_first_name_trgm_idx', 'users_last_name_trgm_idx'])"
      " AS index");
  db.Query("ANALYZE users");
  db.Query("PREPARE search_plan AS " + std::string(queries::kSearchUsers.statement().sql));
  const std::string username = "u" + db.Scalar("SELECT substr(md5('4242'), 1, 14)");
  const std::string execute = "EXECUTE search_plan('" + username + "', '" + username + "%', '%" +
                              username + "%', false, 21)";
  auto plan_rows = db.Query("EXPLAIN " + execute);
  std::string plan;
  for (const auto& row : plan_rows) plan += row[0] + "\n";
  INFO(plan);
  CHECK(plan.find("Bitmap Index Scan on users_username_trgm_idx") != std::string::npos);
  CHECK(plan.find("Bitmap Index Scan on users_email_trgm_idx") != std::string::npos);
  CHECK(plan.find("Seq Scan on users") == std::string::npos);

  auto found = db.Query(execute);
  REQUIRE(!found.empty());
  constexpr int kUsernameColumn = 2;  // id, email, username, ... (storage/queries/columns.h)
  CHECK(found[0][kUsernameColumn] == username);  // the exact match ranks first
  db.Query("ROLLBACK");
}

}  // namespace
}  // namespace usersvc::storage
