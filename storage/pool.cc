#include "storage/pool.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <utility>

#include <absl/random/random.h>
#include <absl/time/clock.h>

#include "base/log.h"
#include "storage/sqlstate.h"
#include "storage/thread_name.h"

namespace usersvc::storage {
namespace {

// Results of one statement come as: its result, a null marking the end of that statement, and the
// PGRES_PIPELINE_SYNC of the sync point sent right after it.
enum class Phase { kAwaitResult, kAwaitEnd, kAwaitSync };

Result ToResult(PgResultPtr raw) {
  switch (PQresultStatus(raw.get())) {
    case PGRES_TUPLES_OK:
    case PGRES_COMMAND_OK:
      return Result::Rows(std::move(raw));
    case PGRES_FATAL_ERROR:
      return Result::FromPgError(*raw);
    default:
      return Result::Failure(absl::InternalError("internal database error"));
  }
}

// Prepared on every connection ahead of the callers' statements.
constexpr Statement kSetStatementTimeout{"usersvc_set_statement_timeout",
                                         "SELECT set_config('statement_timeout', $1, false)"};
// Sent on a connection that has had nothing to do for a while, to find a silent link.
constexpr Statement kPing{"usersvc_ping", "SELECT 1", /*read_only=*/true};

/// How long PostgreSQL may take over a ping or a set_config before, with the grace on top and
/// nothing else heard, the link counts as silent: a stall of a second or so (a checkpoint, a
/// starved CPU) is not one.
constexpr absl::Duration kOwnStatementBudget = absl::Milliseconds(500);

/// Scans pipelined on one connection: the one PostgreSQL works on and the next, sent so that it
/// starts without a round trip. More would wait on the connection instead of in the queue, where
/// they can still expire.
constexpr size_t kScansPerConnection = 2;

int ScanConnections(const PoolOptions& options) {
  if (options.scan_connections > 0) return std::min(options.scan_connections, options.connections);
  return std::max(1, options.connections / 2);
}

/// What a caller whose query was lost with its connection is told.
absl::Status LostWithConnection(const Statement& statement) {
  return statement.read_only ? ConnectionLost() : OutcomeUnknown();
}

void Complete(QueryCallback& done, Result result) {
  if (done) std::move(done)(std::move(result));
}

}  // namespace

/// One connection and the queries pipelined on it, in the order they were sent.
struct Pool::Slot {
  enum class State { kWaitingToRetry, kResolving, kConnecting, kReady };
  struct InFlight {
    const Statement* statement;
    QueryCallback done;  // empty for the pool's own statements (PREPAREs, pings, timeouts)
    Phase phase = Phase::kAwaitResult;
    std::optional<Result> result;
    absl::Time sent = absl::Now();
    /// How long PostgreSQL may work on it once it is at the head of the pipeline before an answer
    /// (rows, an error, or its own statement_timeout cancelling it) is overdue.
    absl::Duration answer_within;
  };

  int index = 0;
  PgConnection conn;
  State state = State::kWaitingToRetry;
  std::deque<InFlight> in_flight;
  size_t scans_in_flight = 0;  // of in_flight, those whose statement scans
  /// When the query now at the head of `in_flight` got there (sent, or the one before answered).
  absl::Time head_since = absl::InfinitePast();
  /// Bytes last arrived, or a statement was last sent: a connection idle since is pinged.
  absl::Time last_received = absl::InfinitePast();
  absl::Time last_sent = absl::InfinitePast();
  /// The session's statement_timeout as of the last statement sent; std::nullopt until set.
  std::optional<int64_t> statement_timeout_ms;
  int watched_fd = -1;
  uint32_t watched_events = 0;
  int failures = 0;
  size_t target = 0;            // the host tried next (or connected to)
  size_t tried_this_round = 0;  // hosts that failed since the last success or backoff
  /// The addresses a host name of the current target resolved to, tried in turn, and the one
  /// tried now; empty for a target that needs no lookup.
  std::vector<std::string> addresses;
  size_t address = 0;
  /// Counts lookups, so that the answer to one this slot gave up on (timed out) is ignored.
  uint64_t lookup_attempt = 0;
  absl::Time retry_at = absl::InfinitePast();
  absl::Time connect_deadline = absl::InfiniteFuture();
  bool listening = false;  // LISTEN has taken effect on this connection

  void Push(InFlight query) {
    if (in_flight.empty()) head_since = query.sent;
    last_sent = query.sent;
    if (query.statement->scans) ++scans_in_flight;
    in_flight.push_back(std::move(query));
  }
  InFlight PopFront() {
    InFlight head = std::move(in_flight.front());
    in_flight.pop_front();
    if (head.statement->scans) --scans_in_flight;
    return head;
  }
};

Pool::Pool(PoolOptions options)
    : options_(std::move(options)),
      scan_connections_(ScanConnections(options_)),
      statement_timeout_(options_.max_statement_time),
      listen_sql_("LISTEN \"" + options_.listen_channel + "\""),
      listen_statement_{"usersvc_listen", listen_sql_, /*read_only=*/true},
      connect_timeout_(ConnectTimeoutOf(options_.conninfo, options_.connect_timeout)) {
  absl::StatusOr<std::vector<ConnectTarget>> targets =
      ConnectTargets(options_.conninfo, options_.tcp);
  if (targets.ok()) {
    targets_ = *std::move(targets);
  } else {
    targets_error_ = targets.status();
    Log(LogLevel::kError, "bad database URL", {{"error", targets_error_.message()}});
  }
  for (const ConnectTarget& target : targets_) {
    if (target.resolve_host.empty() || resolvers_.count(target.resolve_host) > 0) continue;
    resolvers_[target.resolve_host] = std::make_unique<HostResolver>(
        options_.thread_name + "-dns", target.resolve_host, target.port, options_.resolve);
  }
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.ptr = nullptr;  // the one non-connection descriptor
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &event);
  for (int i = 0; i < options_.connections; ++i) {
    slots_.push_back(std::make_unique<Slot>());
    slots_.back()->index = i;
    // Connections start on different hosts, so that a URL naming several replicas spreads them.
    if (!targets_.empty()) slots_.back()->target = static_cast<size_t>(i) % targets_.size();
  }
}

Pool::~Pool() {
  Stop();
  close(wake_fd_);
  close(epoll_fd_);
}

void Pool::Start() {
  {
    std::lock_guard lock(mutex_);
    started_ = true;
  }
  // A URL that cannot be split into hosts has nothing to connect to: every call is refused with
  // its error (Enqueue), and no thread runs.
  if (!targets_error_.ok()) return;
  thread_ = std::thread([this] { Run(); });
}

void Pool::Stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  Wake();
  if (thread_.joinable()) thread_.join();
  // Its answers would wake a pool that no longer listens: it goes before the pool's descriptors.
  resolvers_.clear();
}

size_t Pool::queued() const {
  std::lock_guard lock(mutex_);
  return queue_.size() + scan_queue_.size();
}

void Pool::Execute(const Statement& statement, Params params, absl::Time deadline,
                   QueryCallback done) {
  Enqueue({&statement, std::move(params), nullptr, deadline, std::move(done)}, /*first=*/false);
}

void Pool::ExecuteFirst(const Statement& statement, Params params, absl::Time deadline,
                        QueryCallback done) {
  Enqueue({&statement, std::move(params), nullptr, deadline, std::move(done)}, /*first=*/true);
}

void Pool::ExecuteDeferred(const Statement& statement, ParamsAtSend params_at_send,
                           absl::Time deadline, QueryCallback done) {
  Enqueue({&statement, {}, std::move(params_at_send), deadline, std::move(done)},
          /*first=*/false);
}

void Pool::Enqueue(Pending pending, bool first) {
  absl::Status refusal;
  bool was_empty = false;
  {
    std::lock_guard lock(mutex_);
    if (!targets_error_.ok()) {
      refusal = targets_error_;
    } else if (!started_ || stopping_ || database_down_) {
      refusal = ConnectionLost();
    } else if (!first && queue_.size() + scan_queue_.size() >= options_.max_pending) {
      refusal = absl::ResourceExhaustedError("server overloaded: too many pending queries");
    } else {
      std::deque<Pending>& queue = pending.statement->scans ? scan_queue_ : queue_;
      was_empty = queue.empty();
      if (first) {
        queue.push_front(std::move(pending));
      } else {
        queue.push_back(std::move(pending));
      }
    }
  }
  if (!refusal.ok()) {
    std::move(pending.done)(Result::Failure(std::move(refusal)));
    return;
  }
  // The pool thread drains the whole queue whenever it wakes (the scan queue as far as it can, and
  // again as each scan finishes), so only the first query into an empty queue needs to wake it.
  if (was_empty) Wake();
}

void Pool::Wake() {
  const uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof one);
}

void Pool::Run() {
  NameThisThread(options_.thread_name);
  for (auto& slot : slots_) BeginConnect(*slot);
  epoll_event events[64];
  absl::Time next_sweep = absl::InfinitePast();
  while (true) {
    const int n = epoll_wait(epoll_fd_, events, 64, WaitTimeoutMs(absl::Now()));
    for (int i = 0; i < n; ++i) {
      if (events[i].data.ptr == nullptr) {
        uint64_t count;
        (void)!read(wake_fd_, &count, sizeof count);
      } else {
        HandleEvents(*static_cast<Slot*>(events[i].data.ptr), events[i].events);
      }
    }
    std::vector<Lookup> lookups;
    {
      std::lock_guard lock(mutex_);  // taken once per wake for both
      if (stopping_) break;
      lookups.swap(lookups_done_);
    }
    if (!lookups.empty()) HandleLookups(std::move(lookups));
    const absl::Time now = absl::Now();
    RetryDueConnections(now);
    if (now >= next_sweep) {
      ExpireQueued(now);
      CheckLiveness(now);
      next_sweep = now + absl::Milliseconds(20);
    }
    Dispatch();
    busy_count_.store(
        static_cast<int>(std::count_if(slots_.begin(), slots_.end(),
                                       [](const auto& slot) { return !slot->in_flight.empty(); })),
        std::memory_order_relaxed);
  }

  std::deque<Pending> abandoned;
  {
    std::lock_guard lock(mutex_);
    abandoned.swap(queue_);
    for (auto& pending : scan_queue_) abandoned.push_back(std::move(pending));
    scan_queue_.clear();
  }
  for (auto& pending : abandoned) Complete(pending.done, Result::Failure(ConnectionLost()));
  for (auto& slot : slots_) {
    for (auto& query : slot->in_flight) {
      Complete(query.done, Result::Failure(LostWithConnection(*query.statement)));
    }
    slot->in_flight.clear();
    slot->conn.Close();
    if (slot->listening) {
      slot->listening = false;
      if (options_.on_listening) options_.on_listening(false);
    }
  }
  ready_count_.store(0, std::memory_order_relaxed);
}

int Pool::WaitTimeoutMs(absl::Time now) const {
  // Wake at least every 20 ms to drop expired queries and advance connection timers.
  absl::Duration wait = absl::Milliseconds(20);
  for (const auto& slot : slots_) {
    if (slot->state == Slot::State::kWaitingToRetry) wait = std::min(wait, slot->retry_at - now);
  }
  return static_cast<int>(std::max<int64_t>(0, absl::ToInt64Milliseconds(wait)));
}

void Pool::BeginConnect(Slot& slot) {
  slot.connect_deadline = absl::Now() + connect_timeout_;
  const ConnectTarget& target = targets_[slot.target];
  if (target.resolve_host.empty() || slot.address > 0) return StartConnect(slot);
  // A host name: looked up afresh for each round through its addresses (they move, as in a
  // failover by DNS), on its resolver's thread; the answer comes back through HandleLookups. The
  // lookup shares the connect timeout with the first address's connect.
  slot.state = Slot::State::kResolving;
  slot.addresses.clear();
  const uint64_t attempt = ++slot.lookup_attempt;
  resolvers_.at(target.resolve_host)->Resolve([this, index = slot.index, attempt](auto addresses) {
    {
      std::lock_guard lock(mutex_);
      lookups_done_.push_back({index, attempt, std::move(addresses)});
    }
    Wake();
  });
}

void Pool::HandleLookups(std::vector<Lookup> done) {
  for (Lookup& lookup : done) {
    Slot& slot = *slots_[lookup.slot];
    if (slot.state != Slot::State::kResolving || slot.lookup_attempt != lookup.attempt) continue;
    if (!lookup.addresses.ok()) {
      FailConnection(slot, std::string(lookup.addresses.status().message()));
      continue;
    }
    slot.addresses = *std::move(lookup.addresses);
    slot.address = 0;
    StartConnect(slot);
  }
}

std::string Pool::Where(const Slot& slot) const {
  const std::string& where = targets_[slot.target].where;
  if (slot.address >= slot.addresses.size()) return where;
  return where + " (" + slot.addresses[slot.address] + ")";
}

void Pool::StartConnect(Slot& slot) {
  slot.state = Slot::State::kConnecting;
  std::string conninfo = targets_[slot.target].conninfo;
  // host= stays, for TLS's name check and the password file; libpq connects to hostaddr=.
  if (slot.address < slot.addresses.size()) {
    conninfo += "hostaddr=" + slot.addresses[slot.address];
  }
  if (slot.conn.Start(conninfo, options_.application_name.c_str()) ==
      PgConnection::Progress::kFailed) {
    FailConnection(slot, "connection could not be started");
    return;
  }
  Watch(slot, /*want_write=*/true);
}

void Pool::AdvanceConnect(Slot& slot) {
  switch (slot.conn.PollConnect()) {
    case PgConnection::Progress::kWantRead:
      Watch(slot, false);
      return;
    case PgConnection::Progress::kWantWrite:
      Watch(slot, true);
      return;
    case PgConnection::Progress::kReady:
      OnConnected(slot);
      return;
    case PgConnection::Progress::kFailed:
      FailConnection(slot, "connect failed");
      return;
  }
}

void Pool::OnConnected(Slot& slot) {
  // The PREPAREs go first into the pipeline; queries can follow them at once.
  slot.statement_timeout_ms.reset();
  slot.last_received = absl::Now();
  auto prepare = [this, &slot](const Statement& statement) {
    if (!slot.conn.SendPrepare(statement)) return false;
    slot.Push(
        {&statement, nullptr, Phase::kAwaitResult, std::nullopt, absl::Now(), connect_timeout_});
    return true;
  };
  if (!prepare(kSetStatementTimeout) || !prepare(kPing) ||
      !std::all_of(options_.statements.begin(), options_.statements.end(), prepare)) {
    FailConnection(slot, "prepare could not be sent");
    return;
  }
  if (slot.index == 0 && !options_.listen_channel.empty() &&
      (!prepare(listen_statement_) || !SendListen(slot))) {
    FailConnection(slot, "LISTEN could not be sent");
    return;
  }
  slot.state = Slot::State::kReady;
  slot.failures = 0;
  slot.tried_this_round = 0;
  {
    std::lock_guard lock(mutex_);
    database_down_ = false;
  }
  SetReadyCount(+1);
  Log(LogLevel::kInfo, "database connection ready",
      {{"connection", slot.index}, {"host", Where(slot)}});
  FlushAndWatch(slot);
}

bool Pool::SendListen(Slot& slot) {
  if (!slot.conn.SendQuery(listen_statement_, {})) return false;
  // From its answer on, every notification on the channel reaches this connection.
  slot.Push({&listen_statement_,
             [this, &slot](Result result) {
               if (!result.ok()) {
                 // Lost with its connection (no SQLSTATE): that failure is already under way.
                 if (result.sqlstate().empty()) return;
                 Log(LogLevel::kError, "LISTEN failed",
                     {{"channel", options_.listen_channel}, {"sqlstate", result.sqlstate()}});
                 return FailConnection(slot, "LISTEN failed");
               }
               slot.listening = true;
               if (options_.on_listening) options_.on_listening(true);
             },
             Phase::kAwaitResult, std::nullopt, absl::Now(), connect_timeout_});
  return true;
}

void Pool::SetReadyCount(int delta) {
  const int before = ready_count_.fetch_add(delta, std::memory_order_relaxed);
  const int after = before + delta;
  if (options_.on_availability && (before == 0) != (after == 0))
    options_.on_availability(after > 0);
}

void Pool::HandleEvents(Slot& slot, uint32_t events) {
  if (slot.state == Slot::State::kConnecting) {
    AdvanceConnect(slot);
    return;
  }
  if (slot.state != Slot::State::kReady) return;
  if (events & EPOLLOUT) FlushAndWatch(slot);
  if (slot.state == Slot::State::kReady && (events & (EPOLLIN | EPOLLERR | EPOLLHUP))) {
    slot.last_received = absl::Now();
    // With TLS, libpq may leave decrypted bytes inside OpenSSL that the socket (and so epoll)
    // will never report again: keep reading while there are any.
    do {
      if (!slot.conn.ConsumeInput()) {
        FailConnection(slot, "connection lost");
        return;
      }
      TakeNotifications(slot);
      ReadResults(slot);
      // libpq parses a notification that arrived behind a result only as the result is read.
      if (slot.state == Slot::State::kReady) TakeNotifications(slot);
    } while (slot.state == Slot::State::kReady && slot.conn.HasBufferedInput());
  }
}

void Pool::TakeNotifications(Slot& slot) {
  slot.conn.TakeNotifications([this](std::string_view payload) {
    if (options_.on_notification) options_.on_notification(payload);
  });
}

void Pool::ReadResults(Slot& slot) {
  while (slot.state == Slot::State::kReady && !slot.in_flight.empty() && !slot.conn.IsBusy()) {
    PgResultPtr raw = slot.conn.NextResult();
    Slot::InFlight& head = slot.in_flight.front();
    switch (head.phase) {
      case Phase::kAwaitResult:
        if (raw == nullptr) return FailConnection(slot, "pipeline out of step: missing result");
        head.result = ToResult(std::move(raw));
        head.phase = Phase::kAwaitEnd;
        break;
      case Phase::kAwaitEnd:
        // A statement has one result; anything before its terminating null is dropped.
        if (raw == nullptr) head.phase = Phase::kAwaitSync;
        break;
      case Phase::kAwaitSync: {
        if (raw == nullptr || PQresultStatus(raw.get()) != PGRES_PIPELINE_SYNC) {
          return FailConnection(slot, "pipeline out of step: missing sync");
        }
        Slot::InFlight finished = slot.PopFront();
        slot.head_since = absl::Now();
        if (finished.done && options_.on_query_done) {
          options_.on_query_done(absl::Now() - finished.sent);
        }
        if (!finished.done && !finished.result->ok()) {
          Log(LogLevel::kError, "pool statement failed",
              {{"statement", finished.statement->name}, {"sqlstate", finished.result->sqlstate()}});
          // A statement that cannot be prepared (say, on a replica that has not replayed the
          // migrations yet) would fail every query that uses it: start this connection over.
          if (finished.statement != &kSetStatementTimeout && finished.statement != &kPing) {
            return FailConnection(slot, "prepare failed");
          }
        }
        Complete(finished.done, std::move(*finished.result));
        break;
      }
    }
  }
}

void Pool::Dispatch() {
  const absl::Time now = absl::Now();
  std::vector<Slot*> touched;
  DispatchScans(now, touched);

  size_t capacity = 0;
  for (const auto& slot : slots_) {
    if (slot->state == Slot::State::kReady) {
      capacity += options_.max_in_flight_per_connection -
                  std::min(slot->in_flight.size(), options_.max_in_flight_per_connection);
    }
  }
  std::vector<Pending> batch;
  if (capacity > 0) {
    std::lock_guard lock(mutex_);
    while (!queue_.empty() && batch.size() < capacity) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    Pending& pending = batch[i];
    if (pending.deadline <= now) {
      Complete(pending.done, Result::Failure(absl::DeadlineExceededError("deadline exceeded")));
      continue;
    }
    bool wait = false;
    Slot* target = PickConnection(now, &wait);
    if (wait) {
      // The connections that move are full and the others stalled: what is left waits in the
      // queue, where it can still expire or be shed, rather than behind a stuck statement.
      std::lock_guard lock(mutex_);
      for (size_t j = batch.size(); j > i; --j) queue_.push_front(std::move(batch[j - 1]));
      break;
    }
    Send(target, pending, now, touched);
  }
  for (Slot* slot : touched) {
    if (slot->state == Slot::State::kReady) FlushAndWatch(*slot);
  }
}

void Pool::DispatchScans(absl::Time now, std::vector<Slot*>& touched) {
  while (true) {
    Slot* target = nullptr;
    Pending pending{};
    {
      std::lock_guard lock(mutex_);
      if (scan_queue_.empty()) return;
      const bool expired = scan_queue_.front().deadline <= now;
      if (!expired) {
        target = PickScanConnection();
        if (target == nullptr) return;  // it waits for a scan connection to have room
      }
      pending = std::move(scan_queue_.front());
      scan_queue_.pop_front();
    }
    if (target == nullptr) {
      Complete(pending.done, Result::Failure(absl::DeadlineExceededError("deadline exceeded")));
      continue;
    }
    Send(target, pending, now, touched);
  }
}

void Pool::Send(Slot* target, Pending& pending, absl::Time now, std::vector<Slot*>& touched) {
  if (target == nullptr) {  // every connection failed while this batch was being sent
    Complete(pending.done, Result::Failure(ConnectionLost()));
    return;
  }
  if (pending.params_at_send) pending.params = std::move(pending.params_at_send)();
  if (!SendStatementTimeout(*target, pending.deadline - now) ||
      !target->conn.SendQuery(*pending.statement, pending.params)) {
    // libpq refused to queue it: nothing of it reached the server.
    Complete(pending.done, Result::Failure(ConnectionLost()));
    FailConnection(*target, "query could not be sent");
    return;
  }
  if (options_.on_queue_wait) options_.on_queue_wait(now - pending.enqueued);
  // PostgreSQL answers within the statement_timeout just set for it (or cancels it then).
  const absl::Duration answer_within = absl::Milliseconds(target->statement_timeout_ms.value_or(
      absl::ToInt64Milliseconds(options_.max_statement_time)));
  target->Push({pending.statement, std::move(pending.done), Phase::kAwaitResult, std::nullopt, now,
                answer_within});
  if (std::find(touched.begin(), touched.end(), target) == touched.end()) {
    touched.push_back(target);
  }
}

Pool::Slot* Pool::PickConnection(absl::Time now, bool* wait) {
  // The least loaded ready connection with room, but one whose oldest query has waited past
  // stall_after (a lock wait, a slow statement, a link gone quiet) or that carries a scan only if
  // every ready connection is so; if some are not but have no room, or every one is full (the
  // pool's own statements take room too), the query waits (*wait). nullptr without *wait: no
  // connection is ready.
  Slot* moving = nullptr;
  Slot* stalled = nullptr;
  bool any_moving = false;
  bool any_ready = false;
  for (auto& slot : slots_) {
    if (slot->state != Slot::State::kReady) continue;
    any_ready = true;
    const bool is_stalled =
        slot->scans_in_flight > 0 ||
        (!slot->in_flight.empty() && now - slot->head_since > options_.stall_after);
    any_moving = any_moving || !is_stalled;
    if (slot->in_flight.size() >= options_.max_in_flight_per_connection) continue;
    Slot*& best = is_stalled ? stalled : moving;
    if (best == nullptr || slot->in_flight.size() < best->in_flight.size()) best = slot.get();
  }
  if (moving != nullptr) return moving;
  if (!any_moving && stalled != nullptr) return stalled;
  *wait = any_ready;
  return nullptr;
}

Pool::Slot* Pool::PickScanConnection() const {
  // A connection that carries no scan yet while fewer than scan_connections_ do (so that scans
  // run side by side, on the least loaded), else one of those that do with room for another.
  int carrying = 0;
  Slot* idle = nullptr;
  Slot* sharing = nullptr;
  for (const auto& slot : slots_) {
    if (slot->state != Slot::State::kReady ||
        slot->in_flight.size() >= options_.max_in_flight_per_connection) {
      carrying += slot->scans_in_flight > 0 ? 1 : 0;
      continue;
    }
    if (slot->scans_in_flight > 0) {
      ++carrying;
      if (slot->scans_in_flight < kScansPerConnection &&
          (sharing == nullptr || slot->scans_in_flight < sharing->scans_in_flight)) {
        sharing = slot.get();
      }
    } else if (idle == nullptr || slot->in_flight.size() < idle->in_flight.size()) {
      idle = slot.get();
    }
  }
  if (idle != nullptr && carrying < scan_connections_) return idle;
  return sharing;
}

bool Pool::SendOwn(Slot& slot, const Statement& statement, Params params,
                   absl::Duration answer_within) {
  if (!slot.conn.SendQuery(statement, params)) return false;
  slot.Push({&statement, nullptr, Phase::kAwaitResult, std::nullopt, absl::Now(), answer_within});
  return true;
}

bool Pool::SendStatementTimeout(Slot& slot, absl::Duration remaining) {
  const std::optional<int64_t> timeout_ms =
      statement_timeout_.ToSet(slot.statement_timeout_ms, remaining);
  if (!timeout_ms) return true;
  if (!SendOwn(slot, kSetStatementTimeout, {std::to_string(*timeout_ms)}, kOwnStatementBudget)) {
    return false;
  }
  slot.statement_timeout_ms = timeout_ms;
  return true;
}

void Pool::CheckLiveness(absl::Time now) {
  // A connection is dead when the query at the head of its pipeline is overdue: PostgreSQL would
  // have answered it, or cancelled it at its statement_timeout, by now, and nothing at all has
  // arrived for a while. A link that vanished without a reset looks exactly so (the kernel's
  // keepalives take seconds more), and its calls are better failed now than at their deadlines.
  std::vector<size_t> silent_targets;
  for (auto& slot : slots_) {
    if (slot->state != Slot::State::kReady) continue;
    if (slot->in_flight.empty()) {
      if (now - std::max(slot->last_sent, slot->last_received) < options_.ping_interval) continue;
      if (!SendOwn(*slot, kPing, {}, kOwnStatementBudget)) {
        FailConnection(*slot, "ping could not be sent");
        continue;
      }
      FlushAndWatch(*slot);
      continue;
    }
    const Slot::InFlight& head = slot->in_flight.front();
    const bool overdue = now > slot->head_since + head.answer_within + options_.answer_grace &&
                         now - slot->last_received > options_.answer_grace;
    if (overdue) {
      silent_targets.push_back(slot->target);
      FailConnection(*slot, "no answer from the server: the link went silent");
    }
  }
  // A silent host is silent for every connection to it: those waiting on it too are not ready,
  // so that new calls are refused now rather than queued behind a dead link.
  for (auto& slot : slots_) {
    if (slot->state == Slot::State::kReady && !slot->in_flight.empty() &&
        now - slot->last_received > options_.answer_grace &&
        std::find(silent_targets.begin(), silent_targets.end(), slot->target) !=
            silent_targets.end()) {
      FailConnection(*slot, "no answer from the server: another connection to it went silent");
    }
  }
}

void Pool::FlushAndWatch(Slot& slot) {
  const int flushed = slot.conn.Flush();
  if (flushed < 0) return FailConnection(slot, "send failed");
  Watch(slot, /*want_write=*/flushed == 1);
}

void Pool::Watch(Slot& slot, bool want_write) {
  const int fd = slot.conn.socket();
  const uint32_t wanted = EPOLLIN | (want_write ? EPOLLOUT : 0u);
  // While connecting, libpq may close its socket and open another (the next address of a name)
  // under the same number, which epoll forgot with the old one: register afresh after every
  // step. Once ready the socket stays, and only the events change.
  const bool connecting = slot.state == Slot::State::kConnecting;
  if (!connecting && fd == slot.watched_fd && wanted == slot.watched_events) return;
  epoll_event event{};
  event.events = wanted;
  event.data.ptr = &slot;
  if (connecting || fd != slot.watched_fd) {
    if (slot.watched_fd >= 0) epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, slot.watched_fd, nullptr);
    if (fd < 0 || epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) {
      slot.watched_fd = -1;
      return FailConnection(slot, "epoll registration failed");
    }
  } else {
    epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &event);
  }
  slot.watched_fd = fd;
  slot.watched_events = wanted;
}

void Pool::FailConnection(Slot& slot, std::string_view why) {
  const bool was_ready = slot.state == Slot::State::kReady;
  // Only the first failure of a run is a warning; retries against a database that is down are not.
  Log(slot.failures == 0 ? LogLevel::kWarning : LogLevel::kDebug, "database connection failed",
      {{"connection", slot.index},
       {"host", Where(slot)},
       {"reason", why},
       {"error", slot.conn.ErrorMessage()}});
  if (slot.watched_fd >= 0) epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, slot.watched_fd, nullptr);
  slot.watched_fd = -1;
  slot.watched_events = 0;
  slot.conn.Close();
  slot.state = Slot::State::kWaitingToRetry;
  // The next attempt goes to the host name's next address, if it has one, else to the next host.
  // While some host of this round is untried it goes at once; once every host failed in turn,
  // with exponential backoff from 50 ms, capped, with jitter so connections do not retry in step.
  if (!was_ready && slot.address + 1 < slot.addresses.size()) {
    ++slot.address;
    slot.retry_at = absl::Now();
  } else {
    slot.address = 0;
    slot.addresses.clear();
    slot.target = (slot.target + 1) % targets_.size();
    if (!was_ready && ++slot.tried_this_round < targets_.size()) {
      slot.retry_at = absl::Now();
    } else {
      slot.tried_this_round = 0;
      ++slot.failures;
      static thread_local absl::BitGen random;
      const absl::Duration backoff = std::min(
          absl::Milliseconds(50) * (1 << std::min(slot.failures - 1, 10)), options_.max_backoff);
      slot.retry_at = absl::Now() + backoff * absl::Uniform(random, 0.8, 1.2);
    }
  }

  if (slot.listening) {
    slot.listening = false;
    if (options_.on_listening) options_.on_listening(false);
  }

  std::deque<Slot::InFlight> lost;
  lost.swap(slot.in_flight);
  slot.scans_in_flight = 0;
  std::deque<Pending> refused;
  if (was_ready) SetReadyCount(-1);
  if (ready_count_.load(std::memory_order_relaxed) == 0) {
    // Nothing can reach the database: callers are told at once instead of queueing.
    std::lock_guard lock(mutex_);
    database_down_ = true;
    refused.swap(queue_);
    for (auto& pending : scan_queue_) refused.push_back(std::move(pending));
    scan_queue_.clear();
  }
  for (auto& query : lost) {
    Complete(query.done, Result::Failure(LostWithConnection(*query.statement)));
  }
  for (auto& pending : refused) Complete(pending.done, Result::Failure(ConnectionLost()));
}

void Pool::ExpireQueued(absl::Time now) {
  std::vector<Pending> expired;
  {
    std::lock_guard lock(mutex_);
    for (std::deque<Pending>* queue : {&queue_, &scan_queue_}) {
      auto first = std::stable_partition(queue->begin(), queue->end(),
                                         [now](const Pending& p) { return p.deadline > now; });
      for (auto it = first; it != queue->end(); ++it) expired.push_back(std::move(*it));
      queue->erase(first, queue->end());
    }
  }
  for (auto& pending : expired) {
    Complete(pending.done, Result::Failure(absl::DeadlineExceededError("deadline exceeded")));
  }
}

void Pool::RetryDueConnections(absl::Time now) {
  for (auto& slot : slots_) {
    if (slot->state == Slot::State::kWaitingToRetry && slot->retry_at <= now) {
      BeginConnect(*slot);
    } else if (slot->state == Slot::State::kConnecting && slot->connect_deadline <= now) {
      FailConnection(*slot, "connect timed out");
    } else if (slot->state == Slot::State::kResolving && slot->connect_deadline <= now) {
      FailConnection(*slot, "host name lookup timed out");
    }
  }
}

}  // namespace usersvc::storage
