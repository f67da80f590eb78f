// HealthCheck, grpc.health.v1 and server reflection.
#include <chrono>
#include <thread>

#include <grpcpp/generic/generic_stub.h>
#include <catch2/catch.hpp>

#include "grpc/health/v1/health.grpc.pb.h"
#include "test/support/server_process.h"
#include "test/support/test_database.h"

namespace usersvc::test {
namespace {

using grpc::health::v1::HealthCheckResponse;

HealthCheckResponse::ServingStatus StandardHealth(const ServerProcess& server,
                                                  const std::string& service) {
  auto stub = grpc::health::v1::Health::NewStub(server.channel());
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  HealthCheckResponse response;
  grpc::Status status = stub->Check(ContextWithDeadline().get(), request, &response);
  if (!status.ok()) return HealthCheckResponse::SERVICE_UNKNOWN;
  return response.status();
}

TEST_CASE("HealthCheck reports a healthy database, the version and the uptime") {
  ServerProcess server;
  auto stub = server.stub();
  user::v1::HealthCheckResponse response;
  // Every pool connection may take a moment to open after the first one answered the probe.
  for (int i = 0; i < 100; ++i) {
    response.Clear();
    REQUIRE(stub->HealthCheck(ContextWithDeadline().get(), {}, &response).ok());
    if (response.status() == user::v1::HEALTH_STATUS_HEALTHY) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(response.status() == user::v1::HEALTH_STATUS_HEALTHY);
  REQUIRE(response.components().contains("database"));
  const auto& database = response.components().at("database");
  CHECK(database.status() == user::v1::HEALTH_STATUS_HEALTHY);
  CHECK(database.has_latency());
  CHECK_FALSE(response.version().empty());
  CHECK((response.uptime().seconds() > 0 || response.uptime().nanos() > 0));
}

TEST_CASE("grpc.health.v1 serves the overall status and the UserService's") {
  ServerProcess server;
  CHECK(StandardHealth(server, "") == HealthCheckResponse::SERVING);
  CHECK(StandardHealth(server, "user.v1.UserService") == HealthCheckResponse::SERVING);
  CHECK(StandardHealth(server, "no.such.Service") == HealthCheckResponse::SERVICE_UNKNOWN);
  CHECK(StandardHealth(server, "liveness") == HealthCheckResponse::SERVING);
}

TEST_CASE("with the database unreachable the server starts NOT_SERVING and calls fail fast") {
  ServerProcess::Options options;
  options.database_url = "postgresql://usersvc@/usersvc?host=/nonexistent-usersvc-socket-dir";
  options.wait_until_serving = false;
  ServerProcess server(options);
  auto stub = server.stub();
  user::v1::HealthCheckResponse health;
  bool answered = false;
  for (int i = 0; i < 200 && !answered; ++i) {
    answered = stub->HealthCheck(ContextWithDeadline(1).get(), {}, &health).ok();
    if (!answered) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  REQUIRE(answered);
  CHECK(health.status() == user::v1::HEALTH_STATUS_UNHEALTHY);
  CHECK(StandardHealth(server, "") == HealthCheckResponse::NOT_SERVING);
  // The process itself is alive: a liveness probe must not restart it for the database.
  CHECK(StandardHealth(server, "liveness") == HealthCheckResponse::SERVING);

  user::v1::GetUserRequest request;
  request.set_user_id("00000000-0000-4000-8000-000000000000");
  user::v1::GetUserResponse response;
  const auto started = std::chrono::steady_clock::now();
  grpc::Status status = stub->GetUser(ContextWithDeadline(5).get(), request, &response);
  CHECK(status.error_code() == grpc::StatusCode::UNAVAILABLE);
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(1));
}

TEST_CASE("every method of the service descriptor is served: none answers UNIMPLEMENTED") {
  ServerProcess server;
  grpc::GenericStub stub(server.channel());
  const google::protobuf::ServiceDescriptor* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName("user.v1.UserService");
  REQUIRE(service != nullptr);
  REQUIRE(service->method_count() == 23);
  for (int i = 0; i < service->method_count(); ++i) {
    const std::string method = "/" + service->full_name() + "/" + service->method(i)->name();
    INFO(method);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    grpc::CompletionQueue cq;
    grpc::ByteBuffer empty_request;  // every request message accepts the empty encoding
    grpc::Slice nothing;
    empty_request = grpc::ByteBuffer(&nothing, 1);
    auto call = stub.PrepareUnaryCall(&context, method, empty_request, &cq);
    call->StartCall();
    grpc::ByteBuffer reply;
    grpc::Status status;
    call->Finish(&reply, &status, reinterpret_cast<void*>(1));
    void* tag = nullptr;
    bool ok = false;
    REQUIRE(cq.Next(&tag, &ok));
    CHECK(status.error_code() != grpc::StatusCode::UNIMPLEMENTED);
    CHECK(status.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED);
    cq.Shutdown();
    while (cq.Next(&tag, &ok)) {
    }
  }
}

TEST_CASE("server reflection lists the UserService") {
  ServerProcess server;
  grpc::GenericStub stub(server.channel());
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grpc::CompletionQueue cq;
  auto call = stub.PrepareCall(
      &context, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
  void* tag = nullptr;
  bool ok = false;
  call->StartCall(reinterpret_cast<void*>(1));
  REQUIRE((cq.Next(&tag, &ok) && ok));
  // ServerReflectionRequest{list_services: ""}: field 7, wire type 2, length 0.
  const char request_bytes[] = {0x3a, 0x00};
  grpc::Slice slice(request_bytes, sizeof request_bytes);
  grpc::ByteBuffer request(&slice, 1);
  call->Write(request, reinterpret_cast<void*>(2));
  REQUIRE((cq.Next(&tag, &ok) && ok));
  grpc::ByteBuffer reply;
  call->Read(&reply, reinterpret_cast<void*>(3));
  REQUIRE((cq.Next(&tag, &ok) && ok));
  std::vector<grpc::Slice> slices;
  REQUIRE(reply.Dump(&slices).ok());
  std::string bytes;
  for (const auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  CHECK(bytes.find("user.v1.UserService") != std::string::npos);
  CHECK(bytes.find("grpc.health.v1.Health") != std::string::npos);
  context.TryCancel();
  call->Finish(nullptr, reinterpret_cast<void*>(4));
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
}

}  // namespace
}  // namespace usersvc::test
