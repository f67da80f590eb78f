#include "callbacks/domain/user_lookups.h"

#include <unordered_map>
#include <vector>

#include "storage/queries/users.h"

namespace usersvc::callbacks {
namespace {

namespace q = storage::queries;

// Bounds one statement's array; a full batch starts the next one.
constexpr size_t kMaxBatch = 256;

}  // namespace

struct UserLookups::Flight {
  std::vector<Callback> waiters;  // guarded by mutex_
  uint64_t cache_generation = 0;  // noted before its query could read anything
};

struct UserLookups::Batch {
  // Written under the mutex until `sealed`; after that only the store's thread reads them.
  std::vector<std::string> keys;
  std::vector<std::shared_ptr<Flight>> flights;  // of each key
  bool sealed = false;
};

void UserLookups::Add(Kind kind, std::string key, Callback done) {
  if (cache_.enabled()) {
    if (std::shared_ptr<const CachedUser> user =
            kind == kById ? cache_.FindById(key) : cache_.FindByEmail(key)) {
      const storage::UserRow row = user->row();
      return std::move(done)(absl::OkStatus(), &row);
    }
  }
  std::shared_ptr<Batch> new_batch;
  {
    std::lock_guard lock(mutex_);
    const uint64_t generation = cache_.generation();
    std::shared_ptr<Flight>& flight = flying_[kind][key];
    if (flight != nullptr && flight->cache_generation == generation) {
      flight->waiters.push_back(std::move(done));  // the same answer as the lookup before
      return;
    }
    flight = std::make_shared<Flight>();
    flight->cache_generation = generation;
    flight->waiters.push_back(std::move(done));
    std::shared_ptr<Batch>& open = open_[kind];
    if (open == nullptr || open->sealed || open->keys.size() >= kMaxBatch) {
      open = std::make_shared<Batch>();
      new_batch = open;
    }
    open->keys.push_back(std::move(key));
    open->flights.push_back(flight);
  }
  if (new_batch == nullptr) return;  // rides along with a query already queued
  auto seal = [this, batch = new_batch]() {
    std::lock_guard lock(mutex_);
    batch->sealed = true;
  };
  // No deadline of its own: each waiter's call keeps its own, and a batch is worth sending while
  // any of them may still want the answer.
  store_.RunDeferred(
      kind == kById ? q::kSelectUsersByIds : q::kSelectUsersByEmails,
      [seal, batch = new_batch]() mutable {
        seal();
        return q::UserKeysParams{storage::TextArray{batch->keys}};
      },
      absl::InfiniteFuture(),
      [this, kind, seal, batch = new_batch](storage::Rows<storage::UserRow> rows) mutable {
        seal();  // a refused query was never sent, so never sealed
        Answer(kind, *batch, rows);
      });
}

void UserLookups::Answer(Kind kind, Batch& batch, const storage::Rows<storage::UserRow>& rows) {
  std::vector<storage::UserRow> users;
  std::unordered_map<std::string_view, size_t> user_of;
  if (rows.ok()) {
    users.reserve(rows.size());
    for (int i = 0; i < rows.size(); ++i) {
      users.push_back(rows[i]);
      user_of.emplace(kind == kById ? users.back().id : users.back().email, users.size() - 1);
    }
  }
  for (size_t i = 0; i < batch.keys.size(); ++i) {
    const std::string& key = batch.keys[i];
    Flight& flight = *batch.flights[i];
    std::vector<Callback> waiters;
    {
      std::lock_guard lock(mutex_);
      waiters = std::move(flight.waiters);
      // Later lookups of the key ask anew (a newer query of it may have taken its place).
      if (auto flying = flying_[kind].find(key);
          flying != flying_[kind].end() && flying->second.get() == &flight) {
        flying_[kind].erase(flying);
      }
    }
    auto found = user_of.find(key);
    const storage::UserRow* user = found == user_of.end() ? nullptr : &users[found->second];
    if (user != nullptr) cache_.Fill(*user, flight.cache_generation);
    for (Callback& waiter : waiters) {
      std::move(waiter)(rows.ok() ? absl::OkStatus() : rows.status(), rows.ok() ? user : nullptr);
    }
  }
}

}  // namespace usersvc::callbacks
