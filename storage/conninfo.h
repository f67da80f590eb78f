#pragma once

#include <string>
#include <vector>

#include <absl/status/statusor.h>
#include <absl/time/time.h>

namespace usersvc::storage {

/// One way the pool can reach the database: the caller's conninfo narrowed to one of its hosts.
struct ConnectTarget {
  std::string conninfo;  // key=value, every option of the caller's but host/hostaddr/port
  std::string where;     // "host:port" (or the socket directory), for logs
  bool tcp = true;       // false for a unix socket
  /// A host name the pool must look up (off its event loop) and pass as hostaddr=, one address
  /// at a time; empty for addresses, sockets and targets with a hostaddr of their own.
  std::string resolve_host;
  std::string port = "5432";  // for the lookup
};

/// TCP settings the pool adds to every TCP target the caller did not configure itself, so that a
/// peer that vanished without a reset is noticed by the kernel in seconds, not minutes.
struct TcpLiveness {
  int keepalives_idle_s = 5;
  int keepalives_interval_s = 2;
  int keepalives_count = 3;
  absl::Duration user_timeout = absl::Seconds(10);  // unacknowledged data
};

/// Splits `conninfo` (a URL or key=value string, possibly naming several hosts, "host=a,b
/// port=5432,5433") into one target per host, in order, each keeping every other option (dbname,
/// user, sslmode, target_session_attrs, ...). The pool connects to one target at a time with its
/// own timeout and moves to the next when one fails, which libpq's non-blocking connect cannot do
/// by itself (it ignores connect_timeout). An error names what is wrong with the string.
absl::StatusOr<std::vector<ConnectTarget>> ConnectTargets(const std::string& conninfo,
                                                          const TcpLiveness& liveness = {});

/// The connect_timeout the caller gave (seconds in the conninfo), or `fallback`.
absl::Duration ConnectTimeoutOf(const std::string& conninfo, absl::Duration fallback);

}  // namespace usersvc::storage
