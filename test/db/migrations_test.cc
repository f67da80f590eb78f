#include "storage/migrations.h"

#include <catch2/catch.hpp>

#include "test/support/test_database.h"

namespace usersvc::storage {
namespace {

TEST_CASE("migrations are numbered from 1 without gaps") {
  int expected = 1;
  for (const Migration& migration : AllMigrations()) CHECK(migration.version == expected++);
}

TEST_CASE("migrating twice applies each migration once and records it") {
  REQUIRE(Migrate(test::TestDatabaseUrl()).ok());
  REQUIRE(Migrate(test::TestDatabaseUrl()).ok());
  test::BlockingDb db;
  CHECK(db.Scalar("SELECT count(*) FROM schema_migrations") ==
        std::to_string(AllMigrations().size()));
  CHECK(db.Scalar("SELECT count(DISTINCT version) FROM schema_migrations") ==
        std::to_string(AllMigrations().size()));
  CHECK(db.Scalar("SELECT to_regclass('public.users') IS NOT NULL") == "t");
  CHECK(db.Scalar("SELECT to_regclass('public.user_events') IS NOT NULL") == "t");
}

TEST_CASE("an unreachable database is reported as UNAVAILABLE") {
  auto status = Migrate("postgresql://usersvc@/usersvc?host=/nonexistent-usersvc-socket-dir");
  CHECK(status.code() == absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace usersvc::storage
