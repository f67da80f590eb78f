#include "callbacks/domain/user_cache.h"

#include <utility>

namespace usersvc::callbacks {
namespace {

// A hash map's node and bucket, per key, and the list node: what an entry costs beyond its
// strings (measured roughly; the budget need not be exact, only bounded).
constexpr size_t kEntryOverhead = 2 * 64 + 32;

}  // namespace

CachedUser::CachedUser(const storage::UserRow& row)
    : id_(row.id),
      email_(row.email),
      username_(row.username),
      first_name_(row.first_name),
      last_name_(row.last_name),
      phone_number_(row.phone_number),
      deactivation_reason_(row.deactivation_reason),
      scalars_(row) {}

storage::UserRow CachedUser::row() const {
  storage::UserRow row = scalars_;
  row.id = id_;
  row.email = email_;
  row.username = username_;
  row.first_name = first_name_;
  row.last_name = last_name_;
  row.phone_number = phone_number_;
  row.deactivation_reason = deactivation_reason_;
  return row;
}

size_t CachedUser::bytes() const {
  size_t bytes = sizeof(*this) + kEntryOverhead + id_.size() + email_.size();  // the two keys
  for (const std::string* text : {&id_, &email_, &username_, &first_name_, &last_name_,
                                  &phone_number_, &deactivation_reason_}) {
    bytes += text->capacity();
  }
  return bytes;
}

std::shared_ptr<const CachedUser> UserCache::FindById(std::string_view id) {
  return Find(by_id_, id);
}

std::shared_ptr<const CachedUser> UserCache::FindByEmail(std::string_view email) {
  return Find(by_email_, email);
}

std::shared_ptr<const CachedUser> UserCache::Find(const Index& index, std::string_view key) {
  if (!enabled()) return nullptr;
  std::lock_guard lock(mutex_);
  auto found = index.find(std::string(key));
  if (found == index.end()) {
    ++stats_.misses;
    return nullptr;
  }
  ++stats_.hits;
  lru_.splice(lru_.begin(), lru_, found->second);  // iterators stay valid
  return *found->second;
}

void UserCache::Fill(const storage::UserRow& row, uint64_t generation) {
  if (!enabled()) return;
  auto user = std::make_shared<const CachedUser>(row);
  const size_t bytes = user->bytes();
  if (bytes > max_bytes_) return;
  std::lock_guard lock(mutex_);
  // Under the lock, so that a Forget either comes before this check (and the row is not kept)
  // or after the row is in (and takes it out).
  if (generation_.load(std::memory_order_acquire) != generation) return;
  if (auto old = by_id_.find(user->id()); old != by_id_.end()) EraseLocked(old->second);
  if (auto old = by_email_.find(user->email()); old != by_email_.end()) EraseLocked(old->second);
  while (!lru_.empty() && stats_.bytes + bytes > max_bytes_) {
    EraseLocked(std::prev(lru_.end()));
    ++stats_.evictions;
  }
  lru_.push_front(std::move(user));
  by_id_.emplace(lru_.front()->id(), lru_.begin());
  by_email_.emplace(lru_.front()->email(), lru_.begin());
  stats_.bytes += bytes;
  ++stats_.users;
}

void UserCache::EraseLocked(Lru::iterator entry) {
  const std::shared_ptr<const CachedUser> user = *entry;
  by_id_.erase(user->id());
  by_email_.erase(user->email());
  stats_.bytes -= user->bytes();
  --stats_.users;
  lru_.erase(entry);
}

void UserCache::Forget(std::string_view id) {
  std::lock_guard lock(mutex_);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  if (auto found = by_id_.find(std::string(id)); found != by_id_.end()) {
    EraseLocked(found->second);
  }
}

void UserCache::ForgetAll() {
  std::lock_guard lock(mutex_);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  by_id_.clear();
  by_email_.clear();
  lru_.clear();
  stats_.bytes = 0;
  stats_.users = 0;
}

void UserCache::SetListening(bool listening) {
  // Off first, so that no lookup uses what is being dropped; on last, once it is empty.
  if (!listening) listening_.store(false, std::memory_order_release);
  ForgetAll();
  if (listening) listening_.store(true, std::memory_order_release);
}

UserCache::Stats UserCache::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

}  // namespace usersvc::callbacks
