#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <grpcpp/grpcpp.h>

#include "grpc/health/v1/health.grpc.pb.h"
#include "test/support/server_process.h"

namespace usersvc::test {

/// A grpc.health.v1 Watch stream of the test's, read one message at a time.
class HealthWatch {
 public:
  HealthWatch(const ServerProcess& server, const std::string& service)
      : stub_(grpc::health::v1::Health::NewStub(server.channel())) {
    context_.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(service);
    reader_ = stub_->Watch(&context_, request);
  }
  /// The next status sent, or nullopt once the stream has ended.
  std::optional<grpc::health::v1::HealthCheckResponse::ServingStatus> Next() {
    grpc::health::v1::HealthCheckResponse response;
    if (!reader_->Read(&response)) return std::nullopt;
    return response.status();
  }
  grpc::Status Finish() { return reader_->Finish(); }

 private:
  std::unique_ptr<grpc::health::v1::Health::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<grpc::health::v1::HealthCheckResponse>> reader_;
};

}  // namespace usersvc::test
