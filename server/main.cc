// usersvc: the gRPC User Service. Starts the completion-queue server at once (NOT_SERVING until
// the database answers), applies migrations, opens the pool, and drains on SIGTERM/SIGINT.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <optional>
#include <thread>

#include <absl/synchronization/mutex.h>
#include <absl/time/clock.h>
#include <fmt/format.h>

#include "base/log.h"
#include "callbacks/domain/change_notifications.h"
#include "callbacks/domain/cpu_pool.h"
#include "callbacks/domain/crypto.h"
#include "callbacks/domain/event_feed.h"
#include "callbacks/domain/health_monitor.h"
#include "callbacks/domain/user_cache.h"
#include "callbacks/handlers/health.h"
#include "importer/django_import.h"
#include "server/config.h"
#include "server/server.h"
#include "storage/migrations.h"
#include "storage/pool.h"
#include "storage/queries/events.h"
#include "storage/query.h"
#include "storage/thread_name.h"

namespace {

using namespace usersvc;  // NOLINT: main wires every layer together

constexpr char kVersion[] = "0.1.0";
// argon2id work waiting per CPU thread before calls are shed with RESOURCE_EXHAUSTED: about a
// second's worth (bench/run measures one run), beyond which most callers' deadlines would pass
// in the queue anyway.
constexpr size_t kQueuedHashesPerThread = 32;

/// Blocks SIGTERM and SIGINT in every thread (call before any is started), so that only
/// WaitForSignal sees them.
sigset_t BlockShutdownSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return signals;
}

/// True if a shutdown signal arrived within `timeout`.
bool WaitForSignal(const sigset_t& signals, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    const timespec wait = absl::ToTimespec(std::max(deadline - absl::Now(), absl::ZeroDuration()));
    if (sigtimedwait(&signals, nullptr, &wait) > 0) return true;
    // EINTR (a stop and continue, a debugger or profiler attaching) is not a shutdown signal.
    if (errno != EINTR) return false;
  }
}

int Serve(const server::Config& config, const sigset_t& signals) {
  auto credentials = server::MakeServerCredentials(config.tls);
  if (!credentials.ok()) {
    Log(LogLevel::kError, "cannot start", {{"error", credentials.status().message()}});
    return 2;
  }
  server::Metrics metrics;
  auto access = server::AccessControl::Create(config.access, metrics.registry());
  if (!access.ok()) {
    Log(LogLevel::kError, "cannot start", {{"error", access.status().message()}});
    return 2;
  }
  if (!(*access)->authenticates()) {
    Log(LogLevel::kWarning,
        "callers are not authenticated: anyone who reaches the port may call every RPC "
        "(see --auth_jwks_file, --auth_policy_file)");
  }
  if (!config.metrics_listen.empty()) {
    if (auto status = metrics.Serve(config.metrics_listen); !status.ok()) {
      Log(LogLevel::kError, "cannot start", {{"error", status.message()}});
      return 2;
    }
  }
  // grpc.health.v1 and HealthCheck read the monitor themselves; this only logs the flips.
  callbacks::HealthMonitor health(
      [](bool serving) { Log(LogLevel::kInfo, serving ? "serving" : "not serving"); });
  // Set once the handlers' services exist; read on the primary pool's thread.
  std::atomic<callbacks::Services*> probe_target = nullptr;

  auto pool_options = [&](const std::string& role, const std::string& url) {
    storage::PoolOptions options;
    options.conninfo = url;
    options.application_name = "usersvc";
    options.thread_name = "db-" + role;
    options.connections = config.db_connections;
    options.scan_connections = config.db_scan_connections;
    options.max_pending = static_cast<size_t>(config.max_pending_queries);
    options.statements = storage::RegisteredStatements();
    metrics.InstrumentPool(role, options);
    return options;
  };
  storage::PoolOptions primary_options = pool_options("primary", config.database_url);
  // Health follows the primary's connections at once: NOT_SERVING when the last one is lost, and
  // a probe as soon as one is back, so SERVING does not wait for the next periodic one.
  primary_options.on_availability = [&health, &probe_target](bool any_ready) {
    health.RecordConnections(any_ready);
    if (callbacks::Services* services = probe_target.load(); any_ready && services != nullptr) {
      callbacks::ProbeDatabase(*services);
    }
  };
  storage::Pool pool(std::move(primary_options));
  metrics.WatchPool("primary", pool);
  // Read-only RPCs go to a replica when one is configured (see callbacks/handlers/services.h).
  std::optional<storage::Pool> replica_pool;
  if (!config.database_read_url.empty()) {
    replica_pool.emplace(pool_options("replica", config.database_read_url));
    metrics.WatchPool("replica", *replica_pool);
  }
  storage::Pool& read_pool = replica_pool ? *replica_pool : pool;
  // The lookup cache, kept true by the change notifications below. Not with a replica: a change
  // is heard from the primary before the replica has it, and a refill from there would keep the
  // old row for as long as nothing else changed the user.
  if (replica_pool && config.user_cache_bytes > 0) {
    Log(LogLevel::kInfo, "no lookup cache with --database_read_url");
  }
  callbacks::UserCache user_cache(replica_pool ? 0 : config.user_cache_bytes);
  // The primary's change notifications, on a connection of their own: the outbox feed reads
  // what each announces (its reads never queue behind calls, and its fan-out to every stream
  // runs on this pool's thread), and the cache forgets the users that changed. While it does not
  // listen, the feed stands still and the cache is unused.
  callbacks::EventFeed* feed_target = nullptr;  // set before the pool starts
  storage::PoolOptions events_options = pool_options("events", config.database_url);
  events_options.application_name = "usersvc-events";  // for pg_stat_activity
  events_options.connections = 1;
  events_options.scan_connections = 1;
  events_options.statements = {storage::queries::kEventFeed.statement()};
  events_options.listen_channel = std::string(callbacks::kChangesChannel);
  events_options.on_listening = [&feed_target, &user_cache](bool listening) {
    user_cache.SetListening(listening);
    feed_target->OnListening(listening);
  };
  events_options.on_notification = [&feed_target, &user_cache](std::string_view payload) {
    callbacks::DispatchChange(payload, *feed_target, user_cache);
  };
  storage::Pool events_pool(std::move(events_options));
  callbacks::EventFeed feed(events_pool);
  feed_target = &feed;
  callbacks::CpuPool cpu(config.cq_threads, config.cq_threads * kQueuedHashesPerThread,
                         config.cpu_pool_nice);

  if (config.page_token_key.empty()) {
    Log(LogLevel::kWarning,
        "no --page_token_key: page tokens will not survive a restart or work across replicas");
  }
  const callbacks::PageTokens page_tokens(config.page_token_key);
  callbacks::UserLookups lookups(read_pool, user_cache);
  metrics.WatchUserCache(user_cache);
  callbacks::Services services{pool,
                               read_pool,
                               cpu,
                               health,
                               page_tokens,
                               lookups,
                               user_cache,
                               kVersion,
                               absl::Now(),
                               &feed,
                               config.watch_include_tokens};
  probe_target = &services;

  server::ServerOptions server_options;
  server_options.listen = config.listen;
  server_options.cq_threads = config.cq_threads;
  server_options.credentials = *std::move(credentials);
  server_options.metrics = &metrics;
  server_options.access = access->get();
  server_options.reflection = config.reflection;
  server_options.memory_quota_bytes = config.grpc_memory_bytes;
  server_options.sign_in_error_floor = config.sign_in_error_floor;
  server::Server server(server_options, services);
  if (auto status = server.Start(); !status.ok()) {
    Log(LogLevel::kError, "cannot start", {{"error", status.message()}});
    return 1;
  }
  Log(LogLevel::kInfo, "listening", {{"address", config.listen}, {"port", server.port()}});

  // Until migrations have run the pool stays closed and every call answers UNAVAILABLE; a
  // database that is down at start is waited for, not fatal.
  bool stop = false;
  for (bool logged = false; !stop; stop = WaitForSignal(signals, absl::Seconds(1))) {
    absl::Status migrated = storage::Migrate(config.database_url);
    if (migrated.ok()) break;
    if (!logged)
      Log(LogLevel::kWarning, "migrations not applied yet", {{"error", migrated.message()}});
    logged = true;
  }
  if (!stop) {
    pool.Start();
    if (replica_pool) replica_pool->Start();
    events_pool.Start();
    callbacks::ProbeDatabase(services);  // answered once the first connection is up
    while (!stop) stop = WaitForSignal(signals, absl::InfiniteDuration());
  }

  Log(LogLevel::kInfo, "shutting down", {{"drain_seconds", config.drain_seconds}});
  // A second signal during the drain ends the process at once.
  std::thread second_signal([&signals] {
    NameThisThread("second-signal");
    int received = 0;
    sigwait(&signals, &received);
    Log(LogLevel::kWarning, "second signal: exiting without draining");
    _exit(1);
  });
  second_signal.detach();
  health.SetDraining();
  server.Shutdown(absl::Now() + absl::Seconds(config.drain_seconds), [&] {
    // What still holds a call: argon2id work queued on the CPU pool and queries at the
    // database. Each answers its calls as it stops (UNAVAILABLE; UNKNOWN for a change already
    // sent), so no call is left to finish after the queues shut down.
    // The pools first: a query answered meanwhile may still hand argon2id work to the CPU pool,
    // which then abandons it (UNAVAILABLE) with everything else it has queued.
    metrics.StopServing();  // no scrape may read the pools once they stop
    pool.Stop();
    if (replica_pool) replica_pool->Stop();
    events_pool.Stop();
    cpu.Stop();
  });
  Log(LogLevel::kInfo, "stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
#ifdef NDEBUG
  // gRPC's locks are absl::Mutex, and Debian's abseil checks the order of every lock taken for
  // deadlocks (its debug default): about 2% of a call's CPU in a profile of HealthCheck load.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
#endif
  // A tool with its own flags, run before the server's are parsed.
  if (argc > 1 && std::string_view(argv[1]) == "import-django") {
    return importer::ImportDjangoCommand(argc - 1, argv + 1);
  }
  const sigset_t signals = BlockShutdownSignals();
  absl::StatusOr<server::Config> config = server::LoadConfig(argc, argv);
  if (!config.ok()) {
    fmt::print(stderr, "usersvc: {}\n", std::string(config.status().message()));
    return 2;
  }
  SetLogLevel(config->log_level);
  server::LogConfig(*config);
  if (!callbacks::InitCrypto()) {
    Log(LogLevel::kError, "libsodium cannot be initialised");
    return 1;
  }
  if (!config->arguments.empty()) {  // "migrate"
    absl::Status status = storage::Migrate(config->database_url);
    if (!status.ok()) Log(LogLevel::kError, "migration failed", {{"error", status.message()}});
    return status.ok() ? 0 : 1;
  }
  return Serve(*config, signals);
}
