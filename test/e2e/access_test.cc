// Who may call what, through the real binary: bearer tokens against a JWKS file, the scope of
// every RPC, key rotation without a restart, client-certificate identities through a policy
// file, and a per-caller rate limit that keeps one caller's flood from the others.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <google/protobuf/descriptor.h>
#include <grpcpp/generic/generic_stub.h>
#include <catch2/catch.hpp>

#include "bench/mint/jwt_minting.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "test/support/certificates.h"
#include "test/support/fixtures.h"

namespace usersvc::test {
namespace {

using testing::ClaimsFor;
using testing::JwksOf;
using testing::SigningKey;

/// A directory for the JWKS and policy files of one test, removed with it.
class ConfigDir {
 public:
  ConfigDir() {
    char pattern[] = "/tmp/usersvc-auth-XXXXXX";
    REQUIRE(mkdtemp(pattern) != nullptr);
    dir_ = pattern;
  }
  ~ConfigDir() { std::filesystem::remove_all(dir_); }
  /// Writes `content` to `name` as a rotation would: a new file renamed over the old one.
  std::string Write(const std::string& name, const std::string& content) const {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path + ".new") << content;
    std::filesystem::rename(path + ".new", path);
    return path;
  }

 private:
  std::string dir_;
};

std::vector<std::string> JwtArgs(const std::string& jwks_path) {
  return {"--auth_jwks_file=" + jwks_path, std::string("--auth_issuer=") + testing::kTestIssuer,
          std::string("--auth_audience=") + testing::kTestAudience};
}

std::unique_ptr<grpc::ClientContext> WithToken(const std::string& token) {
  auto context = ContextWithDeadline(5);
  if (!token.empty()) context->AddMetadata("authorization", "Bearer " + token);
  return context;
}

grpc::Status GetUserWith(Stub& stub, const std::string& token) {
  user::v1::GetUserRequest request;
  request.set_user_id("00000000-0000-4000-8000-000000000000");
  user::v1::GetUserResponse response;
  return stub.GetUser(WithToken(token).get(), request, &response);
}

/// Calls `method` of UserService with an empty request and `token`: the code it ends with.
grpc::StatusCode CallByName(grpc::GenericStub& stub, const std::string& method,
                            const std::string& token) {
  auto context = WithToken(token);
  grpc::CompletionQueue cq;
  // Empty requests; a quiet one for WatchUserEvents (QuietWatchRequest).
  const std::string bytes = method == "WatchUserEvents" ? QuietWatchRequest() : "";
  grpc::Slice slice(bytes);
  grpc::ByteBuffer request(&slice, 1);
  auto call = stub.PrepareUnaryCall(context.get(), "/user.v1.UserService/" + method, request, &cq);
  call->StartCall();
  grpc::ByteBuffer response;
  grpc::Status status;
  call->Finish(&response, &status, reinterpret_cast<void*>(1));
  void* tag = nullptr;
  bool ok = false;
  REQUIRE(cq.Next(&tag, &ok));
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  return status.error_code();
}

/// Opens a server reflection stream with `token`, closes it at once and returns how it ended.
grpc::StatusCode ReflectionCode(const std::shared_ptr<grpc::Channel>& channel,
                                const std::string& token) {
  grpc::GenericStub generic(channel);
  auto context = WithToken(token);
  grpc::CompletionQueue cq;
  auto call = generic.PrepareCall(context.get(),
                                  "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", &cq);
  void* tag = nullptr;
  bool ok = false;
  auto step = [&](intptr_t id) {
    while (cq.Next(&tag, &ok) && tag != reinterpret_cast<void*>(id)) {
    }
  };
  call->StartCall(reinterpret_cast<void*>(1));
  step(1);
  call->WritesDone(reinterpret_cast<void*>(2));
  step(2);
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(3));
  step(3);
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  return status.error_code();
}

}  // namespace

TEST_CASE("With a JWKS, calls need a valid bearer token, and a refusal says nothing of why") {
  const SigningKey rsa(SigningKey::Type::kRsa2048, "rsa-1");
  const SigningKey ec(SigningKey::Type::kEcP256, "ec-1");
  const SigningKey stranger(SigningKey::Type::kRsa2048, "rsa-1");
  ConfigDir config;
  ServerProcess::Options options;
  options.args = JwtArgs(config.Write("jwks.json", JwksOf({&rsa, &ec})));
  ServerProcess server(options);
  auto stub = server.stub();

  const nlohmann::json claims = ClaimsFor("orders", "user.read");
  CHECK(GetUserWith(*stub, rsa.Sign(claims)).error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(GetUserWith(*stub, ec.Sign(claims)).error_code() == grpc::StatusCode::NOT_FOUND);

  const grpc::Status missing = GetUserWith(*stub, "");
  CHECK(missing.error_code() == grpc::StatusCode::UNAUTHENTICATED);
  nlohmann::json expired = claims, wrong_issuer = claims, wrong_audience = claims;
  expired["exp"] = absl::ToUnixSeconds(absl::Now()) - 600;
  wrong_issuer["iss"] = "https://elsewhere.test";
  wrong_audience["aud"] = "another-service";
  const std::string hs256 = testing::Base64Url(R"({"alg":"HS256","kid":"rsa-1"})") + "." +
                            testing::Base64Url(claims.dump()) + ".c2lnbmF0dXJl";
  const std::string none =
      testing::Base64Url(R"({"alg":"none"})") + "." + testing::Base64Url(claims.dump()) + ".";
  const std::vector<std::string> refused = {rsa.Sign(expired),
                                            rsa.Sign(wrong_issuer),
                                            rsa.Sign(wrong_audience),
                                            rsa.Sign(claims, {{"kid", "rsa-9"}}),
                                            stranger.Sign(claims),
                                            hs256,
                                            none,
                                            "garbage"};
  for (const std::string& token : refused) {
    const grpc::Status status = GetUserWith(*stub, token);
    CHECK(status.error_code() == grpc::StatusCode::UNAUTHENTICATED);
    CHECK(status.error_message() == "invalid bearer token");
  }
  // Another scheme, or two authorization headers, is no token either.
  auto basic = ContextWithDeadline(5);
  basic->AddMetadata("authorization", "Basic dXNlcjpwYXNz");
  user::v1::GetUserResponse response;
  CHECK(stub->GetUser(basic.get(), {}, &response).error_code() ==
        grpc::StatusCode::UNAUTHENTICATED);

  // grpc.health.v1 stays open for balancers and kubelets.
  auto health = grpc::health::v1::Health::NewStub(server.channel());
  grpc::health::v1::HealthCheckResponse serving;
  CHECK(health->Check(ContextWithDeadline(5).get(), {}, &serving).ok());
  // Neither the tokens nor their signatures reach the log.
  const std::string log = server.Log();
  for (const std::string& token : refused) {
    const std::string signature = token.substr(token.rfind('.') + 1);
    if (signature.size() > 20) CHECK(log.find(signature) == std::string::npos);
  }
}

TEST_CASE("Every UserService RPC needs its scope: without it PERMISSION_DENIED, with it served") {
  const SigningKey ec(SigningKey::Type::kEcP256, "ec-1");
  ConfigDir config;
  ServerProcess::Options options;
  options.args = JwtArgs(config.Write("jwks.json", JwksOf({&ec})));
  ServerProcess server(options);
  grpc::GenericStub generic(server.channel());

  const std::map<std::string, std::string> others = {{"user.read", "user.write user.credentials"},
                                                     {"user.write", "user.read user.credentials"},
                                                     {"user.credentials", "user.read user.write"}};
  const auto* service = google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
      user::v1::UserService::service_full_name());
  std::map<std::string, int> methods_per_scope;
  for (int i = 0; i < service->method_count(); ++i) {
    const std::string method = service->method(i)->name();
    INFO(method);
    // The scope is the one whose absence is refused; exactly one scope must be.
    std::string needed;
    for (const auto& [scope, rest] : others) {
      const grpc::StatusCode without = CallByName(generic, method, ec.Sign(ClaimsFor("t", rest)));
      CHECK(without != grpc::StatusCode::UNAUTHENTICATED);
      if (without == grpc::StatusCode::PERMISSION_DENIED) {
        CHECK(needed.empty());
        needed = scope;
      }
    }
    REQUIRE_FALSE(needed.empty());
    ++methods_per_scope[needed];
    const grpc::StatusCode with = CallByName(generic, method, ec.Sign(ClaimsFor("t", needed)));
    CHECK(with != grpc::StatusCode::PERMISSION_DENIED);
    CHECK(with != grpc::StatusCode::UNAUTHENTICATED);
    CHECK(CallByName(generic, method, "") == grpc::StatusCode::UNAUTHENTICATED);
  }
  CHECK(methods_per_scope ==
        std::map<std::string, int>{{"user.credentials", 6}, {"user.read", 9}, {"user.write", 10}});
}

TEST_CASE("Event stream: with auth on, raw tokens are kept only for user.events.tokens") {
  const SigningKey ec(SigningKey::Type::kEcP256, "ec-1");
  ConfigDir config;
  ServerProcess::Options options;
  options.args = JwtArgs(config.Write("jwks.json", JwksOf({&ec})));
  options.args.push_back("--watch_include_tokens");
  ServerProcess server(options);
  auto stub = server.stub();
  const std::string everything =
      ec.Sign(ClaimsFor("admin", "user.read user.write user.credentials"));
  user::v1::CreateUserRequest create;
  const std::string suffix = UniqueSuffix();
  create.set_email("events." + suffix + "@example.com");
  create.set_username("events_" + suffix);
  create.set_password("correct horse battery staple");
  create.set_first_name("Ev");
  create.set_last_name("Ents");
  user::v1::CreateUserResponse created;
  REQUIRE(stub->CreateUser(WithToken(everything).get(), create, &created).ok());
  user::v1::SendVerificationEmailRequest send;
  send.set_user_id(created.user().id());
  user::v1::SendVerificationEmailResponse sent;
  REQUIRE(stub->SendVerificationEmail(WithToken(everything).get(), send, &sent).ok());

  BlockingDb db;
  // The stream from the user's user.created on: the verification request comes after it.
  const std::string before =
      db.Scalar("SELECT min(id) FROM user_events WHERE user_id = $1::uuid", {created.user().id()});
  auto payload_of_request = [&](const std::string& scopes) {
    user::v1::WatchUserEventsRequest request;
    request.set_after_id(std::stoll(before));
    request.set_user_id(created.user().id());
    request.add_event_types("user.email_verification_requested");
    auto context = WithToken(ec.Sign(ClaimsFor("consumer", scopes)));
    auto reader = stub->WatchUserEvents(context.get(), request);
    user::v1::UserEvent event;
    const bool got = reader->Read(&event);
    context->TryCancel();
    reader->Finish();
    REQUIRE(got);
    return event.payload();
  };
  CHECK_FALSE(payload_of_request("user.read").fields().contains("token"));
  CHECK(payload_of_request("user.read user.events.tokens").fields().at("token").string_value() ==
        LatestToken(db, created.user().id(), "user.email_verification_requested"));
  // The privilege alone does not open the stream.
  {
    user::v1::WatchUserEventsRequest request;
    auto context = WithToken(ec.Sign(ClaimsFor("consumer", "user.events.tokens")));
    auto reader = stub->WatchUserEvents(context.get(), request);
    user::v1::UserEvent event;
    CHECK_FALSE(reader->Read(&event));
    CHECK(reader->Finish().error_code() == grpc::StatusCode::PERMISSION_DENIED);
  }
}

TEST_CASE("Keys rotate by rewriting the JWKS file, without a restart") {
  const SigningKey old_key(SigningKey::Type::kRsa2048, "2026-11");
  const SigningKey new_key(SigningKey::Type::kEcP256, "2026-12");
  ConfigDir config;
  ServerProcess::Options options;
  options.args = JwtArgs(config.Write("jwks.json", JwksOf({&old_key})));
  ServerProcess server(options);
  auto stub = server.stub();
  const nlohmann::json claims = ClaimsFor("orders", "user.read");
  CHECK(GetUserWith(*stub, old_key.Sign(claims)).error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(GetUserWith(*stub, new_key.Sign(claims)).error_code() == grpc::StatusCode::UNAUTHENTICATED);

  // Rotation step 1: publish the new key beside the old one; step 2: drop the old one.
  auto wait_for = [&](const SigningKey& key, grpc::StatusCode code) {
    for (int i = 0; i < 50 && GetUserWith(*stub, key.Sign(claims)).error_code() != code; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return GetUserWith(*stub, key.Sign(claims)).error_code();
  };
  config.Write("jwks.json", JwksOf({&old_key, &new_key}));
  CHECK(wait_for(new_key, grpc::StatusCode::NOT_FOUND) == grpc::StatusCode::NOT_FOUND);
  CHECK(GetUserWith(*stub, old_key.Sign(claims)).error_code() == grpc::StatusCode::NOT_FOUND);
  config.Write("jwks.json", JwksOf({&new_key}));
  CHECK(wait_for(old_key, grpc::StatusCode::UNAUTHENTICATED) == grpc::StatusCode::UNAUTHENTICATED);
  CHECK(GetUserWith(*stub, new_key.Sign(claims)).error_code() == grpc::StatusCode::NOT_FOUND);

  // A broken file is reported and the keys in force stay.
  config.Write("jwks.json", "{\"keys\": [");
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  CHECK(GetUserWith(*stub, new_key.Sign(claims)).error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(server.Log().find("configuration file not reloaded") != std::string::npos);
}

TEST_CASE("A JWKS without issuer and audience, or a bad JWKS file, stops the service at start") {
  const SigningKey ec(SigningKey::Type::kEcP256, "ec-1");
  ConfigDir config;
  const std::string good = config.Write("jwks.json", JwksOf({&ec}));
  const std::string bad =
      config.Write("bad.json", R"({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]})");
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--auth_jwks_file=" + good}, JwtArgs(bad),
        JwtArgs(config.Write("empty.json", "")),
        std::vector<std::string>{"--auth_policy_file=" + good},
        std::vector<std::string>{"--rate_limit=fast"}}) {
    ServerProcess::Options options;
    options.args = args;
    options.wait_until_serving = false;
    options.wait_until_listening = false;
    ServerProcess server(options);
    CHECK(server.WaitForExit(10) == 2);
  }
}

TEST_CASE("Server reflection needs an authenticated caller, and --reflection=false turns it off") {
  const SigningKey ec(SigningKey::Type::kEcP256, "ec-1");
  ConfigDir config;
  ServerProcess::Options options;
  options.args = JwtArgs(config.Write("jwks.json", JwksOf({&ec})));
  ServerProcess server(options);
  CHECK(ReflectionCode(server.channel(), "") == grpc::StatusCode::UNAUTHENTICATED);
  CHECK(ReflectionCode(server.channel(), ec.Sign(ClaimsFor("grpcurl", ""))) ==
        grpc::StatusCode::OK);

  ServerProcess::Options off;
  off.args = {"--reflection=false"};
  ServerProcess without(off);
  CHECK(ReflectionCode(without.channel(), "") == grpc::StatusCode::UNIMPLEMENTED);
}

TEST_CASE("Client certificates are identities: their URI SAN or CN maps to scopes by policy") {
  Certificates certs;
  ConfigDir config;
  const std::string policy =
      config.Write("policy.json", R"({"spiffe://shop.test/ns/orders/sa/orders": ["user.read"],
                         "usersvc-test-client": ["user.write"]})");
  ServerProcess::Options options;
  options.args = {"--tls_cert=" + certs.Path("server.crt"), "--tls_key=" + certs.Path("server.key"),
                  "--tls_client_ca=" + certs.Path("ca.crt"), "--auth_policy_file=" + policy};
  auto credentials_of = [&](const std::string& client) {
    grpc::SslCredentialsOptions tls;
    tls.pem_root_certs = certs.Read("ca.crt");
    tls.pem_private_key = certs.Read(client + ".key");
    tls.pem_cert_chain = certs.Read(client + ".crt");
    return grpc::SslCredentials(tls);
  };
  options.credentials = credentials_of("client");
  ServerProcess server(options);
  auto stub_of = [&](const std::string& client) {
    return user::v1::UserService::NewStub(
        grpc::CreateChannel("ipv4:" + server.address(), credentials_of(client)));
  };
  auto orders = stub_of("spiffe-client");  // user.read, by its SPIFFE ID
  auto admin = stub_of("client");          // user.write, by its CN
  CHECK(GetUserWith(*orders, "").error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(GetUserWith(*admin, "").error_code() == grpc::StatusCode::PERMISSION_DENIED);
  user::v1::DeleteUserRequest remove;
  remove.set_user_id("00000000-0000-4000-8000-000000000000");
  user::v1::DeleteUserResponse removed;
  CHECK(orders->DeleteUser(ContextWithDeadline(5).get(), remove, &removed).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);
  CHECK(admin->DeleteUser(ContextWithDeadline(5).get(), remove, &removed).error_code() ==
        grpc::StatusCode::NOT_FOUND);

  // The policy is read again when it changes: the CN loses user.write and gains user.read.
  config.Write("policy.json", R"({"usersvc-test-client": ["user.read"]})");
  for (int i = 0; i < 50 && GetUserWith(*admin, "").error_code() != grpc::StatusCode::NOT_FOUND;
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(GetUserWith(*admin, "").error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(GetUserWith(*orders, "").error_code() == grpc::StatusCode::PERMISSION_DENIED);
}

TEST_CASE("Over its rate limit a caller gets RESOURCE_EXHAUSTED with RetryInfo, and others go on") {
  const SigningKey ec(SigningKey::Type::kEcP256, "ec-1");
  ConfigDir config;
  ServerProcess::Options options;
  options.args = JwtArgs(config.Write("jwks.json", JwksOf({&ec})));
  options.args.push_back("--rate_limit=20:20");
  ServerProcess server(options);
  auto stub = server.stub();
  const std::string flood = ec.Sign(ClaimsFor("flood", "user.read"));
  const std::string quiet = ec.Sign(ClaimsFor("quiet", "user.read"));

  // The flooding caller sends 200 calls as fast as it can, 8 at a time, while the quiet one
  // makes one call every 100 ms (10 per second, under its limit of 20).
  std::atomic<bool> flooding = true;
  std::atomic<int> quiet_refused = 0, quiet_calls = 0;
  std::thread quiet_caller([&] {
    auto quiet_stub = user::v1::UserService::NewStub(server.channel());
    while (flooding) {
      if (GetUserWith(*quiet_stub, quiet).error_code() != grpc::StatusCode::NOT_FOUND)
        ++quiet_refused;
      ++quiet_calls;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  std::vector<grpc::Status> statuses(200);
  std::vector<std::thread> flooders;
  for (int t = 0; t < 8; ++t) {
    flooders.emplace_back([&, t] {
      for (size_t i = t; i < statuses.size(); i += 8) statuses[i] = GetUserWith(*stub, flood);
    });
  }
  for (auto& thread : flooders) thread.join();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  flooding = false;
  quiet_caller.join();

  int served = 0, limited = 0;
  for (const grpc::Status& status : statuses) {
    if (status.error_code() == grpc::StatusCode::NOT_FOUND) ++served;
    if (status.error_code() != grpc::StatusCode::RESOURCE_EXHAUSTED) continue;
    ++limited;
    google::rpc::Status details;
    REQUIRE(details.ParseFromString(status.error_details()));
    REQUIRE(details.details_size() == 1);
    google::rpc::RetryInfo retry;
    REQUIRE(details.details(0).UnpackTo(&retry));
    CHECK(retry.retry_delay().seconds() * 1'000'000'000LL + retry.retry_delay().nanos() > 0);
    CHECK(retry.retry_delay().seconds() < 1);
  }
  INFO("served " << served << ", limited " << limited);
  CHECK(served + limited == 200);
  CHECK(limited > 100);  // a burst of 20 plus 20 per second of flooding
  CHECK(served >= 20);
  CHECK(quiet_calls > 0);
  CHECK(quiet_refused == 0);
}

}  // namespace usersvc::test
