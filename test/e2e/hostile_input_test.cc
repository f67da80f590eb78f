// Hostile input: SQL in every string field, bytes that are not the message they claim to be,
// oversized messages, unknown methods and broken HTTP/2. Each gets a clear status or a closed
// connection, nothing is lost, and the service keeps serving.
#include <string>

#include <fmt/format.h>
#include <grpcpp/generic/generic_stub.h>
#include <catch2/catch.hpp>

#include "test/support/fixtures.h"
#include "test/support/raw_http2.h"

namespace usersvc::test {
namespace {

using user::v1::Address;

constexpr const char* kGetUser = "/user.v1.UserService/GetUser";

/// One unary call whose request is `body`, sent as is: no protobuf encoding on the client side.
grpc::Status RawCall(grpc::Channel& channel, const std::string& method, const std::string& body) {
  grpc::GenericStub stub(channel.shared_from_this());
  grpc::CompletionQueue cq;
  auto context = ContextWithDeadline(10);
  grpc::Slice slice(body);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  grpc::Status status;
  auto call = stub.PrepareUnaryCall(context.get(), method, request, &cq);
  call->StartCall();
  call->Finish(&response, &status, nullptr);
  void* tag = nullptr;
  bool ok = false;
  REQUIRE(cq.Next(&tag, &ok));
  return status;
}

/// The service still answers a well-formed call.
void RequireStillServing(Stub& stub, const TestUser& who) {
  user::v1::GetUserRequest request;
  request.set_user_id(who.user.id());
  user::v1::GetUserResponse response;
  const grpc::Status status = Call(stub, &Stub::GetUser, request, &response);
  INFO(status.error_message());
  REQUIRE(status.ok());
  CHECK(response.user().email() == who.user.email());
}

TEST_CASE("SQL-looking text in every string field is stored and returned literally") {
  ServerProcess server;
  auto stub = server.stub();
  const std::string suffix = UniqueSuffix();
  const std::string drop = "Robert'); DROP TABLE users; --";
  const std::string tautology = "x' OR '1'='1";
  const std::string wildcards = R"(%_\ $1 ;-- /* */)";

  user::v1::CreateUserRequest create;
  create.set_email("o'neil+'or'1'='1." + suffix + "@example.com");
  create.set_username("drop.table-" + suffix);
  create.set_password("'; DELETE FROM users; --");
  create.set_first_name(drop);
  create.set_last_name(tautology);
  user::v1::CreateUserResponse created;
  const grpc::Status status = Call(*stub, &Stub::CreateUser, create, &created);
  INFO(status.error_message());
  REQUIRE(status.ok());
  CHECK(created.user().email() == create.email());
  CHECK(created.user().first_name() == drop);
  CHECK(created.user().last_name() == tautology);

  user::v1::GetUserByEmailRequest by_email;
  by_email.set_email(create.email());
  user::v1::GetUserByEmailResponse found;
  REQUIRE(Call(*stub, &Stub::GetUserByEmail, by_email, &found).ok());
  CHECK(found.user().id() == created.user().id());
  CHECK(found.user().first_name() == drop);

  user::v1::UpdateUserRequest update;
  update.set_user_id(created.user().id());
  update.mutable_user()->set_last_name(wildcards);
  update.mutable_update_mask()->add_paths("last_name");
  user::v1::UpdateUserResponse updated;
  REQUIRE(Call(*stub, &Stub::UpdateUser, update, &updated).ok());
  CHECK(updated.user().last_name() == wildcards);

  // The search takes its query literally: the SQL finds the one user whose name holds it.
  user::v1::SearchUsersRequest search;
  search.set_query(drop);
  user::v1::SearchUsersResponse results;
  REQUIRE(Call(*stub, &Stub::SearchUsers, search, &results).ok());
  bool listed = false;
  for (const auto& user : results.users()) {
    CHECK(user.first_name().find(drop) != std::string::npos);
    listed = listed || user.id() == created.user().id();
  }
  CHECK(listed);

  Address address;
  address.set_type(user::v1::ADDRESS_TYPE_SHIPPING);
  address.set_label(tautology);
  address.set_recipient_name(drop);
  address.set_line1(wildcards);
  address.set_line2("'; UPDATE addresses SET is_default = false; --");
  address.set_city("Null'); SELECT pg_sleep(10); --");
  address.set_region("\\x00\\'");
  address.set_postal_code("' OR ''='");
  address.set_country_code("GB");
  user::v1::AddAddressRequest add;
  add.set_user_id(created.user().id());
  *add.mutable_address() = address;
  user::v1::AddAddressResponse added;
  REQUIRE(Call(*stub, &Stub::AddAddress, add, &added).ok());
  user::v1::GetAddressRequest get_address;
  get_address.set_user_id(created.user().id());
  get_address.set_address_id(added.address().id());
  user::v1::GetAddressResponse stored;
  REQUIRE(Call(*stub, &Stub::GetAddress, get_address, &stored).ok());
  CHECK(stored.address().label() == address.label());
  CHECK(stored.address().recipient_name() == address.recipient_name());
  CHECK(stored.address().line1() == address.line1());
  CHECK(stored.address().line2() == address.line2());
  CHECK(stored.address().city() == address.city());
  CHECK(stored.address().region() == address.region());
  CHECK(stored.address().postal_code() == address.postal_code());

  BlockingDb db;
  CHECK(db.Scalar("SELECT count(*) > 0 FROM users") == "t");
  RequireStillServing(*stub, {created.user(), create.password()});
}

TEST_CASE("Bytes that are not a valid request get a clear status and leave the service serving") {
  ServerProcess server;
  auto stub = server.stub();
  TestUser who = CreateTestUser(*stub);
  grpc::Channel& channel = *server.channel();

  SECTION("malformed protobuf: a field that claims more bytes than the message has") {
    // Far more than the 16 calls pre-posted per method: a failed parse must not use one up.
    for (int i = 0; i < 100; ++i) {
      const grpc::Status status = RawCall(channel, kGetUser, std::string("\x0a\x7f\x01\x02", 4));
      CHECK(status.error_code() == grpc::StatusCode::INTERNAL);
      CHECK(status.error_message() == "Unable to parse request");
    }
  }
  SECTION("invalid UTF-8 in a string field") {
    const std::string body = std::string("\x0a\x04", 2) + "\xff\xfe\xfd\xfc";
    const grpc::Status status = RawCall(channel, kGetUser, body);
    CHECK(status.error_code() == grpc::StatusCode::INTERNAL);
    CHECK(status.error_message() == "Unable to parse request");
  }
  SECTION("a 5 MiB message") {
    user::v1::GetUserRequest huge;
    huge.set_user_id(std::string(5 << 20, 'a'));
    const grpc::Status status = RawCall(channel, kGetUser, huge.SerializeAsString());
    CHECK(status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  }
  SECTION("an unknown method and an unknown service") {
    CHECK(RawCall(channel, "/user.v1.UserService/DropAllUsers", "").error_code() ==
          grpc::StatusCode::UNIMPLEMENTED);
    CHECK(RawCall(channel, "/user.v0.Nothing/GetUser", "").error_code() ==
          grpc::StatusCode::UNIMPLEMENTED);
  }
  SECTION("unknown fields are ignored, as protobuf requires") {
    user::v1::GetUserRequest request;
    request.set_user_id(who.user.id());
    const std::string unknown_field = std::string("\xa8\x1f\x01", 3);  // field 501, varint 1
    CHECK(RawCall(channel, kGetUser, request.SerializeAsString() + unknown_field).ok());
  }
  RequireStillServing(*stub, who);
}

TEST_CASE("Broken HTTP/2 and gRPC framing end the stream or the connection, never the service") {
  ServerProcess server;
  auto stub = server.stub();
  TestUser who = CreateTestUser(*stub);
  bool ended = false;

  SECTION("a gRPC message shorter than its length prefix, then end of stream") {
    RawHttp2Connection connection(server.port());
    const std::string truncated = GrpcMessage(std::string(100, 'x')).substr(0, 15);
    connection.Send(Http2Preface() + GrpcRequestHeaders(1, kGetUser) +
                    Http2FrameBytes(0x0, 0x1, 1, truncated));
    connection.ReadStream(1, 5, &ended);
    CHECK(ended);
  }
  SECTION("a DATA frame that claims 1,000 bytes and sends ten, then the client goes away") {
    RawHttp2Connection connection(server.port());
    connection.Send(Http2Preface() + GrpcRequestHeaders(1, kGetUser) +
                    Http2FrameBytes(0x0, 0, 1, std::string(1000, 'x')).substr(0, 19));
  }
  SECTION("a header block HPACK cannot decode, and garbage instead of a preface") {
    RawHttp2Connection bad_headers(server.port());
    bad_headers.Send(Http2Preface() +
                     Http2FrameBytes(0x1, 0x5, 1, std::string("\x80\xff\xff\xff", 4)));
    bad_headers.ReadStream(1, 5, &ended);
    CHECK(ended);
    RawHttp2Connection garbage(server.port());
    garbage.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n" + std::string(64, '\xff'));
    garbage.ReadStream(0, 5, &ended);
    CHECK(ended);
  }
  RequireStillServing(*stub, who);
}

}  // namespace
}  // namespace usersvc::test
