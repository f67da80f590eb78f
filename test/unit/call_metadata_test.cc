#include "server/call_metadata.h"

#include <regex>

#include <catch2/catch.hpp>

namespace usersvc::server {
namespace {

ClientMetadata With(const std::string& key, const std::string& value) {
  // string_refs point into these, which outlive each test's use.
  static std::vector<std::unique_ptr<std::string>> keep;
  keep.push_back(std::make_unique<std::string>(key));
  keep.push_back(std::make_unique<std::string>(value));
  const std::string& k = *keep[keep.size() - 2];
  const std::string& v = *keep.back();
  return {{grpc::string_ref(k.data(), k.size()), grpc::string_ref(v.data(), v.size())}};
}

bool IsUuid(const std::string& id) {
  static const std::regex uuid(
      "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  return std::regex_match(id, uuid);
}

TEST_CASE("a caller's x-request-id is kept, a missing or unsafe one replaced by a new UUID") {
  CHECK(RequestIdOf(With("x-request-id", "req-42.a_b:c")) == "req-42.a_b:c");
  const std::string generated = RequestIdOf({});
  CHECK(IsUuid(generated));
  CHECK(RequestIdOf({}) != generated);
  for (const std::string& unsafe : {std::string("has space"), std::string("quote\""),
                                    std::string("new\nline"), std::string(129, 'a')}) {
    INFO(unsafe);
    CHECK(IsUuid(RequestIdOf(With("x-request-id", unsafe))));
  }
}

TEST_CASE("the trace id comes from a well-formed W3C traceparent only") {
  CHECK(TraceIdOf(With("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")) ==
        "4bf92f3577b34da6a3ce929d0e0e4736");
  CHECK(TraceIdOf({}).empty());
  for (const std::string& bad :
       {std::string("00-00000000000000000000000000000000-00f067aa0ba902b7-01"),  // all zero
        std::string("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),  // version ff
        std::string("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"),  // upper case
        std::string("00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01"),   // short
        std::string("garbage")}) {
    INFO(bad);
    CHECK(TraceIdOf(With("traceparent", bad)).empty());
  }
}

}  // namespace
}  // namespace usersvc::server
