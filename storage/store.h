#pragma once

#include <concepts>
#include <utility>

#include <absl/functional/any_invocable.h>
#include <absl/time/time.h>

#include "storage/params.h"
#include "storage/query.h"
#include "storage/result.h"
#include "storage/statement.h"

namespace usersvc::storage {

/// Runs exactly once with the query's rows or its error, on the store's thread (or inline when
/// the query is refused at once). It must not block.
using QueryCallback = absl::AnyInvocable<void(Result) &&>;

/// Where handlers send their queries: the PostgreSQL pool in the server (storage/pool.h), a
/// scripted stand-in in the handlers' unit tests. Handlers use the typed Run and RunDeferred.
class Store {
 public:
  virtual ~Store() = default;

  /// Queues `statement` with `params`. Never blocks. Refused at once with UNAVAILABLE when the
  /// database cannot be reached, RESOURCE_EXHAUSTED when the queue is full; dropped with
  /// DEADLINE_EXCEEDED if `deadline` passes before it is sent.
  virtual void Execute(const Statement& statement, Params params, absl::Time deadline,
                       QueryCallback done) = 0;

  /// Like Execute, but ahead of every queued query and never refused for a full queue: for the
  /// health probe, which must not be shed with the load it is meant to see through.
  virtual void ExecuteFirst(const Statement& statement, Params params, absl::Time deadline,
                            QueryCallback done) = 0;

  /// Produces a query's parameters when it is sent (see ExecuteDeferred).
  using ParamsAtSend = absl::AnyInvocable<Params() &&>;

  /// Like Execute, but `params_at_send` runs just before the query is sent, and never if the
  /// query is refused or dropped first. A caller can thus keep adding to what the query asks for
  /// while it waits for a connection (see callbacks/domain/user_lookups.h).
  virtual void ExecuteDeferred(const Statement& statement, ParamsAtSend params_at_send,
                               absl::Time deadline, QueryCallback done) = 0;

  /// Connections configured, and those ready now.
  virtual int connections() const = 0;
  virtual int ready_connections() const = 0;

  /// Runs `query`; `done` takes its Rows. The parameters are encoded before Run returns, so
  /// their views need outlive only the call, but a continuation in the same call must not move
  /// from what they view (the order in which arguments are built is unspecified): it copies.
  template <typename P, typename R, typename Done>
  requires std::invocable<Done&&, Rows<R>>
  void Run(const Query<P, R>& query, const P& params, absl::Time deadline, Done done) {
    Execute(query.statement(), Encode(params), deadline, QueryCallback(std::move(done)));
  }

  /// Runs `query` ahead of every queued one (see ExecuteFirst).
  template <typename P, typename R, typename Done>
  requires std::invocable<Done&&, Rows<R>>
  void RunFirst(const Query<P, R>& query, const P& params, absl::Time deadline, Done done) {
    ExecuteFirst(query.statement(), Encode(params), deadline, QueryCallback(std::move(done)));
  }

  /// Runs `query` with the parameters `params_at_send` returns when it is sent.
  template <typename P, typename R, typename MakeParams, typename Done>
  requires std::invocable<Done&&, Rows<R>> && std::same_as<std::invoke_result_t<MakeParams&&>, P>
  void RunDeferred(const Query<P, R>& query, MakeParams params_at_send, absl::Time deadline,
                   Done done) {
    ExecuteDeferred(
        query.statement(),
        [make = std::move(params_at_send)]() mutable { return Encode(std::move(make)()); },
        deadline, QueryCallback(std::move(done)));
  }
};

}  // namespace usersvc::storage
