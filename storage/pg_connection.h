#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <absl/functional/function_ref.h>

#include <libpq-fe.h>

#include "storage/params.h"
#include "storage/result.h"
#include "storage/statement.h"

namespace usersvc::storage {

/// `conninfo` (URL or key=value) as key=value pairs for logs, without the password.
std::string DescribeConninfo(const std::string& conninfo);

/// A thin owner of one non-blocking libpq connection in pipeline mode. Every libpq return code is
/// checked here; the pool above decides what a failure means.
class PgConnection {
 public:
  PgConnection() = default;
  ~PgConnection() { Close(); }
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  enum class Progress { kWantRead, kWantWrite, kReady, kFailed };

  /// Starts connecting without blocking (PQconnectStartParams). `conninfo` is a URL or key=value
  /// string; `application_name` shows up in pg_stat_activity.
  Progress Start(const std::string& conninfo, const char* application_name);
  /// Advances the connection handshake when its socket is ready; on kReady the connection is
  /// non-blocking and in pipeline mode.
  Progress PollConnect();

  /// Queues PREPARE and a sync point; false when libpq refused (connection broken).
  bool SendPrepare(const Statement& statement);
  /// Queues EXECUTE of a prepared statement and a sync point, so that an error aborts only it.
  bool SendQuery(const Statement& statement, const Params& params);
  /// Sends buffered output: 0 all sent, 1 more to send (wait for writability), -1 failure.
  int Flush();
  /// Reads what the socket has; false when the connection is broken.
  bool ConsumeInput();
  bool IsBusy() const { return PQisBusy(conn_) != 0; }
  /// True when TLS has decrypted bytes buffered that libpq has not read yet: the socket will not
  /// report them, so read again.
  bool HasBufferedInput() const;
  /// Hands the payload of each NOTIFY that has arrived since the last call (read by ConsumeInput
  /// or with a result) to `take`, oldest first; how many there were.
  int TakeNotifications(absl::FunctionRef<void(std::string_view payload)> take);
  /// The next result, owned by the caller; nullptr marks the end of one query's results.
  PgResultPtr NextResult() { return PgResultPtr(PQgetResult(conn_)); }
  bool IsBroken() const { return conn_ == nullptr || PQstatus(conn_) == CONNECTION_BAD; }

  int socket() const { return conn_ ? PQsocket(conn_) : -1; }
  /// libpq's last error, for logs only: it never carries query parameters.
  std::string ErrorMessage() const;
  void Close();

 private:
  PGconn* conn_ = nullptr;
};

}  // namespace usersvc::storage
