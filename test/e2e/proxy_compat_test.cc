// What proxies in front of the service rely on: error replies are trailers-only (Envoy retries a
// call only when nothing was sent before the error), and a request id comes back.
#include <string>

#include <catch2/catch.hpp>

#include "test/support/fixtures.h"
#include "test/support/raw_http2.h"

namespace usersvc::test {
namespace {

constexpr const char* kGetUser = "/user.v1.UserService/GetUser";

/// The HEADERS and DATA frames the server sends for one GetUser with `user_id`, over hand-written
/// HTTP/2.
std::vector<Http2Frame> GetUserFrames(const ServerProcess& server, const std::string& user_id) {
  user::v1::GetUserRequest request;
  request.set_user_id(user_id);
  RawHttp2Connection connection(server.port());
  connection.Send(Http2Preface() + GrpcRequestHeaders(1, kGetUser) +
                  Http2FrameBytes(0x0, 0x1, 1, GrpcMessage(request.SerializeAsString())));
  bool ended = false;
  std::vector<Http2Frame> frames = connection.ReadStream(1, 10, &ended);
  REQUIRE(ended);
  // Only what carries the reply: WINDOW_UPDATEs for the stream may come or not, as flow control
  // goes.
  std::erase_if(frames, [](const Http2Frame& frame) { return frame.type > 0x1; });
  return frames;
}

int Count(const std::vector<Http2Frame>& frames, uint8_t type) {
  int count = 0;
  for (const auto& frame : frames) count += frame.type == type ? 1 : 0;
  return count;
}

TEST_CASE("Error replies are trailers-only: one HEADERS frame that ends the stream, no data") {
  ServerProcess server;
  // Refused by validation, before the database, and after it (no such user).
  for (const std::string& user_id :
       {std::string("not-a-uuid"), std::string("00000000-0000-4000-8000-00000000abcd")}) {
    INFO(user_id);
    const std::vector<Http2Frame> frames = GetUserFrames(server, user_id);
    REQUIRE(frames.size() == 1);
    CHECK(frames[0].type == 0x1);
    CHECK(frames[0].ends_stream());
  }
}

TEST_CASE("A successful reply has initial metadata, the message, then trailers") {
  ServerProcess server;
  auto stub = server.stub();
  TestUser who = CreateTestUser(*stub);
  const std::vector<Http2Frame> frames = GetUserFrames(server, who.user.id());
  REQUIRE(frames.size() >= 3);
  CHECK(frames.front().type == 0x1);
  CHECK_FALSE(frames.front().ends_stream());
  CHECK(Count(frames, 0x0) >= 1);
  CHECK(frames.back().type == 0x1);
  CHECK(frames.back().ends_stream());
}

TEST_CASE("x-request-id comes back in trailing metadata and is logged with the trace id") {
  ServerProcess::Options options;
  options.args = {"--log_level=debug"};
  ServerProcess server(options);
  auto stub = server.stub();
  user::v1::GetUserRequest request;
  request.set_user_id("00000000-0000-4000-8000-00000000abcd");
  user::v1::GetUserResponse response;

  auto given = ContextWithDeadline(5);
  given->AddMetadata("x-request-id", "test-request-7");
  given->AddMetadata("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  CHECK(stub->GetUser(given.get(), request, &response).error_code() == grpc::StatusCode::NOT_FOUND);
  auto returned = given->GetServerTrailingMetadata().find("x-request-id");
  REQUIRE(returned != given->GetServerTrailingMetadata().end());
  CHECK(std::string(returned->second.data(), returned->second.size()) == "test-request-7");

  auto generated = ContextWithDeadline(5);
  CHECK(stub->GetUser(generated.get(), request, &response).error_code() ==
        grpc::StatusCode::NOT_FOUND);
  returned = generated->GetServerTrailingMetadata().find("x-request-id");
  REQUIRE(returned != generated->GetServerTrailingMetadata().end());
  CHECK(returned->second.size() == 36);

  const std::string log = server.Log();
  CHECK(log.find(R"("method":"GetUser","code":"NOT_FOUND")") != std::string::npos);
  CHECK(log.find(
            R"("x-request-id":"test-request-7","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736")") !=
        std::string::npos);
}

}  // namespace
}  // namespace usersvc::test
