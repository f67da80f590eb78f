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

struct UserLookups::Batch {
  // Written under the mutex until `sealed`; after that only the store's thread reads them.
  std::vector<std::string> keys;
  std::vector<Callback> waiters;
  bool sealed = false;
};

void UserLookups::Add(Kind kind, std::string key, Callback done) {
  std::shared_ptr<Batch> new_batch;
  {
    std::lock_guard lock(mutex_);
    std::shared_ptr<Batch>& open = open_[kind];
    if (open == nullptr || open->sealed || open->keys.size() >= kMaxBatch) {
      open = std::make_shared<Batch>();
      new_batch = open;
    }
    open->keys.push_back(std::move(key));
    open->waiters.push_back(std::move(done));
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
  for (size_t i = 0; i < batch.waiters.size(); ++i) {
    if (!rows.ok()) {
      std::move(batch.waiters[i])(rows.status(), nullptr);
      continue;
    }
    auto found = user_of.find(batch.keys[i]);
    std::move(batch.waiters[i])(absl::OkStatus(),
                                found == user_of.end() ? nullptr : &users[found->second]);
  }
}

}  // namespace usersvc::callbacks
