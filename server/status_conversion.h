#pragma once

#include <string>

#include <absl/status/status.h>
#include <grpcpp/support/status.h>

namespace usersvc::server {

/// absl and gRPC share their status code numbering; only the type changes here.
inline grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

}  // namespace usersvc::server
