// Memory under hostile load: many callers each sending a request of nearly the 4 MiB limit at
// once cannot make the service hold them all; gRPC's resource quota (--grpc_memory_mb) makes
// reads wait, or refuses, once that much is in flight.
#include <cstdlib>
#include <fstream>
#include <thread>

#include <catch2/catch.hpp>

#include "test/support/fixtures.h"

namespace usersvc::test {
namespace {

/// The peak resident set of process `pid` in MiB (VmHWM).
double PeakRssMiB(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024;
  }
  return -1;
}

}  // namespace

TEST_CASE("Concurrent 4 MiB requests are held to the gRPC memory quota, and the service lives") {
  // Freed memory is returned at once, so that the peak shows what was held, not the sanitizer's
  // quarantine.
  const char* asan_options = std::getenv("ASAN_OPTIONS");
  setenv(
      "ASAN_OPTIONS",
      (std::string(asan_options != nullptr ? asan_options : "") + ":quarantine_size_mb=0").c_str(),
      1);
  ServerProcess::Options options;
  options.args = {"--grpc_memory_mb=64"};
  ServerProcess server(options);
  const double baseline = PeakRssMiB(server.pid());
  REQUIRE(baseline > 0);

  // 200 requests of 4 MiB less a little: 800 MiB if the service took them all in at once. Each
  // caller has its own connection, as an attacker's would.
  constexpr int kCallers = 200;
  const std::string big(4 * 1024 * 1024 - 1024, 'x');
  std::vector<grpc::StatusCode> codes(kCallers);
  std::vector<std::thread> callers;
  for (int i = 0; i < kCallers; ++i) {
    callers.emplace_back([&, i] {
      grpc::ChannelArguments arguments;
      arguments.SetInt("usersvc.test.caller", i);  // a channel (and connection) of its own
      arguments.SetMaxSendMessageSize(8 * 1024 * 1024);
      auto channel = grpc::CreateCustomChannel("ipv4:" + server.address(),
                                               grpc::InsecureChannelCredentials(), arguments);
      auto stub = user::v1::UserService::NewStub(channel);
      user::v1::CreateUserRequest request;
      request.set_email("big@example.com");
      request.set_first_name(big);
      user::v1::CreateUserResponse response;
      codes[i] = stub->CreateUser(ContextWithDeadline(30).get(), request, &response).error_code();
    });
  }
  for (auto& caller : callers) caller.join();
  const double peak = PeakRssMiB(server.pid());
  int refused = 0, invalid = 0;
  for (grpc::StatusCode code : codes) {
    invalid += code == grpc::StatusCode::INVALID_ARGUMENT;  // served: first_name is too long
    refused +=
        code == grpc::StatusCode::RESOURCE_EXHAUSTED || code == grpc::StatusCode::UNAVAILABLE;
  }
  INFO("peak RSS " << baseline << " MiB before, " << peak << " MiB after; " << invalid
                   << " served, " << refused << " refused");
  CHECK(invalid + refused == kCallers);
  CHECK(invalid > 0);
  CHECK(peak - baseline < 400);  // against 800 MiB of requests, each parsed into a copy as well
  // The service still answers.
  user::v1::HealthCheckResponse health;
  auto stub = server.stub();
  CHECK(stub->HealthCheck(ContextWithDeadline(5).get(), {}, &health).ok());
}

}  // namespace usersvc::test
