#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <absl/functional/any_invocable.h>
#include <absl/status/status.h>

#include "callbacks/domain/user_cache.h"
#include "storage/rows.h"
#include "storage/store.h"

namespace usersvc::callbacks {

/// Coalesces concurrent user lookups into one query per batch (`= ANY($1)`). The first lookup
/// into an empty batch queues a query whose keys are read only when the store sends it, so the
/// lookups that arrive while it waits for a connection ride along; an idle server adds no delay.
/// A key already on its way to the database is not asked again: its lookup waits for that answer.
/// With a cache, a lookup it holds is answered at once, and what the queries find is kept there.
class UserLookups {
 public:
  /// The lookup's outcome: an error, or the user (nullptr: no such user), valid during the call.
  using Callback = absl::AnyInvocable<void(absl::Status status, const storage::UserRow* user) &&>;

  /// `cache` also tells it when a user was forgotten (a change was answered), with or without a
  /// budget of its own.
  UserLookups(storage::Store& store, UserCache& cache) : store_(store), cache_(cache) {}

  /// By id (a validated UUID).
  void ById(std::string id, Callback done) { Add(kById, std::move(id), std::move(done)); }
  /// By email (normalised).
  void ByEmail(std::string email, Callback done) {
    Add(kByEmail, std::move(email), std::move(done));
  }

 private:
  enum Kind { kById = 0, kByEmail = 1 };
  struct Flight;
  struct Batch;

  void Add(Kind kind, std::string key, Callback done);
  void Answer(Kind kind, Batch& batch, const storage::Rows<storage::UserRow>& rows);

  storage::Store& store_;
  UserCache& cache_;
  std::mutex mutex_;
  std::shared_ptr<Batch> open_[2];  // guarded by mutex_: the batch still taking keys, per kind
  /// Guarded by mutex_: per kind, the newest query of each key on its way, which a lookup of the
  /// key joins unless a user was forgotten since it began (then the lookup may be of a change
  /// answered after that query read, and asks again).
  std::unordered_map<std::string, std::shared_ptr<Flight>> flying_[2];
};

}  // namespace usersvc::callbacks
