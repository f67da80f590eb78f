#pragma once

#include <cstddef>
#include <memory>

#include <absl/functional/any_invocable.h>
#include <absl/status/status.h>
#include <absl/time/time.h>

namespace usersvc::callbacks {

/// The sending end of a server-streaming call, as a handler sees it (nothing of gRPC). A handler
/// may keep it, say in a subscription, and write from any thread; the call ends by itself when
/// the client goes away, so a holder should keep only a std::weak_ptr to it.
template <typename Response>
class StreamWriter {
 public:
  virtual ~StreamWriter() = default;

  /// Queues `message`; messages reach the client in the order written, one write at a time.
  /// False once the call has ended (client gone, finished, server stopping) or when its queue is
  /// full (a reader that cannot keep up is ended with RESOURCE_EXHAUSTED): stop writing then.
  virtual bool Write(Response message) = 0;
  /// Ends the call with `status` once the queued messages are written; later writes are refused.
  virtual void Finish(absl::Status status) = 0;
  /// How many messages may wait behind the write in flight (64 unless set): a stream whose
  /// messages come in bursts sets more before its first write.
  virtual void SetMaxQueued(size_t messages) = 0;
  /// Runs `then` once every message written so far has gone out (at once when none waits), on
  /// the thread that saw it go, without the writer's lock held; dropped unrun if the call ends
  /// first. One at a time: a second replaces the first. For a writer that paces itself.
  virtual void WhenDrained(absl::AnyInvocable<void()> then) = 0;
};

/// What a server-streaming handler gets for one call. The request lives as long as the call;
/// copy what a subscription needs of it.
template <typename Request, typename Response>
struct StreamExchange {
  const Request* request;
  std::shared_ptr<StreamWriter<Response>> writer;
  absl::Time deadline;
  /// Whether the caller may see what the method keeps from other callers (WatchUserEvents: raw
  /// tokens): it holds the method's privilege scope, or callers are not authenticated at all.
  bool privileged = false;
};

}  // namespace usersvc::callbacks
