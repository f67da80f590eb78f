// user_tokens stays small and cheap to cascade: expired tokens are purged, and a user's tokens,
// used ones too, are found through an index.
#include <catch2/catch.hpp>

#include "storage/migrations.h"
#include "storage/queries/upkeep.h"
#include "test/support/test_database.h"

namespace usersvc::storage {
namespace {

TEST_CASE("tokens expired for more than an hour are purged, the others kept") {
  REQUIRE(Migrate(test::TestDatabaseUrl()).ok());
  test::BlockingDb db;
  db.Query("BEGIN");
  const std::string suffix = test::UniqueSuffix();
  const std::string user = db.Scalar(
      "INSERT INTO users (email, username, password_hash) VALUES ($1, $2, 'x') RETURNING id",
      {"tokens." + suffix + "@example.com", "tok_" + suffix.substr(0, 12)});
  for (const char* expiry : {"now() - interval '2 hours'", "now() - interval '10 minutes'",
                             "now() + interval '1 hour'"}) {
    db.Query(std::string("INSERT INTO user_tokens (token_hash, user_id, purpose, email, expires_at)"
                         " VALUES (sha256(random()::text::bytea), $1, 'password_reset', 'x', ") +
                 expiry + ")",
             {user});
  }
  db.Query("UPDATE user_tokens SET used_at = now() WHERE user_id = $1 AND expires_at > now()",
           {user});
  db.Query(std::string(queries::kPurgeExpiredTokens.statement().sql));
  // The one long expired is gone; the recently expired and the used but unexpired one stay.
  CHECK(db.Scalar("SELECT count(*) FROM user_tokens WHERE user_id = $1", {user}) == "2");
  CHECK(db.Scalar("SELECT count(*) FROM user_tokens WHERE user_id = $1 AND expires_at < now() - "
                  "interval '1 hour'",
                  {user}) == "0");
  db.Query("ROLLBACK");
}

TEST_CASE("DeleteUser's cascade and the purge find their tokens through indexes") {
  REQUIRE(Migrate(test::TestDatabaseUrl()).ok());
  test::BlockingDb db;
  db.Query("BEGIN");
  db.Query("SET LOCAL enable_seqscan = off");  // on a small table PostgreSQL would scan anyway
  // The statement the foreign key's cascade runs for each deleted user.
  const std::string cascade = db.Plan(
      "DELETE FROM ONLY user_tokens WHERE user_id = '00000000-0000-4000-8000-000000000000'");
  INFO(cascade);
  CHECK(cascade.find("user_tokens_user_id_idx") != std::string::npos);
  const std::string purge = db.Plan(std::string(queries::kPurgeExpiredTokens.statement().sql));
  INFO(purge);
  CHECK(purge.find("user_tokens_expires_at_idx") != std::string::npos);
  db.Query("ROLLBACK");
}

}  // namespace
}  // namespace usersvc::storage
