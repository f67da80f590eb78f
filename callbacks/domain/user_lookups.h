#pragma once

#include <memory>
#include <mutex>
#include <string>

#include <absl/functional/any_invocable.h>
#include <absl/status/status.h>

#include "storage/rows.h"
#include "storage/store.h"

namespace usersvc::callbacks {

/// Coalesces concurrent user lookups into one query per batch (`= ANY($1)`). The first lookup
/// into an empty batch queues a query whose keys are read only when the store sends it, so the
/// lookups that arrive while it waits for a connection ride along; an idle server adds no delay.
class UserLookups {
 public:
  /// The lookup's outcome: an error, or the user (nullptr: no such user), valid during the call.
  using Callback = absl::AnyInvocable<void(absl::Status status, const storage::UserRow* user) &&>;

  explicit UserLookups(storage::Store& store) : store_(store) {}

  /// By id (a validated UUID).
  void ById(std::string id, Callback done) { Add(kById, std::move(id), std::move(done)); }
  /// By email (normalised).
  void ByEmail(std::string email, Callback done) {
    Add(kByEmail, std::move(email), std::move(done));
  }

 private:
  enum Kind { kById = 0, kByEmail = 1 };
  struct Batch;

  void Add(Kind kind, std::string key, Callback done);
  void Answer(Kind kind, Batch& batch, const storage::Rows<storage::UserRow>& rows);

  storage::Store& store_;
  std::mutex mutex_;
  std::shared_ptr<Batch> open_[2];  // the batch still taking keys, per kind
};

}  // namespace usersvc::callbacks
