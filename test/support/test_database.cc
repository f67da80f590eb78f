#include "test/support/test_database.h"

#include <cstdlib>
#include <random>
#include <string_view>

#include <fmt/format.h>
#include <catch2/catch.hpp>

namespace usersvc::test {

std::string TestDatabaseUrl() {
  const char* url = std::getenv("USERSVC_TEST_DATABASE_URL");
  if (url == nullptr || *url == '\0') {
    FAIL("USERSVC_TEST_DATABASE_URL is not set: run the suite through test/run");
  }
  return url;
}

int TestDatabaseTcpPort() {
  const char* port = std::getenv("USERSVC_TEST_DATABASE_TCP_PORT");
  if (port == nullptr || *port == '\0') {
    FAIL("USERSVC_TEST_DATABASE_TCP_PORT is not set: run the suite through test/run");
  }
  return std::atoi(port);
}

std::string TestDatabaseTcpUrl(const std::string& hosts, const std::string& ports,
                               const std::string& extra) {
  return fmt::format("host={} port={} dbname=usersvc user=usersvc {}", hosts, ports, extra);
}

std::string TestDatabaseUrlNamed(const std::string& dbname) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(TestDatabaseUrl().c_str(), &error);
  if (options == nullptr) {
    const std::string message = error ? error : "out of memory";
    PQfreemem(error);
    FAIL("USERSVC_TEST_DATABASE_URL does not parse: " << message);
  }
  std::string conninfo = fmt::format("dbname='{}'", dbname);
  for (PQconninfoOption* option = options; option->keyword != nullptr; ++option) {
    if (option->val == nullptr || std::string_view(option->keyword) == "dbname") continue;
    std::string value;
    for (const char* c = option->val; *c; ++c) {
      if (*c == '\\' || *c == '\'') value.push_back('\\');
      value.push_back(*c);
    }
    conninfo += fmt::format(" {}='{}'", option->keyword, value);
  }
  PQconninfoFree(options);
  return conninfo;
}

std::string UniqueSuffix() {
  static thread_local std::mt19937_64 random{std::random_device{}()};
  return fmt::format("{:016x}", random());
}

BlockingDb::BlockingDb() : BlockingDb(TestDatabaseUrl()) {}

BlockingDb::BlockingDb(const std::string& url) : conn_(PQconnectdb(url.c_str())) {
  INFO(PQerrorMessage(conn_));
  REQUIRE(PQstatus(conn_) == CONNECTION_OK);
}

BlockingDb::~BlockingDb() { PQfinish(conn_); }

std::vector<std::vector<std::string>> BlockingDb::Query(const std::string& sql,
                                                        const std::vector<std::string>& params) {
  std::vector<const char*> values;
  for (const auto& param : params) values.push_back(param.c_str());
  PGresult* result = PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                                  values.data(), nullptr, nullptr, 0);
  const ExecStatusType status = PQresultStatus(result);
  const std::string error = PQresultErrorMessage(result);
  std::vector<std::vector<std::string>> rows;
  for (int r = 0; r < PQntuples(result); ++r) {
    rows.emplace_back();
    for (int c = 0; c < PQnfields(result); ++c) rows.back().emplace_back(PQgetvalue(result, r, c));
  }
  PQclear(result);
  INFO(sql);
  INFO(error);
  REQUIRE((status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK));
  return rows;
}

std::string BlockingDb::Scalar(const std::string& sql, const std::vector<std::string>& params) {
  auto rows = Query(sql, params);
  INFO(sql);
  REQUIRE(!rows.empty());
  return rows[0][0];
}

std::string BlockingDb::Plan(const std::string& sql) {
  std::string plan;
  for (const auto& row : Query("EXPLAIN " + sql)) plan += row[0] + "\n";
  return plan;
}

int BlockingDb::CountBlockedBy(const std::string& pid) {
  return std::stoi(Scalar(
      "SELECT count(*) FROM pg_stat_activity WHERE $1::int = ANY (pg_blocking_pids(pid))", {pid}));
}

}  // namespace usersvc::test
