#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <absl/time/time.h>

#include "bench/loadgen/report.h"

namespace usersvc::bench {

/// A load run over plain HTTP/2 (nghttp2), speaking just the part of gRPC a unary call needs: a
/// HEADERS frame, one length-prefixed message, and the grpc-status trailer (or a trailers-only
/// answer). It costs a fraction of what a gRPC C++ client does per call, so on shared cores more
/// of the CPU goes to the server being measured; h2load is as cheap but sends one body only.
struct H2Run {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string path;                 // "/user.v1.UserService/GetUser"
  std::vector<std::string> bodies;  // serialized request messages, sent in turn
  int concurrency = 50;             // calls in flight over all connections
  int connections = 1;
  int64_t limit = 0;  // calls in all; 0: until `duration` passed
  absl::Duration duration;
  absl::Duration timeout = absl::Seconds(20);                 // sent as grpc-timeout
  std::vector<std::pair<std::string, std::string>> metadata;  // more headers, on every request
};

/// Runs `run` on the calling thread (one epoll loop for every connection) and reports what it
/// saw. Connection failures count as UNAVAILABLE calls.
Report RunH2(const H2Run& run);

}  // namespace usersvc::bench
