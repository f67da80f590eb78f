// HealthCheck, grpc.health.v1 and server reflection.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <thread>

#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/descriptor_database.h>
#include <grpcpp/generic/generic_stub.h>
#include <catch2/catch.hpp>

#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1/reflection.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "test/support/fixtures.h"
#include "test/support/health_watch.h"
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

TEST_CASE("grpc.health.v1 Watch sends the status at once and, at a drain, NOT_SERVING, then ends") {
  ServerProcess server;
  HealthWatch service(server, "user.v1.UserService");
  HealthWatch overall(server, "");
  HealthWatch liveness(server, "liveness");
  HealthWatch unknown(server, "no.such.Service");
  CHECK(service.Next() == HealthCheckResponse::SERVING);
  CHECK(overall.Next() == HealthCheckResponse::SERVING);
  CHECK(liveness.Next() == HealthCheckResponse::SERVING);
  // An unknown name is not an error for Watch: the stream stays open in case it appears.
  CHECK(unknown.Next() == HealthCheckResponse::SERVICE_UNKNOWN);

  server.Signal(SIGTERM);
  CHECK(service.Next() == HealthCheckResponse::NOT_SERVING);
  CHECK(overall.Next() == HealthCheckResponse::NOT_SERVING);
  for (HealthWatch* watch : {&service, &overall, &liveness, &unknown}) {
    CHECK(watch->Next() == std::nullopt);
    CHECK(watch->Finish().error_code() == grpc::StatusCode::UNAVAILABLE);
  }
  // Open watches do not hold the drain up.
  CHECK(server.WaitForExit(3) == 0);
}

TEST_CASE("grpc.health.v1 Check answers NOT_FOUND for a service it does not know") {
  ServerProcess server;
  auto stub = grpc::health::v1::Health::NewStub(server.channel());
  grpc::health::v1::HealthCheckRequest request;
  request.set_service("no.such.Service");
  HealthCheckResponse response;
  CHECK(stub->Check(ContextWithDeadline().get(), request, &response).error_code() ==
        grpc::StatusCode::NOT_FOUND);
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
  REQUIRE(service->method_count() == 25);  // the contract's 23, WatchUserEvents and VerifyPassword
  for (int i = 0; i < service->method_count(); ++i) {
    const std::string method = "/" + service->full_name() + "/" + service->method(i)->name();
    INFO(method);
    // A stream has no end of its own (WatchUserEvents waits for events): its deadline ends it.
    const bool streams = service->method(i)->server_streaming();
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(streams ? 1 : 5));
    grpc::CompletionQueue cq;
    // Every request message accepts the empty encoding; the stream gets a quiet one.
    grpc::Slice body(streams ? QuietWatchRequest() : std::string());
    grpc::ByteBuffer request(&body, 1);
    auto call = stub.PrepareUnaryCall(&context, method, request, &cq);
    call->StartCall();
    grpc::ByteBuffer reply;
    grpc::Status status;
    call->Finish(&reply, &status, reinterpret_cast<void*>(1));
    void* tag = nullptr;
    bool ok = false;
    REQUIRE(cq.Next(&tag, &ok));
    CHECK(status.error_code() != grpc::StatusCode::UNIMPLEMENTED);
    if (!streams) CHECK(status.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED);
    cq.Shutdown();
    while (cq.Next(&tag, &ok)) {
    }
  }
}

/// One version of the reflection protocol (v1 and v1alpha have the same messages).
template <typename ServiceType, typename RequestType, typename ResponseType>
struct ReflectionVersion {
  using Service = ServiceType;
  using Request = RequestType;
  using Response = ResponseType;
};
using ReflectionV1 = ReflectionVersion<grpc::reflection::v1::ServerReflection,
                                       grpc::reflection::v1::ServerReflectionRequest,
                                       grpc::reflection::v1::ServerReflectionResponse>;
using ReflectionV1alpha = ReflectionVersion<grpc::reflection::v1alpha::ServerReflection,
                                            grpc::reflection::v1alpha::ServerReflectionRequest,
                                            grpc::reflection::v1alpha::ServerReflectionResponse>;

/// Sends `requests` on one reflection stream, as grpcurl does; the responses, in order.
template <typename Version>
std::vector<typename Version::Response> Reflect(
    const ServerProcess& server, const std::vector<typename Version::Request>& requests) {
  auto stub = Version::Service::NewStub(server.channel());
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  auto stream = stub->ServerReflectionInfo(&context);
  std::vector<typename Version::Response> responses;
  for (const auto& request : requests) {
    typename Version::Response response;
    if (!stream->Write(request) || !stream->Read(&response)) break;
    responses.push_back(std::move(response));
  }
  stream->WritesDone();
  CHECK(stream->Finish().ok());
  return responses;
}

/// The names of the files in a file_descriptor_response, in order.
template <typename Response>
std::vector<std::string> FileNames(const Response& response) {
  std::vector<std::string> names;
  for (const std::string& bytes : response.file_descriptor_response().file_descriptor_proto()) {
    google::protobuf::FileDescriptorProto file;
    REQUIRE(file.ParseFromString(bytes));
    names.push_back(file.name());
  }
  return names;
}

bool Contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

/// What grpcurl does to call a method it knows nothing about: list the services, fetch the file
/// that defines one with everything it imports, and be told plainly about what does not exist.
template <typename Version>
void CheckReflection() {
  ServerProcess server;
  typename Version::Request list;
  list.set_list_services("");
  typename Version::Request by_symbol;
  by_symbol.set_file_containing_symbol("user.v1.UserService");
  typename Version::Request by_name;
  by_name.set_file_by_filename("grpc/health/v1/health.proto");
  typename Version::Request unknown;
  unknown.set_file_containing_symbol("no.such.Service");
  typename Version::Request empty;  // asks for nothing
  const auto responses = Reflect<Version>(server, {list, by_symbol, by_name, unknown, empty});
  REQUIRE(responses.size() == 5);

  std::vector<std::string> services;
  for (const auto& service : responses[0].list_services_response().service()) {
    services.push_back(service.name());
  }
  CHECK(Contains(services, "user.v1.UserService"));
  CHECK(Contains(services, "grpc.health.v1.Health"));
  CHECK(Contains(services, "grpc.reflection.v1.ServerReflection"));
  CHECK(Contains(services, "grpc.reflection.v1alpha.ServerReflection"));

  const std::vector<std::string> files = FileNames(responses[1]);
  REQUIRE_FALSE(files.empty());
  CHECK(files.front() == "user/v1/user.proto");  // the file asked for comes first
  CHECK(Contains(files, "common/v1/common.proto"));
  CHECK(Contains(files, "google/protobuf/timestamp.proto"));  // imports of imports too
  // A client can rebuild the service from the response alone.
  google::protobuf::SimpleDescriptorDatabase database;
  for (const std::string& bytes : responses[1].file_descriptor_response().file_descriptor_proto()) {
    google::protobuf::FileDescriptorProto file;
    REQUIRE(file.ParseFromString(bytes));
    database.Add(file);
  }
  google::protobuf::DescriptorPool pool(&database);
  const google::protobuf::ServiceDescriptor* service =
      pool.FindServiceByName("user.v1.UserService");
  REQUIRE(service != nullptr);
  CHECK(service->method_count() == 25);
  CHECK(FileNames(responses[2]) == std::vector<std::string>{"grpc/health/v1/health.proto"});
  CHECK(responses[3].error_response().error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(responses[3].original_request().file_containing_symbol() == "no.such.Service");
  CHECK(responses[4].error_response().error_code() == grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_CASE("server reflection v1alpha lists the services and describes them with their imports") {
  CheckReflection<ReflectionV1alpha>();
}

TEST_CASE("server reflection v1 lists the services and describes them with their imports") {
  CheckReflection<ReflectionV1>();
}

}  // namespace
}  // namespace usersvc::test
