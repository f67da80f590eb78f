#pragma once

#include <string>
#include <vector>

#include <absl/status/statusor.h>

#include "auth/rate_limiter.h"
#include "base/log.h"
#include "server/access_control.h"
#include "server/credentials.h"

namespace usersvc::server {

/// Everything the service is told at start: flags, each with an environment fallback.
struct Config {
  std::string listen;
  std::string database_url;
  std::string database_read_url;  // empty: reads go to database_url too
  int cq_threads;
  int db_connections;
  int db_scan_connections;  // of db_connections, those searches and filtered listings may use
  int max_pending_queries;
  int drain_seconds;
  /// VerifyPassword's errors answer no sooner than this after the call began.
  absl::Duration sign_in_error_floor;
  int cpu_pool_nice;           // of the password-hashing threads
  std::string page_token_key;  // secret: never logged
  TlsFiles tls;
  std::string metrics_listen;  // empty: no /metrics
  AccessOptions access;
  bool reflection;
  /// WatchUserEvents may send the payloads' raw tokens (to callers with user.events.tokens when
  /// callers are authenticated); off: the "token" key is always removed.
  bool watch_include_tokens;
  /// The lookup cache's budget (0: none). With a read replica there is none: a change is heard
  /// from the primary before the replica has it, and a refill from the replica would keep the
  /// old row.
  size_t user_cache_bytes;
  size_t grpc_memory_bytes;
  LogLevel log_level;
  /// Positional arguments left after the flags ("migrate").
  std::vector<std::string> arguments;
};

/// Parses argv; a flag on the command line beats its environment variable, which beats the
/// default. Invalid values are an error that names the flag.
absl::StatusOr<Config> LoadConfig(int argc, char** argv);

/// One log line with the configuration, the database password left out.
void LogConfig(const Config& config);

}  // namespace usersvc::server
