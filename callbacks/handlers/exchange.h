#pragma once

#include <utility>

#include <absl/functional/any_invocable.h>
#include <absl/status/status.h>
#include <absl/time/time.h>

namespace usersvc::callbacks {

/// Ends a call: OK sends the response, anything else the status. Called at most once, from any
/// thread; nothing may touch the exchange's request or response after it. Move-only, and it
/// cannot be forgotten: one destroyed without having been called (a handler path that dropped
/// it, a callback destroyed unrun) answers INTERNAL and logs, so the caller is never left waiting
/// for its deadline and the drain never waits for a call nobody will answer.
class Finish {
 public:
  using Answer = absl::AnyInvocable<void(absl::Status) &&>;

  Finish() = default;  // answers nothing: for a holder that is given its Finish later
  explicit Finish(Answer answer) : answer_(std::move(answer)) {}
  Finish(Finish&& other) noexcept : answer_(std::exchange(other.answer_, nullptr)) {}
  Finish& operator=(Finish&& other) noexcept {
    if (this != &other) {
      Drop();
      answer_ = std::exchange(other.answer_, nullptr);
    }
    return *this;
  }
  Finish(const Finish&) = delete;
  Finish& operator=(const Finish&) = delete;
  ~Finish() { Drop(); }

  void operator()(absl::Status status) && {
    Answer answer = std::exchange(answer_, nullptr);
    if (answer) std::move(answer)(std::move(status));
  }
  /// Whether the call is still to be answered through this.
  explicit operator bool() const { return static_cast<bool>(answer_); }

 private:
  /// Answers INTERNAL if nothing did.
  void Drop();

  Answer answer_;
};

/// What a handler gets for one call: the request, the response to fill in, the caller's deadline
/// and how to say it is done. Handlers know nothing of gRPC; the server owns both messages until
/// `finish` has run.
template <typename Request, typename Response>
struct Exchange {
  const Request* request;
  Response* response;
  absl::Time deadline;
  Finish finish;
};

}  // namespace usersvc::callbacks
