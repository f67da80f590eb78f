#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <absl/functional/any_invocable.h>

#include "storage/queries/events.h"
#include "storage/store.h"
#include "user/v1/user.pb.h"

namespace usersvc::callbacks {

/// One outbox event as streams send it, made once for all of them.
struct FeedEvent {
  int64_t id = 0;
  /// As stored, and with the payload's "token" key removed (what most streams may see).
  user::v1::UserEvent with_token;
  user::v1::UserEvent without_token;
};

/// An outbox row as a FeedEvent. A payload that is not a JSON object cannot be a Struct: that is
/// logged, and the event is sent with an empty payload rather than lost.
std::shared_ptr<const FeedEvent> MakeFeedEvent(const storage::EventFeedRow& row);

/// The outbox, read once for every stream of this server: a connection LISTENs (the events
/// pool's first, storage/pool.h) and each notification has the feed read what committed since
/// its horizon, in id order (usersvc_event_feed, migration 0012), and hand each event to every
/// stream that joined. It keeps the last kRecentEvents, so that a stream catching up from the
/// table can join without a gap: every event after `floor` up to the horizon is in hand. While
/// the notification connection is down the feed stands still; when LISTEN is back it reads from
/// where it stopped, so nothing is lost, only late. Thread-safe.
class EventFeed {
 public:
  /// What a stream gives the feed: Deliver is called for each event after the stream's position,
  /// in id order, under the feed's lock (so it must not call back into the feed); false ends the
  /// membership (the stream is gone or full).
  class Member {
   public:
    virtual ~Member() = default;
    virtual bool Deliver(const FeedEvent& event) = 0;
  };

  static constexpr size_t kRecentEvents = 4096;
  /// Events one read of the outbox returns at most.
  static constexpr int kBatch = 256;

  /// `store` runs the feed's reads: the pool whose connection LISTENs.
  explicit EventFeed(storage::Store& store) : store_(store) {}
  EventFeed(const EventFeed&) = delete;
  EventFeed& operator=(const EventFeed&) = delete;

  /// The events pool's hooks (storage::PoolOptions::on_listening, on_notification).
  void OnListening(bool listening);
  void OnNotification();
  /// Once a second: reads again after a read that failed, runs what waits for it (RetryAtTick),
  /// and lets go of streams that ended.
  void Tick();
  /// Runs `retry` at the next Tick, without the feed's lock: for a stream whose read was held up
  /// by a writer, which asking again at once would only hold up more (see OnRead).
  void RetryAtTick(absl::AnyInvocable<void()> retry);

  /// Adds `member`, which has every event up to `position`: true when the feed has every event
  /// after it (those it holds past `position` are delivered at once, before any later one; a
  /// feed that has read nothing yet starts from `position`), false when it no longer holds them
  /// all (they fell out of the recent ones) or holds more than `max_backlog` of them (more than
  /// the stream should take at once): read on from the table and try again.
  /// The feed keeps `member` while `alive` lives (the stream's writer) and Deliver says yes.
  bool Join(std::shared_ptr<Member> member, std::weak_ptr<void> alive, int64_t position,
            size_t max_backlog);

  /// Streams joined (for tests and metrics).
  size_t members() const;

 private:
  struct Joined {
    std::shared_ptr<Member> member;
    std::weak_ptr<void> alive;
    int64_t position = 0;
  };

  /// Where a read starts: the horizon (nullopt: the feed asks only where to start).
  using ReadFrom = std::optional<int64_t>;
  /// Where to read from now, unless a read is under way (then that one reads again when it is
  /// done). The read itself is started with Read once the lock is let go.
  std::optional<ReadFrom> StartReadLocked();
  void Read(ReadFrom from);
  /// Takes in what a read from `from` returned; where to read next, if anywhere.
  std::optional<ReadFrom> OnRead(ReadFrom from, storage::Rows<storage::EventFeedRow> rows);
  /// Hands `event` to every member past whose position it is; drops those that refuse.
  void DeliverLocked(const std::shared_ptr<const FeedEvent>& event);

  storage::Store& store_;
  mutable std::mutex mutex_;
  bool listening_ = false;          // guarded by mutex_
  bool reading_ = false;            // guarded by mutex_
  bool read_again_ = false;         // guarded by mutex_: a notification came during the read
  bool read_failed_ = false;        // guarded by mutex_: Tick reads again
  std::optional<int64_t> horizon_;  // guarded by mutex_: every event up to it is delivered
  /// Guarded by mutex_: the events after floor_ up to horizon_, oldest first.
  std::deque<std::shared_ptr<const FeedEvent>> recent_;
  int64_t floor_ = 0;                                // guarded by mutex_
  std::vector<Joined> joined_;                       // guarded by mutex_
  std::vector<absl::AnyInvocable<void()>> retries_;  // guarded by mutex_: run at the next Tick
};

}  // namespace usersvc::callbacks
