#pragma once

#include <absl/functional/any_invocable.h>
#include <absl/status/status.h>
#include <absl/time/time.h>

namespace usersvc::callbacks {

/// Ends a call: OK sends the response, anything else the status. Called exactly once, from any
/// thread; nothing may touch the exchange's request or response after it.
using Finish = absl::AnyInvocable<void(absl::Status) &&>;

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
