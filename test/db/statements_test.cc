#include <set>
#include <string>

#include <fmt/format.h>
#include <libpq-fe.h>
#include <catch2/catch.hpp>

#include "storage/migrations.h"
#include "storage/query.h"
#include "test/support/test_database.h"

namespace usersvc::storage {
namespace {

struct ResultCloser {
  void operator()(PGresult* result) const { PQclear(result); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultCloser>;

// Every statement a Query declares, prepared against the migrated schema as the pool would, and
// held against its own types: a parameter struct that fills fewer `$n` than the SQL takes, or a
// row type that reads other columns than the SQL selects, fails here rather than on the first
// call that runs it.
TEST_CASE("every registered statement prepares and takes and returns what its types say") {
  REQUIRE(Migrate(test::TestDatabaseUrl()).ok());
  PGconn* conn = PQconnectdb(test::TestDatabaseUrl().c_str());
  REQUIRE(PQstatus(conn) == CONNECTION_OK);
  const std::vector<Statement> statements = RegisteredStatements();
  std::set<std::string> names;
  for (const Statement& statement : statements) {
    const std::string name(statement.name);
    INFO(name);
    CHECK(names.insert(name).second);  // names are unique
    ResultPtr prepared(
        PQprepare(conn, name.c_str(), std::string(statement.sql).c_str(), 0, nullptr));
    REQUIRE(PQresultStatus(prepared.get()) == PGRES_COMMAND_OK);
    ResultPtr described(PQdescribePrepared(conn, name.c_str()));
    REQUIRE(PQresultStatus(described.get()) == PGRES_COMMAND_OK);
    CHECK(PQnparams(described.get()) == statement.param_count);
    CHECK(PQnfields(described.get()) == statement.column_count);
  }
  // What the server needs before any handler runs is among them.
  for (const char* needed : {"probe", "select_users_by_ids", "purge_expired_tokens"}) {
    CHECK(names.count(needed) == 1);
  }
  PQfinish(conn);
}

}  // namespace
}  // namespace usersvc::storage
