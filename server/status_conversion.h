#pragma once

#include <absl/status/status.h>
#include <grpcpp/support/status.h>

namespace usersvc::server {

/// absl and gRPC share their status code numbering. INVALID_ARGUMENT also carries a
/// google.rpc.BadRequest in grpc-status-details-bin, read off the message: by the contract every
/// such message is "<field path>: <what is wrong>". Payloads under a google.rpc type URL (a
/// RetryInfo) travel in the same details.
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace usersvc::server
