// Who may call what, apart from a server: the scope table covers the whole service, the rate
// limiter keeps callers apart, certificate policies parse strictly, limits follow the cgroup.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <google/protobuf/descriptor.h>
#include <catch2/catch.hpp>

#include "auth/certificate_policy.h"
#include "auth/method_scopes.h"
#include "auth/rate_limiter.h"
#include "base/field_violation.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "server/container_limits.h"
#include "server/status_conversion.h"
#include "user/v1/user.grpc.pb.h"

namespace {

using usersvc::auth::RateLimiter;
using usersvc::auth::Scope;

}  // namespace

TEST_CASE("Every UserService RPC needs a scope, and reads, writes and credentials are apart") {
  const auto* service = google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
      user::v1::UserService::service_full_name());
  REQUIRE(service != nullptr);
  REQUIRE(service->method_count() == 25);  // the contract's 23, WatchUserEvents and VerifyPassword
  for (int i = 0; i < service->method_count(); ++i) {
    const std::string name = service->method(i)->name();
    INFO(name);
    std::optional<Scope> scope = usersvc::auth::RequiredScope(name);
    REQUIRE(scope.has_value());
    // The names say which scope is right: lookups read, password and verification RPCs are
    // credentials, everything else changes something.
    const bool credentials =
        name.find("Password") != std::string::npos || name.find("Verif") != std::string::npos;
    const bool read = name.rfind("Get", 0) == 0 || name.rfind("List", 0) == 0 ||
                      name.rfind("Search", 0) == 0 || name.rfind("Watch", 0) == 0 ||
                      name == "HealthCheck";
    CHECK(*scope == (credentials ? Scope::kCredentials : read ? Scope::kRead : Scope::kWrite));
    // Only the event stream shows a privileged caller more (the raw tokens), and by a scope of
    // its own rather than one that grants calls.
    const std::optional<Scope> privilege = usersvc::auth::PrivilegeScope(name);
    if (name == "WatchUserEvents") {
      CHECK(privilege == Scope::kEventTokens);
    } else {
      CHECK_FALSE(privilege.has_value());
    }
  }
  CHECK_FALSE(usersvc::auth::RequiredScope("NoSuchMethod").has_value());
}

TEST_CASE("The rate limit is per caller: one caller's flood leaves another's budget whole") {
  RateLimiter limiter({.per_second = 10, .burst = 5});
  const absl::Time start = absl::FromUnixSeconds(1'000'000);
  for (int i = 0; i < 5; ++i) CHECK_FALSE(limiter.Take("jwt:flood", start).has_value());
  std::optional<absl::Duration> retry = limiter.Take("jwt:flood", start);
  REQUIRE(retry.has_value());
  CHECK(*retry == absl::Milliseconds(100));  // one token at 10 per second
  for (int i = 0; i < 5; ++i) CHECK_FALSE(limiter.Take("jwt:quiet", start).has_value());
  // Tokens come back at the rate, up to the burst.
  CHECK_FALSE(limiter.Take("jwt:flood", start + absl::Milliseconds(100)).has_value());
  CHECK(limiter.Take("jwt:flood", start + absl::Milliseconds(100)).has_value());
  for (int i = 0; i < 5; ++i) {
    CHECK_FALSE(limiter.Take("jwt:flood", start + absl::Seconds(60)).has_value());
  }
  CHECK(limiter.Take("jwt:flood", start + absl::Seconds(60)).has_value());
}

TEST_CASE("Many callers do not grow the limiter without bound, nor lose a caller mid-burst") {
  RateLimiter limiter({.per_second = 1, .burst = 2});
  const absl::Time start = absl::FromUnixSeconds(1'000'000);
  CHECK_FALSE(limiter.Take("jwt:steady", start).has_value());
  CHECK_FALSE(limiter.Take("jwt:steady", start).has_value());
  // 100,000 callers, each seen once, ten seconds later: their buckets fill up and are swept.
  for (int i = 0; i < 100'000; ++i) {
    limiter.Take("ipv4:10.0." + std::to_string(i), start + absl::Seconds(10));
  }
  CHECK_FALSE(limiter.Take("jwt:steady", start + absl::Seconds(10)).has_value());
}

TEST_CASE("The --rate_limit flag reads RATE or RATE:BURST") {
  auto parsed = usersvc::auth::ParseRateLimit("200:400");
  REQUIRE(parsed.ok());
  CHECK(parsed->per_second == 200);
  CHECK(parsed->burst == 400);
  parsed = usersvc::auth::ParseRateLimit("50");
  REQUIRE(parsed.ok());
  CHECK(parsed->burst == 50);
  for (const char* bad : {"", "fast", "-1", "10:0", "1:2:3", "10:x"}) {
    INFO(bad);
    CHECK_FALSE(usersvc::auth::ParseRateLimit(bad).ok());
  }
}

TEST_CASE("A certificate policy maps identities to scopes and refuses unknown scope names") {
  auto policy = usersvc::auth::CertificatePolicy::FromJson(
      R"({"spiffe://shop.test/ns/orders/sa/orders": ["user.read"],
          "billing.shop.test": ["user.read", "user.credentials"]})");
  REQUIRE(policy.ok());
  auto orders = (*policy)->ScopesOf("spiffe://shop.test/ns/orders/sa/orders");
  REQUIRE(orders.has_value());
  CHECK(orders->Has(Scope::kRead));
  CHECK_FALSE(orders->Has(Scope::kWrite));
  CHECK((*policy)->ScopesOf("billing.shop.test")->Has(Scope::kCredentials));
  CHECK_FALSE((*policy)->ScopesOf("stranger").has_value());
  CHECK_FALSE(usersvc::auth::CertificatePolicy::FromJson(R"({"a": ["user.raed"]})").ok());
  CHECK_FALSE(usersvc::auth::CertificatePolicy::FromJson(R"({"a": "user.read"})").ok());
  CHECK_FALSE(usersvc::auth::CertificatePolicy::FromJson(R"(["user.read"])").ok());
}

TEST_CASE("RESOURCE_EXHAUSTED carries the RetryInfo a layer attached") {
  absl::Status status = absl::ResourceExhaustedError("rate limit exceeded");
  google::rpc::RetryInfo retry;
  retry.mutable_retry_delay()->set_nanos(250'000'000);
  status.SetPayload("type.googleapis.com/google.rpc.RetryInfo",
                    absl::Cord(retry.SerializeAsString()));
  const grpc::Status converted = usersvc::server::ToGrpcStatus(status);
  CHECK(converted.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  google::rpc::Status details;
  REQUIRE(details.ParseFromString(converted.error_details()));
  REQUIRE(details.details_size() == 1);
  google::rpc::RetryInfo unpacked;
  REQUIRE(details.details(0).UnpackTo(&unpacked));
  CHECK(unpacked.retry_delay().nanos() == 250'000'000);
}

namespace {

/// A fake /sys/fs/cgroup with `files` (path under the root → content).
std::string FakeCgroupRoot(const std::vector<std::pair<std::string, std::string>>& files) {
  static int made = 0;
  const auto root = std::filesystem::temp_directory_path() /
                    ("usersvc-cgroup-" + std::to_string(::getpid()) + "-" + std::to_string(++made));
  std::filesystem::remove_all(root);
  for (const auto& [path, content] : files) {
    const auto file = root / path.substr(1);
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file) << content << "\n";
  }
  return root.string();
}

}  // namespace

TEST_CASE("Defaults follow the container's CPU quota and memory limit, not the node's") {
  using usersvc::server::ReadContainerLimits;
  // cgroup v2, a pod limited to 1.5 CPUs and 512 MiB on a 32-core node: two cores' worth.
  const std::string v2 = FakeCgroupRoot({{"/kubepods/pod1/cpu.max", "150000 100000"},
                                         {"/kubepods/pod1/memory.max", "536870912"},
                                         {"/kubepods/cpu.max", "max 100000"},
                                         {"/kubepods/memory.max", "max"}});
  auto limits = ReadContainerLimits(v2, "0::/kubepods/pod1\n", 32);
  CHECK(limits.cores == 2);
  CHECK(limits.memory_bytes == int64_t{536870912});
  // The quota of an ancestor binds too; the affinity mask binds below the quota.
  const std::string nested =
      FakeCgroupRoot({{"/a/b/cpu.max", "max 100000"}, {"/a/cpu.max", "100000 100000"}});
  CHECK(ReadContainerLimits(nested, "0::/a/b\n", 32).cores == 1);
  CHECK(ReadContainerLimits(v2, "0::/kubepods/pod1\n", 1).cores == 1);
  // No limit at all: the CPUs we may run on, and no memory limit.
  const std::string open = FakeCgroupRoot({{"/free/cpu.max", "max 100000"}});
  limits = ReadContainerLimits(open, "0::/free\n", 8);
  CHECK(limits.cores == 8);
  CHECK_FALSE(limits.memory_bytes.has_value());
  // cgroup v1's cpu and memory controllers.
  const std::string v1 =
      FakeCgroupRoot({{"/cpu,cpuacct/docker/c1/cpu.cfs_quota_us", "300000"},
                      {"/cpu,cpuacct/docker/c1/cpu.cfs_period_us", "100000"},
                      {"/memory/docker/c1/memory.limit_in_bytes", "1073741824"}});
  limits = ReadContainerLimits(v1, "4:memory:/docker/c1\n3:cpu,cpuacct:/docker/c1\n", 16);
  CHECK(limits.cores == 3);
  CHECK(limits.memory_bytes == int64_t{1} << 30);
  for (const std::string& root : {v2, nested, open, v1}) std::filesystem::remove_all(root);
}

TEST_CASE("A field violation becomes a google.rpc.BadRequest, and other errors carry none") {
  const grpc::Status converted = usersvc::server::ToGrpcStatus(
      usersvc::FieldViolationError("preferences.timezone", "must be an IANA time zone name"));
  CHECK(converted.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(converted.error_message() == "preferences.timezone: must be an IANA time zone name");
  google::rpc::Status details;
  REQUIRE(details.ParseFromString(converted.error_details()));
  REQUIRE(details.details_size() == 1);
  google::rpc::BadRequest bad_request;
  REQUIRE(details.details(0).UnpackTo(&bad_request));
  REQUIRE(bad_request.field_violations_size() == 1);
  CHECK(bad_request.field_violations(0).field() == "preferences.timezone");
  CHECK(bad_request.field_violations(0).description() == "must be an IANA time zone name");
  // A message that merely looks like "<field>: <text>" is not read apart.
  CHECK(usersvc::server::ToGrpcStatus(absl::InvalidArgumentError("looks: like one"))
            .error_details()
            .empty());
  CHECK(
      usersvc::server::ToGrpcStatus(absl::NotFoundError("user not found")).error_details().empty());
}
