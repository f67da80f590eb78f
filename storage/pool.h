#pragma once

#include <atomic>
#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <absl/functional/any_invocable.h>
#include <absl/time/time.h>

#include "storage/conninfo.h"
#include "storage/host_resolver.h"
#include "storage/pg_connection.h"
#include "storage/result.h"
#include "storage/statement.h"
#include "storage/statement_timeout.h"
#include "storage/store.h"

namespace usersvc::storage {

struct PoolOptions {
  std::string conninfo;
  std::string application_name = "usersvc";
  /// The pool thread's name (see storage/thread_name.h).
  std::string thread_name = "db";
  int connections = 4;
  /// Queries waiting for a connection; past this Execute refuses with RESOURCE_EXHAUSTED.
  size_t max_pending = 4096;
  /// Queries pipelined on one connection at once.
  size_t max_in_flight_per_connection = 64;
  /// Connections that may carry scans (Statement::scans) at once; 0: half of them, at least one.
  /// A scan waits in the queue until one of these has room for it (two scans each: one running,
  /// one sent behind it to hide the round trip), and other queries keep off a connection with a
  /// scan on it while another has room, so searches cannot hold up lookups.
  int scan_connections = 0;
  /// Prepared on every connection, again after each reconnect (normally RegisteredStatements()).
  std::vector<Statement> statements;
  /// Bounds statements whose caller set no deadline (see storage/statement_timeout.h).
  absl::Duration max_statement_time = absl::Seconds(60);
  /// How long one host may take to accept a connection before the next is tried; the
  /// conninfo's connect_timeout, when it has one, wins.
  absl::Duration connect_timeout = absl::Seconds(5);
  /// A connection with nothing to do is pinged this often, so that a silent link is found even
  /// without traffic...
  absl::Duration ping_interval = absl::Seconds(1);
  /// ...and declared dead when a ping, or any query past the time by which PostgreSQL would have
  /// answered or cancelled it, has had no answer for this long.
  absl::Duration answer_grace = absl::Milliseconds(750);
  /// A connection whose oldest query has waited this long gets no new query while another has
  /// none waiting so long: one statement stuck on a row lock holds up only what was already
  /// pipelined behind it.
  absl::Duration stall_after = absl::Milliseconds(50);
  TcpLiveness tcp;
  /// Called on the pool thread for each caller's query: how long it waited for a connection when
  /// it is sent, and how long it took from then to its result. Must not block.
  absl::AnyInvocable<void(absl::Duration)> on_queue_wait;
  absl::AnyInvocable<void(absl::Duration)> on_query_done;
  /// Called on the pool thread when the first connection becomes ready and when the last one is
  /// lost (true, false), so health can follow at once. Must not block.
  absl::AnyInvocable<void(bool any_ready)> on_availability;
  /// A channel the pool's first connection LISTENs on (a pool kept for an event feed); empty:
  /// none. on_listening(true) once LISTEN has taken effect (every notification from then on
  /// arrives), on_listening(false) when that connection is lost (notifications may have been
  /// missed until the next true); on_notification with each notification's payload, in the
  /// order they came. On the pool thread; they must not block.
  std::string listen_channel;
  absl::AnyInvocable<void(bool listening)> on_listening;
  absl::AnyInvocable<void(std::string_view payload)> on_notification;
  absl::Duration max_backoff = absl::Seconds(2);
  /// How host names are looked up, on a resolver thread per name ("<thread_name>-dns"):
  /// getaddrinfo, or a slow stand-in in tests.
  HostResolver::Lookup resolve = ResolveHost;
};

/// An event-driven PostgreSQL pool: one thread runs an epoll loop over non-blocking libpq
/// connections in pipeline mode, so a few connections carry many queries at once.
class Pool final : public Store {
 public:
  explicit Pool(PoolOptions options);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  /// Starts the pool thread, which opens the connections in the background.
  void Start();
  /// Fails every queued query with UNAVAILABLE and every query in flight as its connection's
  /// loss would (see Statement::read_only), closes the connections and joins.
  void Stop();

  // Store: queries run on the pool thread; `done` too. ExecuteDeferred's parameters are made
  // on the pool thread just before the query is sent.
  void Execute(const Statement& statement, Params params, absl::Time deadline,
               QueryCallback done) override;
  void ExecuteFirst(const Statement& statement, Params params, absl::Time deadline,
                    QueryCallback done) override;
  void ExecuteDeferred(const Statement& statement, ParamsAtSend params_at_send, absl::Time deadline,
                       QueryCallback done) override;
  int connections() const override { return options_.connections; }
  int ready_connections() const override { return ready_count_.load(std::memory_order_relaxed); }
  /// Connections with queries in flight, as of the pool thread's last turn (at most 20 ms ago).
  int busy_connections() const { return busy_count_.load(std::memory_order_relaxed); }
  size_t queued() const;

 private:
  struct Pending {
    const Statement* statement;
    Params params;
    ParamsAtSend params_at_send;  // when set, replaces params at send time
    absl::Time deadline;
    QueryCallback done;
    absl::Time enqueued = absl::Now();
  };
  struct Slot;
  struct Lookup {  // a host name looked up for a slot's connect attempt
    int slot;
    uint64_t attempt;
    absl::StatusOr<std::vector<std::string>> addresses;
  };

  void Enqueue(Pending pending, bool first);
  void Run();
  void BeginConnect(Slot& slot);
  void AdvanceConnect(Slot& slot);
  void StartConnect(Slot& slot);
  void HandleLookups(std::vector<Lookup> done);
  /// "host:port", with the address tried for a host name, for logs.
  std::string Where(const Slot& slot) const;
  void OnConnected(Slot& slot);
  /// Prepares and sends LISTEN on `slot`; false when libpq refused.
  bool SendListen(Slot& slot);
  void HandleEvents(Slot& slot, uint32_t events);
  /// Hands what NOTIFY brought to options_.on_notification.
  void TakeNotifications(Slot& slot);
  void ReadResults(Slot& slot);
  void Dispatch();
  void DispatchScans(absl::Time now, std::vector<Slot*>& touched);
  /// Sends `pending` on `target` (nullptr: no connection is left, and it fails).
  void Send(Slot* target, Pending& pending, absl::Time now, std::vector<Slot*>& touched);
  Slot* PickConnection(absl::Time now, bool* wait);
  Slot* PickScanConnection() const;
  bool SendOwn(Slot& slot, const Statement& statement, Params params, absl::Duration answer_within);
  void FlushAndWatch(Slot& slot);
  void Watch(Slot& slot, bool want_write);
  void FailConnection(Slot& slot, std::string_view why);
  void CheckLiveness(absl::Time now);
  void ExpireQueued(absl::Time now);
  void RetryDueConnections(absl::Time now);
  int WaitTimeoutMs(absl::Time now) const;
  void Wake();
  bool SendStatementTimeout(Slot& slot, absl::Duration remaining);
  void SetReadyCount(int delta);

  PoolOptions options_;  // the hooks are called, so not const
  const int scan_connections_;
  const StatementTimeout statement_timeout_;
  const std::string listen_sql_;        // LISTEN on options_.listen_channel
  const Statement listen_statement_;    // of listen_sql_
  std::vector<ConnectTarget> targets_;  // one per host of the conninfo, tried in turn
  absl::Status targets_error_;          // the conninfo could not be split: every call fails
  absl::Duration connect_timeout_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::vector<std::unique_ptr<Slot>> slots_;  // owned by the pool thread once started
  std::thread thread_;
  /// One per host name among the targets; their answers come back through lookups_done_.
  std::map<std::string, std::unique_ptr<HostResolver>> resolvers_;
  std::atomic<int> ready_count_{0};
  std::atomic<int> busy_count_{0};

  mutable std::mutex mutex_;  // guards the fields below
  std::deque<Pending> queue_;
  std::deque<Pending> scan_queue_;  // scans, sent as the scan connections have room
  std::vector<Lookup> lookups_done_;
  bool started_ = false;  // until Start, the schema may not exist yet: refuse
  bool stopping_ = false;
  bool database_down_ = false;  // every connection failed and none is ready: refuse at once
};

}  // namespace usersvc::storage
