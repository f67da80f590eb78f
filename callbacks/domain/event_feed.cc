#include "callbacks/domain/event_feed.h"

#include <algorithm>
#include <utility>

#include <absl/time/clock.h>
#include <google/protobuf/util/json_util.h>

#include "base/log.h"
#include "callbacks/domain/rows.h"

namespace usersvc::callbacks {
namespace {

// A read that does not answer within this is given up; Tick reads again.
constexpr absl::Duration kReadTimeout = absl::Seconds(10);

/// `event` with the row's columns and `payload_json` as its payload.
void FillEvent(const storage::EventFeedRow& row, std::string_view payload_json,
               user::v1::UserEvent* event) {
  event->set_id(*row.id);
  event->set_event_type(std::string(row.event_type));
  if (row.user_id) event->set_user_id(std::string(*row.user_id));
  SetTimestamp(row.created_at_micros, event->mutable_created_at());
  const auto parsed = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(payload_json.data(), payload_json.size()),
      event->mutable_payload());
  if (!parsed.ok()) {
    // Only an outbox row written by hand can hold a payload that is not an object.
    Log(LogLevel::kWarning, "outbox payload is not a JSON object: sent empty",
        {{"event_id", *row.id}, {"event_type", event->event_type()}});
    event->clear_payload();
  }
}

}  // namespace

std::shared_ptr<const FeedEvent> MakeFeedEvent(const storage::EventFeedRow& row) {
  auto event = std::make_shared<FeedEvent>();
  event->id = *row.id;
  // Both parsed from the JSON PostgreSQL hands over (it removes the token). Erasing the key from
  // a copied Struct here crashed inside protobuf's Map::erase in the tsan build only (against
  // Debian's uninstrumented libprotobuf; the cause was not analysed), and a second parse costs
  // no more than the copy did.
  FillEvent(row, row.payload_json, &event->with_token);
  FillEvent(row, row.payload_without_token_json, &event->without_token);
  return event;
}

void EventFeed::OnListening(bool listening) {
  std::optional<ReadFrom> read;
  {
    std::lock_guard lock(mutex_);
    listening_ = listening;
    // What committed while nobody listened is read now; from here on notifications say when.
    if (listening) read = StartReadLocked();
  }
  if (read) Read(*read);
}

void EventFeed::OnNotification() {
  std::optional<ReadFrom> read;
  {
    std::lock_guard lock(mutex_);
    read = StartReadLocked();
  }
  if (read) Read(*read);
}

void EventFeed::Tick() {
  std::optional<ReadFrom> read;
  std::vector<absl::AnyInvocable<void()>> retries;
  {
    std::lock_guard lock(mutex_);
    std::erase_if(joined_, [](const Joined& joined) { return joined.alive.expired(); });
    if (read_failed_ && listening_) read = StartReadLocked();
    retries.swap(retries_);
  }
  if (read) Read(*read);
  for (auto& retry : retries) retry();
}

void EventFeed::RetryAtTick(absl::AnyInvocable<void()> retry) {
  std::lock_guard lock(mutex_);
  retries_.push_back(std::move(retry));
}

size_t EventFeed::members() const {
  std::lock_guard lock(mutex_);
  return joined_.size();
}

bool EventFeed::Join(std::shared_ptr<Member> member, std::weak_ptr<void> alive, int64_t position,
                     size_t max_backlog) {
  if (alive.expired()) return true;  // gone: nothing to catch up for
  std::lock_guard lock(mutex_);
  if (!horizon_) {
    // Nothing read yet: the feed starts where the first stream stands, which has all before it.
    horizon_ = floor_ = position;
  } else if (position < floor_) {
    return false;
  }
  // recent_ is in id order: the events past `position` are its tail.
  const auto first_after = std::upper_bound(
      recent_.begin(), recent_.end(), position,
      [](int64_t at, const std::shared_ptr<const FeedEvent>& event) { return at < event->id; });
  if (static_cast<size_t>(recent_.end() - first_after) > max_backlog) return false;
  Joined joined{std::move(member), std::move(alive), position};
  for (const auto& event : recent_) {
    if (event->id <= position) continue;
    if (!joined.member->Deliver(*event)) return true;  // ended while joining: it is not kept
    joined.position = event->id;
  }
  joined_.push_back(std::move(joined));
  return true;
}

std::optional<EventFeed::ReadFrom> EventFeed::StartReadLocked() {
  if (reading_) {
    read_again_ = true;
    return std::nullopt;
  }
  reading_ = true;
  read_again_ = false;
  read_failed_ = false;
  return horizon_;
}

void EventFeed::Read(ReadFrom from) {
  // Without the lock: a store that refuses at once (stopping, or the database down) answers on
  // this thread, and OnRead takes the lock.
  store_.Run(storage::queries::kEventFeed, {from, kBatch}, absl::Now() + kReadTimeout,
             [this, from](storage::Rows<storage::EventFeedRow> rows) {
               if (std::optional<ReadFrom> next = OnRead(from, std::move(rows))) Read(*next);
             });
}

std::optional<EventFeed::ReadFrom> EventFeed::OnRead(ReadFrom from,
                                                     storage::Rows<storage::EventFeedRow> rows) {
  std::lock_guard lock(mutex_);
  reading_ = false;
  if (from != horizon_) {
    // A stream joined while the feed asked where to start, and the feed now starts from it.
    return StartReadLocked();
  }
  if (!rows.ok()) {
    Log(LogLevel::kWarning, "event feed read failed", {{"error", rows.status().message()}});
    read_failed_ = true;
    return std::nullopt;
  }
  const storage::EventFeedRow first = rows[0];
  if (!first.horizon) {
    // A writer held its id past the read's lock timeout (100 ms). Reading again at once would
    // keep every other writer queued behind the read's lock request for as long as that one
    // stays open; its commit notifies, and Tick reads again within a second should it roll back.
    read_failed_ = true;
    return read_again_ ? StartReadLocked() : std::nullopt;
  }
  if (!horizon_) {  // the first read: the feed starts at the horizon
    horizon_ = floor_ = *first.horizon;
  }
  int returned = 0;
  for (int i = 0; i < rows.size(); ++i) {
    const storage::EventFeedRow row = rows[i];
    if (!row.id) break;
    ++returned;
    auto event = MakeFeedEvent(row);
    recent_.push_back(event);
    horizon_ = event->id;
    if (recent_.size() > kRecentEvents) {
      floor_ = recent_.front()->id;
      recent_.pop_front();
    }
    DeliverLocked(event);
  }
  if (returned == 0) {
    // Every id up to the horizon has ended: those that rolled back never come.
    horizon_ = std::max(*horizon_, *first.horizon);
    if (recent_.empty()) floor_ = *horizon_;
  }
  if (returned == kBatch || read_again_) return StartReadLocked();
  return std::nullopt;
}

void EventFeed::DeliverLocked(const std::shared_ptr<const FeedEvent>& event) {
  std::erase_if(joined_, [&event](Joined& joined) {
    if (event->id <= joined.position) return false;
    if (joined.alive.expired() || !joined.member->Deliver(*event)) return true;
    joined.position = event->id;
    return false;
  });
}

}  // namespace usersvc::callbacks
