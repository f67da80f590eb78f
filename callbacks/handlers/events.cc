#include "callbacks/handlers/events.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <absl/strings/str_cat.h>
#include <absl/time/clock.h>

#include "callbacks/domain/event_feed.h"
#include "callbacks/domain/validation.h"
#include "storage/queries/events.h"

namespace usersvc::callbacks {
namespace {

namespace q = storage::queries;
using user::v1::UserEvent;

/// The outbox's event types (../shared/proto-schemas/README.md): a filter naming any other is a
/// mistake the caller would never notice (its stream would stay silent), so it is refused.
constexpr std::string_view kEventTypes[] = {
    "user.created",
    "user.updated",
    "user.deleted",
    "user.deactivated",
    "user.reactivated",
    "user.email_verification_requested",
    "user.email_verified",
    "user.password_changed",
    "user.password_reset_requested",
    "user.address_added",
    "user.address_updated",
    "user.address_deleted",
    "user.default_address_changed",
    "user.preferences_updated",
};

/// Events one catch-up read returns at most: under half the stream's queue, so a read's events
/// fit beside what the feed may add once the stream has joined it.
constexpr int kCatchUpBatch = 128;
/// A catch-up read that does not answer within this fails the stream (UNAVAILABLE or
/// DEADLINE_EXCEEDED); the client resumes.
constexpr absl::Duration kReadTimeout = absl::Seconds(30);

struct Filter {
  std::vector<std::string> event_types;  // empty: all
  std::string user_id;                   // empty: every user

  bool Matches(const UserEvent& event) const {
    if (!user_id.empty() && event.user_id() != user_id) return false;
    return event_types.empty() || std::find(event_types.begin(), event_types.end(),
                                            event.event_type()) != event_types.end();
  }
};

absl::StatusOr<Filter> FilterOf(const user::v1::WatchUserEventsRequest& request) {
  if (request.after_id() < 0) return FieldError("after_id", "must not be negative");
  Filter filter;
  for (int i = 0; i < request.event_types_size(); ++i) {
    const std::string& type = request.event_types(i);
    if (std::find(std::begin(kEventTypes), std::end(kEventTypes), type) == std::end(kEventTypes)) {
      return FieldError(absl::StrCat("event_types[", i, "]"), "is not an outbox event type");
    }
    filter.event_types.push_back(type);
  }
  if (!request.user_id().empty()) {
    if (absl::Status valid = CheckUuid("user_id", request.user_id()); !valid.ok()) return valid;
    filter.user_id = request.user_id();
  }
  return filter;
}

/// One stream: reads the outbox from its position until the feed can take it on, then is a
/// member of the feed. Kept by its reads in flight, its writer's drain callback and the feed.
class EventWatch final : public EventFeed::Member, public std::enable_shared_from_this<EventWatch> {
 public:
  EventWatch(Services& services, std::shared_ptr<StreamWriter<UserEvent>> writer, Filter filter,
             bool with_tokens)
      : services_(services),
        writer_(writer),
        filter_(std::move(filter)),
        with_tokens_(with_tokens) {}

  /// `after_id` 0: from the outbox's horizon now.
  void Start(int64_t after_id) {
    if (after_id == 0) return Read(std::nullopt);
    position_ = after_id;
    Read(after_id);
  }

  bool Deliver(const FeedEvent& event) override {  // under the feed's lock
    std::shared_ptr<StreamWriter<UserEvent>> writer = writer_.lock();
    return writer != nullptr &&
           Send(*writer, with_tokens_ ? event.with_token : event.without_token);
  }

 private:
  bool Send(StreamWriter<UserEvent>& writer, const UserEvent& event) {
    return !filter_.Matches(event) || writer.Write(event);
  }

  /// The outbox after `from` (nullopt: only where it stands).
  void Read(std::optional<int64_t> from) {
    services_.pool.Run(
        q::kEventFeed, {from, kCatchUpBatch}, absl::Now() + kReadTimeout,
        [self = shared_from_this(), from](storage::Rows<storage::EventFeedRow> rows) {
          self->OnRead(from, std::move(rows));
        });
  }

  void OnRead(std::optional<int64_t> from, storage::Rows<storage::EventFeedRow> rows) {
    std::shared_ptr<StreamWriter<UserEvent>> writer = writer_.lock();
    if (writer == nullptr) return;  // the client went away
    if (!rows.ok()) return writer->Finish(rows.status());
    const storage::EventFeedRow first = rows[0];
    if (!first.horizon) {
      // A writer held the read up: again at the feed's next tick, since asking at once would
      // queue every writer behind the read's lock request again (see EventFeed::OnRead).
      return services_.events->RetryAtTick([self = shared_from_this(), from] { self->Read(from); });
    }
    if (!from) {
      position_ = *first.horizon;
      return JoinFeed();
    }
    // Every read: an operator may delete ahead of a slow stream as well as behind it.
    if (*from < first.pruned_through) {
      return writer->Finish(absl::OutOfRangeError(absl::StrCat(
          "after_id: events after ", *from, " are no longer kept (the outbox holds ids after ",
          first.pruned_through, ")")));
    }
    if (!checked_range_) {  // the first read: the caller's after_id against the outbox
      checked_range_ = true;
      if (*from > *first.horizon) {
        return writer->Finish(absl::OutOfRangeError(
            absl::StrCat("after_id: no event has that id yet (the last is ", *first.horizon, ")")));
      }
    }
    int returned = 0;
    for (int i = 0; i < rows.size(); ++i) {
      const storage::EventFeedRow row = rows[i];
      if (!row.id) break;
      ++returned;
      std::shared_ptr<const FeedEvent> event = MakeFeedEvent(row);
      if (!Send(*writer, with_tokens_ ? event->with_token : event->without_token)) return;
      position_ = *row.id;
    }
    if (returned < kCatchUpBatch) {
      // Every event up to the horizon is in hand: those rolled back will never come.
      position_ = std::max(position_, *first.horizon);
      return JoinFeed();
    }
    // More to read: once this batch has gone out, so that a slow client paces the reads.
    writer->WhenDrained([self = shared_from_this()] { self->Read(self->position_); });
  }

  void JoinFeed() {
    std::shared_ptr<StreamWriter<UserEvent>> writer = writer_.lock();
    if (writer == nullptr) return;
    if (services_.events->Join(shared_from_this(), writer, position_, kCatchUpBatch)) return;
    // The feed has moved on past what it keeps, or holds more past the stream's position than
    // the stream should take in one go: read further here first, paced by the client.
    writer->WhenDrained([self = shared_from_this()] { self->Read(self->position_); });
  }

  Services& services_;
  const std::weak_ptr<StreamWriter<UserEvent>> writer_;
  const Filter filter_;
  const bool with_tokens_;
  // Touched by one read's continuation at a time, before the feed has the stream.
  int64_t position_ = 0;  // every matching event up to it has been written
  bool checked_range_ = false;
};

}  // namespace

void WatchUserEvents(Services& services,
                     StreamExchange<user::v1::WatchUserEventsRequest, UserEvent> call) {
  absl::StatusOr<Filter> filter = FilterOf(*call.request);
  if (!filter.ok()) return call.writer->Finish(filter.status());
  if (services.events == nullptr) {
    return call.writer->Finish(absl::UnavailableError("event streams are not served here"));
  }
  const bool with_tokens = services.watch_include_tokens && call.privileged;
  call.writer->SetMaxQueued(kMaxQueuedEvents);

  // A drain ends the stream (the client resumes elsewhere with the last id it got); the monitor
  // keeps only a weak reference, so the stream's end lets it go.
  std::weak_ptr<StreamWriter<UserEvent>> stream = call.writer;
  services.health.Watch(call.writer, [stream](bool, bool draining) {
    if (!draining) return;
    if (auto writer = stream.lock()) {
      writer->Finish(absl::UnavailableError("server is shutting down: resume with after_id"));
    }
  });
  auto watch = std::make_shared<EventWatch>(services, call.writer, *std::move(filter), with_tokens);
  watch->Start(call.request->after_id());
}

}  // namespace usersvc::callbacks
