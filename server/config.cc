#include "server/config.h"

#include <algorithm>
#include <cstdlib>
#include <thread>

#include <absl/flags/flag.h>
#include <absl/flags/parse.h>
#include <absl/flags/usage.h>
#include <absl/strings/numbers.h>
#include <absl/strings/str_cat.h>

#include "server/container_limits.h"
#include "storage/pg_connection.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50051", "gRPC listen address (env USER_SVC_LISTEN)");
ABSL_FLAG(std::string, database_url, "",
          "PostgreSQL URL or key=value conninfo (env DATABASE_URL); required");
ABSL_FLAG(std::string, database_read_url, "",
          "PostgreSQL replica for the read-only RPCs (env DATABASE_READ_URL); empty: the primary");
ABSL_FLAG(int, cq_threads, 0,
          "completion-queue threads; 0 = one per core the container may use (its cgroup CPU "
          "quota, rounded up) (env USER_SVC_CQ_THREADS)");
ABSL_FLAG(int, db_connections, 0,
          "PostgreSQL connections; 0 = two per core the container may use "
          "(env USER_SVC_DB_CONNECTIONS)");
ABSL_FLAG(int, db_scan_connections, 0,
          "of the PostgreSQL connections, how many may run searches and filtered listings at "
          "once (the others keep serving lookups); 0 = half, at least one "
          "(env USER_SVC_DB_SCAN_CONNECTIONS)");
ABSL_FLAG(int, max_pending_queries, 4096,
          "queries queued for the database before calls are shed with RESOURCE_EXHAUSTED "
          "(env USER_SVC_MAX_PENDING_QUERIES)");
ABSL_FLAG(int, sign_in_error_ms, 300,
          "VerifyPassword answers an error no sooner than this after the call began: above what "
          "the slowest imported password hash costs to check (env USER_SVC_SIGN_IN_ERROR_MS)");
ABSL_FLAG(int, cpu_pool_nice, 10,
          "how much higher the nice value of the threads that hash passwords (argon2id) is than "
          "the process's, 0 to 19: above 0 they yield the CPU to the threads that answer calls "
          "and stream events, so a burst of sign-ups does not hold up lookups "
          "(env USER_SVC_CPU_POOL_NICE)");
ABSL_FLAG(int, drain_seconds, 10,
          "on SIGTERM/SIGINT, how long calls in flight may take to finish "
          "(env USER_SVC_DRAIN_SECONDS)");
ABSL_FLAG(std::string, page_token_key, "",
          "secret that signs page tokens; the same on every replica (env USER_SVC_PAGE_TOKEN_KEY). "
          "Empty: a random key per process");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM certificate chain: serve TLS instead of plaintext (env USER_SVC_TLS_CERT)");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert (env USER_SVC_TLS_KEY)");
ABSL_FLAG(std::string, tls_client_ca, "",
          "PEM CA certificates: require client certificates signed by them, i.e. mutual TLS "
          "(env USER_SVC_TLS_CLIENT_CA)");
ABSL_FLAG(std::string, metrics_listen, "",
          "serve Prometheus metrics at http://<this>/metrics, e.g. 0.0.0.0:9090; empty: off "
          "(env USER_SVC_METRICS_LISTEN)");
ABSL_FLAG(std::string, auth_jwks_file, "",
          "JSON Web Key Set whose keys sign callers' bearer tokens (RS256/384/512, ES256/384); "
          "read again when the file changes. Empty: tokens are not checked "
          "(env USER_SVC_AUTH_JWKS_FILE)");
ABSL_FLAG(std::string, auth_issuer, "",
          "the \"iss\" every token must carry (env USER_SVC_AUTH_ISSUER)");
ABSL_FLAG(std::string, auth_audience, "",
          "the \"aud\" every token must hold (env USER_SVC_AUTH_AUDIENCE)");
ABSL_FLAG(std::string, auth_policy_file, "",
          "JSON map of client-certificate identities (URI SAN or CN) to scopes, read again when "
          "it changes; needs --tls_client_ca (env USER_SVC_AUTH_POLICY_FILE)");
ABSL_FLAG(std::string, rate_limit, "0",
          "requests per second per caller, and optionally \":BURST\" (e.g. 200:400); callers "
          "are told apart by identity, by peer address when nothing is authenticated. 0: off "
          "(env USER_SVC_RATE_LIMIT)");
ABSL_FLAG(bool, reflection, true, "serve gRPC server reflection (env USER_SVC_REFLECTION)");
ABSL_FLAG(bool, watch_include_tokens, false,
          "WatchUserEvents keeps the raw verification and reset tokens in payloads, for callers "
          "with user.events.tokens when callers are authenticated (env "
          "USER_SVC_WATCH_INCLUDE_TOKENS)");
ABSL_FLAG(int64_t, user_cache_bytes, int64_t{64} << 20,
          "bytes of users GetUser and GetUserByEmail may answer from memory; 0: no cache. Not "
          "used with --database_read_url (env USER_SVC_USER_CACHE_BYTES)");
ABSL_FLAG(int, grpc_memory_mb, 0,
          "memory gRPC may hold for connections and requests in flight before it stops reading "
          "(a resource quota); 0 = a quarter of the container's memory limit, or 512 without one "
          "(env USER_SVC_GRPC_MEMORY_MB)");
ABSL_FLAG(std::string, log_level, "info", "debug, info, warning or error (env USER_SVC_LOG_LEVEL)");

namespace usersvc::server {
namespace {

// Environment values become the flags' defaults, so the command line still wins.
absl::Status ApplyEnvironment() {
  auto env = [](const char* name) -> const char* {
    const char* value = std::getenv(name);
    return value != nullptr && *value != '\0' ? value : nullptr;
  };
  auto set_int = [&](absl::Flag<int>& flag, const char* name) -> absl::Status {
    if (const char* value = env(name)) {
      int parsed = 0;
      if (!absl::SimpleAtoi(value, &parsed)) {
        return absl::InvalidArgumentError(absl::StrCat(name, ": not an integer"));
      }
      absl::SetFlag(&flag, parsed);
    }
    return absl::OkStatus();
  };
  if (const char* value = env("USER_SVC_LISTEN")) absl::SetFlag(&FLAGS_listen, value);
  if (const char* value = env("DATABASE_URL")) absl::SetFlag(&FLAGS_database_url, value);
  if (const char* value = env("DATABASE_READ_URL")) {
    absl::SetFlag(&FLAGS_database_read_url, value);
  }
  if (const char* value = env("USER_SVC_LOG_LEVEL")) absl::SetFlag(&FLAGS_log_level, value);
  if (const char* value = env("USER_SVC_PAGE_TOKEN_KEY")) {
    absl::SetFlag(&FLAGS_page_token_key, value);
  }
  if (const char* value = env("USER_SVC_METRICS_LISTEN")) {
    absl::SetFlag(&FLAGS_metrics_listen, value);
  }
  if (const char* value = env("USER_SVC_TLS_CERT")) absl::SetFlag(&FLAGS_tls_cert, value);
  if (const char* value = env("USER_SVC_TLS_KEY")) absl::SetFlag(&FLAGS_tls_key, value);
  if (const char* value = env("USER_SVC_TLS_CLIENT_CA")) absl::SetFlag(&FLAGS_tls_client_ca, value);
  if (const char* value = env("USER_SVC_AUTH_JWKS_FILE")) {
    absl::SetFlag(&FLAGS_auth_jwks_file, value);
  }
  if (const char* value = env("USER_SVC_AUTH_ISSUER")) absl::SetFlag(&FLAGS_auth_issuer, value);
  if (const char* value = env("USER_SVC_AUTH_AUDIENCE")) {
    absl::SetFlag(&FLAGS_auth_audience, value);
  }
  if (const char* value = env("USER_SVC_AUTH_POLICY_FILE")) {
    absl::SetFlag(&FLAGS_auth_policy_file, value);
  }
  if (const char* value = env("USER_SVC_RATE_LIMIT")) absl::SetFlag(&FLAGS_rate_limit, value);
  if (const char* value = env("USER_SVC_REFLECTION")) {
    bool enabled = true;
    if (!absl::SimpleAtob(value, &enabled)) {
      return absl::InvalidArgumentError("USER_SVC_REFLECTION: not true or false");
    }
    absl::SetFlag(&FLAGS_reflection, enabled);
  }
  if (const char* value = env("USER_SVC_WATCH_INCLUDE_TOKENS")) {
    bool enabled = false;
    if (!absl::SimpleAtob(value, &enabled)) {
      return absl::InvalidArgumentError("USER_SVC_WATCH_INCLUDE_TOKENS: not true or false");
    }
    absl::SetFlag(&FLAGS_watch_include_tokens, enabled);
  }
  if (const char* value = env("USER_SVC_USER_CACHE_BYTES")) {
    int64_t bytes = 0;
    if (!absl::SimpleAtoi(value, &bytes)) {
      return absl::InvalidArgumentError("USER_SVC_USER_CACHE_BYTES: not an integer");
    }
    absl::SetFlag(&FLAGS_user_cache_bytes, bytes);
  }
  for (auto status : {set_int(FLAGS_cq_threads, "USER_SVC_CQ_THREADS"),
                      set_int(FLAGS_db_connections, "USER_SVC_DB_CONNECTIONS"),
                      set_int(FLAGS_db_scan_connections, "USER_SVC_DB_SCAN_CONNECTIONS"),
                      set_int(FLAGS_max_pending_queries, "USER_SVC_MAX_PENDING_QUERIES"),
                      set_int(FLAGS_drain_seconds, "USER_SVC_DRAIN_SECONDS"),
                      set_int(FLAGS_sign_in_error_ms, "USER_SVC_SIGN_IN_ERROR_MS"),
                      set_int(FLAGS_cpu_pool_nice, "USER_SVC_CPU_POOL_NICE"),
                      set_int(FLAGS_grpc_memory_mb, "USER_SVC_GRPC_MEMORY_MB")}) {
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Config> LoadConfig(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "usersvc: the gRPC User Service.\n"
      "  usersvc [flags]          serve (applies pending migrations first)\n"
      "  usersvc migrate [flags]  apply pending migrations and exit");
  if (auto status = ApplyEnvironment(); !status.ok()) return status;
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);

  Config config;
  config.listen = absl::GetFlag(FLAGS_listen);
  config.database_url = absl::GetFlag(FLAGS_database_url);
  config.database_read_url = absl::GetFlag(FLAGS_database_read_url);
  const ContainerLimits limits = ThisContainerLimits();
  const int cores = limits.cores;
  config.cq_threads = absl::GetFlag(FLAGS_cq_threads);
  if (config.cq_threads == 0) config.cq_threads = cores;
  config.db_connections = absl::GetFlag(FLAGS_db_connections);
  if (config.db_connections == 0) config.db_connections = 2 * cores;
  config.db_scan_connections = absl::GetFlag(FLAGS_db_scan_connections);
  if (config.db_scan_connections == 0) {
    config.db_scan_connections = std::max(1, config.db_connections / 2);
  }
  config.max_pending_queries = absl::GetFlag(FLAGS_max_pending_queries);
  config.drain_seconds = absl::GetFlag(FLAGS_drain_seconds);
  config.sign_in_error_floor = absl::Milliseconds(absl::GetFlag(FLAGS_sign_in_error_ms));
  config.cpu_pool_nice = absl::GetFlag(FLAGS_cpu_pool_nice);
  config.page_token_key = absl::GetFlag(FLAGS_page_token_key);
  config.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  config.tls = {absl::GetFlag(FLAGS_tls_cert), absl::GetFlag(FLAGS_tls_key),
                absl::GetFlag(FLAGS_tls_client_ca)};
  config.access.jwks_file = absl::GetFlag(FLAGS_auth_jwks_file);
  config.access.jwt.issuer = absl::GetFlag(FLAGS_auth_issuer);
  config.access.jwt.audience = absl::GetFlag(FLAGS_auth_audience);
  config.access.policy_file = absl::GetFlag(FLAGS_auth_policy_file);
  config.access.client_certificates = !config.tls.client_ca.empty();
  absl::StatusOr<auth::RateLimit> rate_limit =
      auth::ParseRateLimit(absl::GetFlag(FLAGS_rate_limit));
  if (!rate_limit.ok()) return rate_limit.status();
  config.access.rate_limit = *rate_limit;
  config.reflection = absl::GetFlag(FLAGS_reflection);
  config.watch_include_tokens = absl::GetFlag(FLAGS_watch_include_tokens);
  const int64_t user_cache_bytes = absl::GetFlag(FLAGS_user_cache_bytes);
  if (user_cache_bytes < 0) {
    return absl::InvalidArgumentError("--user_cache_bytes: must not be negative");
  }
  config.user_cache_bytes = static_cast<size_t>(user_cache_bytes);
  const int grpc_memory_mb = absl::GetFlag(FLAGS_grpc_memory_mb);
  if (grpc_memory_mb < 0)
    return absl::InvalidArgumentError("--grpc_memory_mb: must not be negative");
  config.grpc_memory_bytes =
      grpc_memory_mb > 0
          ? static_cast<size_t>(grpc_memory_mb) << 20
          : static_cast<size_t>(limits.memory_bytes.value_or(int64_t{2048} << 20) / 4);
  for (size_t i = 1; i < positional.size(); ++i) config.arguments.emplace_back(positional[i]);

  if (config.database_url.empty()) {
    return absl::InvalidArgumentError("--database_url (or DATABASE_URL) is required");
  }
  if (config.cq_threads < 1 || config.cq_threads > 256) {
    return absl::InvalidArgumentError("--cq_threads: must be 1 to 256");
  }
  if (config.db_connections < 1 || config.db_connections > 1000) {
    return absl::InvalidArgumentError("--db_connections: must be 1 to 1000");
  }
  if (config.db_scan_connections < 1 || config.db_scan_connections > config.db_connections) {
    return absl::InvalidArgumentError("--db_scan_connections: must be 1 to --db_connections");
  }
  if (config.max_pending_queries < 1) {
    return absl::InvalidArgumentError("--max_pending_queries: must be positive");
  }
  if (config.sign_in_error_floor < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--sign_in_error_ms: must not be negative");
  }
  if (config.cpu_pool_nice < 0 || config.cpu_pool_nice > 19) {
    return absl::InvalidArgumentError("--cpu_pool_nice: must be 0 to 19");
  }
  if (config.drain_seconds < 0) {
    return absl::InvalidArgumentError("--drain_seconds: must not be negative");
  }
  if (!ParseLogLevel(absl::GetFlag(FLAGS_log_level), &config.log_level)) {
    return absl::InvalidArgumentError("--log_level: must be debug, info, warning or error");
  }
  if (config.arguments.size() > 1 ||
      (config.arguments.size() == 1 && config.arguments[0] != "migrate")) {
    return absl::InvalidArgumentError("the only subcommand is 'migrate'");
  }
  return config;
}

void LogConfig(const Config& config) {
  Log(LogLevel::kInfo, "configuration",
      {{"listen", config.listen},
       {"database", storage::DescribeConninfo(config.database_url)},
       {"database_read", config.database_read_url.empty()
                             ? std::string("(the primary)")
                             : storage::DescribeConninfo(config.database_read_url)},
       {"cq_threads", config.cq_threads},
       {"db_connections", config.db_connections},
       {"db_scan_connections", config.db_scan_connections},
       {"max_pending_queries", config.max_pending_queries},
       {"drain_seconds", config.drain_seconds},
       {"sign_in_error_ms", absl::ToInt64Milliseconds(config.sign_in_error_floor)},
       {"cpu_pool_nice", config.cpu_pool_nice},
       {"metrics_listen", config.metrics_listen},
       {"auth", config.access.jwks_file.empty() && config.access.policy_file.empty() ? "off"
                : config.access.policy_file.empty()                                  ? "jwt"
                : config.access.jwks_file.empty() ? "client certificates"
                                                  : "jwt and client certificates"},
       {"rate_limit", config.access.rate_limit.per_second},
       {"reflection", config.reflection ? "on" : "off"},
       {"watch_include_tokens", config.watch_include_tokens ? "on" : "off"},
       {"user_cache_bytes", config.database_read_url.empty()
                                ? static_cast<int64_t>(config.user_cache_bytes)
                                : int64_t{0}},
       {"grpc_memory_mb", static_cast<int64_t>(config.grpc_memory_bytes >> 20)},
       {"tls", config.tls.cert.empty()        ? "off"
               : config.tls.client_ca.empty() ? "on"
                                              : "mutual"}});
}

}  // namespace usersvc::server
