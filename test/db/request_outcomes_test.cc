// request_outcomes stays bounded: outcomes older than a day are purged, and their request_ids
// may then be used afresh.
#include <catch2/catch.hpp>

#include "storage/migrations.h"
#include "storage/queries/upkeep.h"
#include "test/support/test_database.h"

namespace usersvc::storage {
namespace {

TEST_CASE("request outcomes older than a day are purged, younger ones kept") {
  REQUIRE(Migrate(test::TestDatabaseUrl()).ok());
  test::BlockingDb db;
  db.Query("BEGIN");
  const std::string old_key = db.Scalar("SELECT gen_random_uuid()");
  const std::string young_key = db.Scalar("SELECT gen_random_uuid()");
  db.Query(
      "INSERT INTO request_outcomes (request_id, method, fingerprint, created_at)"
      " VALUES ($1, 'AddAddress', '\\x00', now() - interval '25 hours'),"
      "        ($2, 'AddAddress', '\\x00', now() - interval '23 hours')",
      {old_key, young_key});
  db.Query(std::string(queries::kPurgeOldRequestOutcomes.statement().sql));
  CHECK(db.Scalar("SELECT count(*) FROM request_outcomes WHERE request_id = $1", {old_key}) == "0");
  CHECK(db.Scalar("SELECT count(*) FROM request_outcomes WHERE request_id = $1", {young_key}) ==
        "1");
  db.Query("ROLLBACK");
}

TEST_CASE("the purge finds old outcomes through an index") {
  REQUIRE(Migrate(test::TestDatabaseUrl()).ok());
  test::BlockingDb db;
  db.Query("BEGIN");
  db.Query("SET LOCAL enable_seqscan = off");  // on a small table PostgreSQL would scan anyway
  const std::string plan = db.Plan(std::string(queries::kPurgeOldRequestOutcomes.statement().sql));
  INFO(plan);
  CHECK(plan.find("request_outcomes_created_at_idx") != std::string::npos);
  db.Query("ROLLBACK");
}

}  // namespace
}  // namespace usersvc::storage
