#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "storage/rows.h"

namespace usersvc::callbacks {

/// A user row the cache owns (storage::UserRow only views a result's memory).
class CachedUser {
 public:
  explicit CachedUser(const storage::UserRow& row);
  /// A row viewing this copy: valid while it lives.
  storage::UserRow row() const;
  const std::string& id() const { return id_; }
  const std::string& email() const { return email_; }
  /// What it holds in memory, roughly: the cache's budget counts this.
  size_t bytes() const;

 private:
  std::string id_, email_, username_, first_name_, last_name_, phone_number_, deactivation_reason_;
  storage::UserRow scalars_;  // the non-text columns (its views are not used)
};

/// GetUser's and GetUserByEmail's users, in process, within a budget of bytes, least recently
/// used out first. It is kept true by being told: Forget(id) by this server's handlers once a
/// change to the user is done and before it is answered, and by the change notifications of
/// migration 0013 for changes made anywhere else (server/main.cc). While those notifications
/// cannot arrive (the connection that listens is down) it is empty and unused: SetListening.
///
/// A read that raced a change must not put the old row back once the change was forgotten, so a
/// lookup notes the cache's generation before it reads and Fill keeps its row only if nothing
/// was forgotten since (cheap to check, and at worst a row that could have been kept is not).
/// Thread-safe.
class UserCache {
 public:
  struct Stats {
    uint64_t hits = 0;
    uint64_t misses = 0;
    uint64_t evictions = 0;  // users dropped for room (not those forgotten)
    size_t bytes = 0;
    size_t users = 0;
  };

  /// `max_bytes` 0: a cache that holds nothing (lookups do not look here), but still says when a
  /// user was forgotten (UserLookups does not join a read older than that).
  explicit UserCache(size_t max_bytes) : max_bytes_(max_bytes) {}
  UserCache(const UserCache&) = delete;
  UserCache& operator=(const UserCache&) = delete;

  /// Whether lookups should look here at all: a budget, and changes are being heard.
  bool enabled() const { return max_bytes_ > 0 && listening_.load(std::memory_order_acquire); }

  /// The user, or null (a miss, counted).
  std::shared_ptr<const CachedUser> FindById(std::string_view id);
  std::shared_ptr<const CachedUser> FindByEmail(std::string_view email);

  /// To note before a read whose rows may be filled in.
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  /// Keeps `row`, read after `generation` was noted, unless something was forgotten since.
  void Fill(const storage::UserRow& row, uint64_t generation);

  /// The user changed (or may have): its entry goes, by id and by email.
  void Forget(std::string_view id);
  void ForgetAll();
  /// Whether changes are heard now. Both ways everything is forgotten: while deaf, changes may
  /// be missed; once listening again, those that were missed are not known.
  void SetListening(bool listening);

  Stats stats() const;

 private:
  using Lru = std::list<std::shared_ptr<const CachedUser>>;  // most recent first
  using Index = std::unordered_map<std::string, Lru::iterator>;

  /// The entry under `key` in `index` (one of the two below), made the most recent; counted.
  std::shared_ptr<const CachedUser> Find(const Index& index, std::string_view key);
  void EraseLocked(Lru::iterator entry);

  const size_t max_bytes_;
  std::atomic<bool> listening_ = false;
  std::atomic<uint64_t> generation_ = 0;  // bumped by every Forget, under mutex_
  mutable std::mutex mutex_;
  Lru lru_;         // guarded by mutex_
  Index by_id_;     // guarded by mutex_
  Index by_email_;  // guarded by mutex_
  Stats stats_;     // guarded by mutex_
};

}  // namespace usersvc::callbacks
