#pragma once

#include <string>
#include <vector>

#include <absl/status/statusor.h>
#include <grpcpp/support/byte_buffer.h>

namespace usersvc::bench {

/// The full gRPC path of `call` ("user.v1.UserService.GetUser", "user.v1.UserService/GetUser"
/// or just "GetUser"), checked against the linked-in descriptors, and its request type.
struct Method {
  std::string path;  // "/user.v1.UserService/GetUser"
  std::string request_type;
  std::string response_type;
};
absl::StatusOr<Method> FindMethod(const std::string& call);

/// Request bodies from JSON text: one object, an array of objects, or one object per line (as
/// ghz's --data and --data-file take them), each encoded once into protobuf bytes.
absl::StatusOr<std::vector<grpc::ByteBuffer>> EncodeBodies(const std::string& json,
                                                           const std::string& request_type);

/// A reply of `response_type` as JSON (-O response: how bench/driver.py reads a page token).
absl::StatusOr<std::string> DecodeToJson(const grpc::ByteBuffer& reply,
                                         const std::string& response_type);

}  // namespace usersvc::bench
