#include <set>
#include <string>

#include <catch2/catch.hpp>

#include "google/api/annotations.pb.h"
#include "user/v1/user.grpc.pb.h"
#include "user/v1/user.pb.h"

namespace usersvc {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::MethodDescriptor;

/// "VERB path" of a rule.
std::string RouteOf(const google::api::HttpRule& rule) {
  if (!rule.get().empty()) return "GET " + rule.get();
  if (!rule.post().empty()) return "POST " + rule.post();
  if (!rule.patch().empty()) return "PATCH " + rule.patch();
  if (!rule.put().empty()) return "PUT " + rule.put();
  if (!rule.delete_().empty()) return "DELETE " + rule.delete_();
  return "";
}

/// The {field} names in a path template.
std::set<std::string> BoundFields(const std::string& path) {
  std::set<std::string> fields;
  for (size_t open = path.find('{'); open != std::string::npos; open = path.find('{', open + 1)) {
    fields.insert(path.substr(open + 1, path.find('}', open) - open - 1));
  }
  return fields;
}

TEST_CASE("every RPC has an HTTP route whose path and body name real request fields") {
  const auto* service = user::v1::UserService::service_full_name();
  const auto* descriptor =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(service);
  REQUIRE(descriptor != nullptr);
  REQUIRE(descriptor->method_count() ==
          25);  // the contract's 23, WatchUserEvents and VerifyPassword
  std::set<std::string> routes;
  for (int i = 0; i < descriptor->method_count(); ++i) {
    const MethodDescriptor* method = descriptor->method(i);
    INFO(method->name());
    REQUIRE(method->options().HasExtension(google::api::http));
    const google::api::HttpRule& rule = method->options().GetExtension(google::api::http);
    const std::string route = RouteOf(rule);
    const std::string path = route.substr(route.find(' ') + 1);
    REQUIRE(path.rfind("/v1/", 0) == 0);
    const Descriptor* request = method->input_type();
    for (const std::string& field : BoundFields(path)) {
      INFO(field);
      CHECK(request->FindFieldByName(field) != nullptr);
    }
    if (!rule.body().empty() && rule.body() != "*") {
      CHECK(request->FindFieldByName(rule.body()) != nullptr);
    }
    // GET and DELETE carry no body; the others do.
    CHECK(rule.body().empty() == (!rule.get().empty() || !rule.delete_().empty()));
    CHECK(routes.insert(route).second);  // no two methods share a route
  }
}

}  // namespace
}  // namespace usersvc
