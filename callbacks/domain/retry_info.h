#pragma once

#include <absl/status/status.h>
#include <absl/time/time.h>

namespace usersvc::callbacks {

/// `status` (a RESOURCE_EXHAUSTED) carrying a google.rpc.RetryInfo that tells the caller when to
/// try again; server/ sends it in grpc-status-details-bin.
absl::Status WithRetryDelay(absl::Status status, absl::Duration delay);

}  // namespace usersvc::callbacks
