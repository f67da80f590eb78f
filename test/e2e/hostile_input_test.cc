// Hostile input: SQL in every string field, bytes that are not the message they claim to be,
// oversized messages, unknown methods and broken HTTP/2. Each gets a clear status or a closed
// connection, nothing is lost, and the service keeps serving.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <string>

#include <fmt/format.h>
#include <grpcpp/generic/generic_stub.h>
#include <catch2/catch.hpp>

#include "test/support/fixtures.h"

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

/// A plain TCP connection to the server, for writing HTTP/2 by hand.
class RawConnection {
 public:
  explicit RawConnection(const std::string& address) {
    const int port = std::stoi(address.substr(address.rfind(':') + 1));
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<uint16_t>(port));
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(connect(fd_, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0);
  }
  ~RawConnection() { close(fd_); }

  void Send(const std::string& bytes) {
    REQUIRE(write(fd_, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
  }

  /// Reads frames for up to `seconds`; true once the server ends stream `stream` (HEADERS with
  /// END_STREAM or RST_STREAM) or the whole connection (GOAWAY or close).
  bool WaitForStreamEnd(uint32_t stream, double seconds) {
    std::string buffer;
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < until) {
      pollfd readable{fd_, POLLIN, 0};
      if (poll(&readable, 1, 100) <= 0) continue;
      char chunk[4096];
      const ssize_t n = read(fd_, chunk, sizeof chunk);
      if (n <= 0) return true;  // closed
      buffer.append(chunk, static_cast<size_t>(n));
      while (buffer.size() >= 9) {
        const auto byte = [&](size_t i) { return static_cast<uint8_t>(buffer[i]); };
        const size_t length = (byte(0) << 16) | (byte(1) << 8) | byte(2);
        if (buffer.size() < 9 + length) break;
        const uint8_t type = byte(3);
        const uint8_t flags = byte(4);
        const uint32_t id = ((byte(5) & 0x7fu) << 24) | (byte(6) << 16) | (byte(7) << 8) | byte(8);
        if (type == 0x7) return true;                                   // GOAWAY
        if (id == stream && type == 0x3) return true;                   // RST_STREAM
        if (id == stream && type == 0x1 && (flags & 0x1)) return true;  // trailers
        buffer.erase(0, 9 + length);
      }
    }
    return false;
  }

 private:
  int fd_ = -1;
};

std::string Frame(uint8_t type, uint8_t flags, uint32_t stream, const std::string& payload) {
  std::string frame;
  const size_t n = payload.size();
  frame += {static_cast<char>(n >> 16), static_cast<char>(n >> 8), static_cast<char>(n)};
  frame += {static_cast<char>(type), static_cast<char>(flags)};
  frame += {static_cast<char>(stream >> 24), static_cast<char>(stream >> 16),
            static_cast<char>(stream >> 8), static_cast<char>(stream)};
  return frame + payload;
}

/// An HPACK "literal header field without indexing, new name", no Huffman coding.
std::string Header(const std::string& name, const std::string& value) {
  return std::string(1, '\0') + static_cast<char>(name.size()) + name +
         static_cast<char>(value.size()) + value;
}

std::string Preface() {
  return std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") + Frame(0x4, 0, 0, "");  // + SETTINGS
}

std::string GetUserHeaders(uint32_t stream) {
  const std::string block = Header(":method", "POST") + Header(":scheme", "http") +
                            Header(":path", kGetUser) + Header(":authority", "localhost") +
                            Header("content-type", "application/grpc") + Header("te", "trailers");
  return Frame(0x1, 0x4, stream, block);  // HEADERS, END_HEADERS
}

TEST_CASE("Broken HTTP/2 and gRPC framing end the stream or the connection, never the service") {
  ServerProcess server;
  auto stub = server.stub();
  TestUser who = CreateTestUser(*stub);

  SECTION("a gRPC message shorter than its length prefix, then end of stream") {
    RawConnection connection(server.address());
    const std::string truncated = std::string("\0\0\0\0\x64", 5) + "only ten b";  // claims 100
    connection.Send(Preface() + GetUserHeaders(1) + Frame(0x0, 0x1, 1, truncated));
    CHECK(connection.WaitForStreamEnd(1, 5));
  }
  SECTION("a DATA frame that claims 1,000 bytes and sends ten, then the client goes away") {
    RawConnection connection(server.address());
    connection.Send(Preface() + GetUserHeaders(1) +
                    Frame(0x0, 0, 1, std::string(1000, 'x')).substr(0, 19));
  }
  SECTION("a header block HPACK cannot decode, and garbage instead of a preface") {
    RawConnection bad_headers(server.address());
    bad_headers.Send(Preface() + Frame(0x1, 0x5, 1, std::string("\x80\xff\xff\xff", 4)));
    CHECK(bad_headers.WaitForStreamEnd(1, 5));
    RawConnection garbage(server.address());
    garbage.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n" + std::string(64, '\xff'));
    CHECK(garbage.WaitForStreamEnd(0, 5));
  }
  RequireStillServing(*stub, who);
}

}  // namespace
}  // namespace usersvc::test
