#pragma once

#include <absl/status/status.h>
#include <grpcpp/support/status.h>

namespace usersvc::server {

/// absl and gRPC share their status code numbering. A field violation (base/field_violation.h)
/// also carries a google.rpc.BadRequest in grpc-status-details-bin, and payloads under a
/// google.rpc type URL (a RetryInfo) travel in the same details.
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace usersvc::server
