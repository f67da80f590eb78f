#pragma once

#include <string>
#include <vector>

#include <libpq-fe.h>

namespace usersvc::test {

/// The throwaway database that test/run started (USERSVC_TEST_DATABASE_URL). Tests that need it
/// fail, never skip, when it is missing.
std::string TestDatabaseUrl();

/// The loopback TCP port the same database also listens on (USERSVC_TEST_DATABASE_TCP_PORT), for
/// the tests of the TCP paths.
int TestDatabaseTcpPort();

/// A key=value conninfo for the test database over TCP to `hosts` ("127.0.0.1,127.0.0.1") and
/// `ports` ("5001,5002"), plus `extra` options.
std::string TestDatabaseTcpUrl(const std::string& hosts, const std::string& ports,
                               const std::string& extra = "");

/// The test database's server with another database name, as a key=value conninfo.
std::string TestDatabaseUrlNamed(const std::string& dbname);

/// A random lowercase hex string, to keep names unique across tests sharing one database.
std::string UniqueSuffix();

/// A plain blocking connection for the tests' own checks on the database.
class BlockingDb {
 public:
  BlockingDb();
  /// To another database (a conninfo or URL).
  explicit BlockingDb(const std::string& url);
  ~BlockingDb();
  BlockingDb(const BlockingDb&) = delete;
  BlockingDb& operator=(const BlockingDb&) = delete;

  /// Runs `sql` with text parameters and returns every row as text ("" for NULL). Fails the test
  /// on a database error.
  std::vector<std::vector<std::string>> Query(const std::string& sql,
                                              const std::vector<std::string>& params = {});
  /// The first column of the first row; fails the test when there is none.
  std::string Scalar(const std::string& sql, const std::vector<std::string>& params = {});
  /// The plan PostgreSQL picks for `sql` (EXPLAIN), one line per plan node.
  std::string Plan(const std::string& sql);
  /// How many backends wait on a lock held by the backend with `pid`.
  int CountBlockedBy(const std::string& pid);

 private:
  PGconn* conn_;
};

}  // namespace usersvc::test
