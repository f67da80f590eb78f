// deploy/ against the tools' own schemas (../shared/schemas/, see its README): envoy.yaml must be
// a valid envoy.config.bootstrap.v3.Bootstrap of Envoy's v3 API, every typed_config's @type
// resolved, no field or enum value Envoy has deprecated; the descriptor set Envoy's transcoder
// loads must carry every message the service puts into error details.
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <google/protobuf/any.pb.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/type_resolver_util.h>
#include <yaml-cpp/yaml.h>
#include <catch2/catch.hpp>

namespace usersvc {
namespace {

namespace pb = google::protobuf;

const std::filesystem::path kSource = USERSVC_SOURCE_DIR;
const std::filesystem::path kSchemas = kSource / ".." / "shared" / "schemas";
constexpr const char* kTypeUrlPrefix = "type.googleapis.com";

/// A descriptor pool built from a FileDescriptorSet file (protoc --include_imports: every file
/// after the files it imports).
std::unique_ptr<pb::DescriptorPool> PoolFrom(const std::filesystem::path& path) {
  INFO(path);
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  pb::FileDescriptorSet set;
  REQUIRE(set.ParseFromIstream(&in));
  auto pool = std::make_unique<pb::DescriptorPool>();
  for (const pb::FileDescriptorProto& file : set.file()) {
    INFO(file.name());
    REQUIRE(pool->BuildFile(file) != nullptr);
  }
  return pool;
}

void AppendJsonString(const std::string& text, std::string* out) {
  *out += '"';
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      *out += '\\';
      *out += static_cast<char>(c);
    } else if (c < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
      *out += escaped;
    } else {
      *out += static_cast<char>(c);
    }
  }
  *out += '"';
}

/// YAML as JSON, typed as YAML 1.2's core schema types plain scalars: true/false, null, numbers;
/// quoted scalars stay strings. (The proto JSON parser then checks each against its field.)
void AppendJson(const YAML::Node& node, std::string* out) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      *out += '{';
      bool first = true;
      for (const auto& entry : node) {
        if (!first) *out += ',';
        first = false;
        AppendJsonString(entry.first.as<std::string>(), out);
        *out += ':';
        AppendJson(entry.second, out);
      }
      *out += '}';
      return;
    }
    case YAML::NodeType::Sequence: {
      *out += '[';
      for (size_t i = 0; i < node.size(); ++i) {
        if (i > 0) *out += ',';
        AppendJson(node[i], out);
      }
      *out += ']';
      return;
    }
    case YAML::NodeType::Scalar: {
      const std::string& value = node.Scalar();
      static const std::regex kNumber(R"(-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?)");
      const bool plain = node.Tag() == "?";
      if (plain && (value == "true" || value == "false" || std::regex_match(value, kNumber))) {
        *out += value;
      } else if (plain && (value == "null" || value == "~")) {
        *out += "null";
      } else {
        AppendJsonString(value, out);
      }
      return;
    }
    default:
      *out += "null";
  }
}

/// Every field (and enum value) set in `message`, recursively and through google.protobuf.Any,
/// that the schema marks deprecated; Any payloads whose type the pool lacks go to `unresolved`.
void FindDeprecated(const pb::Message& message, const std::string& path,
                    pb::DynamicMessageFactory& factory, std::vector<std::string>* deprecated,
                    std::vector<std::string>* unresolved) {
  const pb::Descriptor* type = message.GetDescriptor();
  const pb::Reflection* reflection = message.GetReflection();
  if (type->full_name() == "google.protobuf.Any") {
    const std::string url = reflection->GetString(message, type->FindFieldByName("type_url"));
    const std::string name = url.substr(url.find('/') + 1);
    const pb::Descriptor* payload_type = type->file()->pool()->FindMessageTypeByName(name);
    if (payload_type == nullptr) {
      unresolved->push_back(path + ": " + url);
      return;
    }
    std::unique_ptr<pb::Message> payload(factory.GetPrototype(payload_type)->New());
    REQUIRE(
        payload->ParseFromString(reflection->GetString(message, type->FindFieldByName("value"))));
    FindDeprecated(*payload, path + "<" + name + ">", factory, deprecated, unresolved);
    return;
  }
  std::vector<const pb::FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const pb::FieldDescriptor* field : fields) {
    const std::string here = path + "." + field->name();
    if (field->options().deprecated()) deprecated->push_back(here);
    const int count = field->is_repeated() ? reflection->FieldSize(message, field) : 1;
    for (int i = 0; i < count; ++i) {
      if (field->cpp_type() == pb::FieldDescriptor::CPPTYPE_ENUM) {
        const pb::EnumValueDescriptor* value = field->is_repeated()
                                                   ? reflection->GetRepeatedEnum(message, field, i)
                                                   : reflection->GetEnum(message, field);
        if (value->options().deprecated()) deprecated->push_back(here + "=" + value->name());
      } else if (field->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE) {
        const pb::Message& child = field->is_repeated()
                                       ? reflection->GetRepeatedMessage(message, field, i)
                                       : reflection->GetMessage(message, field);
        FindDeprecated(child, here, factory, deprecated, unresolved);
      }
    }
  }
}

TEST_CASE(
    "envoy.yaml is a valid Envoy v3 bootstrap with every @type known and nothing deprecated") {
  const std::unique_ptr<pb::DescriptorPool> pool = PoolFrom(kSchemas / "envoy-api-v3.pb");
  const std::string bootstrap_type = "envoy.config.bootstrap.v3.Bootstrap";
  const pb::Descriptor* bootstrap = pool->FindMessageTypeByName(bootstrap_type);
  REQUIRE(bootstrap != nullptr);

  std::string json;
  AppendJson(YAML::LoadFile((kSource / "deploy/envoy/envoy.yaml").string()), &json);
  std::unique_ptr<pb::util::TypeResolver> resolver(
      pb::util::NewTypeResolverForDescriptorPool(kTypeUrlPrefix, pool.get()));
  std::string binary;
  pb::util::JsonParseOptions strict;  // an unknown field is an error
  const auto status = pb::util::JsonToBinaryString(
      resolver.get(), std::string(kTypeUrlPrefix) + "/" + bootstrap_type, json, &binary, strict);
  INFO(status.ToString());
  REQUIRE(status.ok());

  pb::DynamicMessageFactory factory(pool.get());
  std::unique_ptr<pb::Message> parsed(factory.GetPrototype(bootstrap)->New());
  REQUIRE(parsed->ParseFromString(binary));
  std::vector<std::string> deprecated;
  std::vector<std::string> unresolved;
  FindDeprecated(*parsed, "bootstrap", factory, &deprecated, &unresolved);
  INFO("deprecated: " << (deprecated.empty() ? "" : deprecated.front()));
  CHECK(deprecated.empty());
  INFO("unresolved: " << (unresolved.empty() ? "" : unresolved.front()));
  CHECK(unresolved.empty());
  // The parse went all the way into the typed configs: the transcoder's settings are there.
  CHECK(binary.find("user.v1.UserService") != std::string::npos);
}

TEST_CASE("a field Envoy does not know, or a wrong type in a typed_config, fails the check") {
  // The check itself can fail: the same parse refuses a misspelt field and a bad value.
  const std::unique_ptr<pb::DescriptorPool> pool = PoolFrom(kSchemas / "envoy-api-v3.pb");
  std::unique_ptr<pb::util::TypeResolver> resolver(
      pb::util::NewTypeResolverForDescriptorPool(kTypeUrlPrefix, pool.get()));
  const std::string url = std::string(kTypeUrlPrefix) + "/envoy.config.bootstrap.v3.Bootstrap";
  auto parses = [&](const std::string& yaml) {
    std::string json;
    AppendJson(YAML::Load(yaml), &json);
    std::string binary;
    return pb::util::JsonToBinaryString(resolver.get(), url, json, &binary,
                                        pb::util::JsonParseOptions())
        .ok();
  };
  CHECK(parses("admin: {address: {socket_address: {address: 127.0.0.1, port_value: 9901}}}"));
  CHECK_FALSE(parses("admin: {adress: {socket_address: {address: 127.0.0.1}}}"));
  CHECK_FALSE(parses("admin: {address: {socket_address: {address: 127.0.0.1, port_value: x}}}"));
  CHECK_FALSE(
      parses("static_resources: {listeners: [{filter_chains: [{filters: [{name: hcm, "
             "typed_config: {'@type': type.googleapis.com/envoy.extensions.filters.network."
             "http_connection_manager.v3.HttpConnectionManager, codec: AUTO}}]}]}]}"));
}

TEST_CASE("the transcoder's descriptor set carries every message the service puts in details") {
  const std::unique_ptr<pb::DescriptorPool> pool = PoolFrom(USERSVC_DESCRIPTOR_SET);
  CHECK(pool->FindServiceByName("user.v1.UserService") != nullptr);
  CHECK(pool->FindServiceByName("grpc.health.v1.Health") != nullptr);
  // google.rpc.Status is what grpc-status-details-bin holds; BadRequest what INVALID_ARGUMENT
  // carries (server/status_conversion.cc). Without them Envoy renders an empty REST error body.
  for (const char* type : {"google.rpc.Status", "google.rpc.BadRequest"}) {
    INFO(type);
    CHECK(pool->FindMessageTypeByName(type) != nullptr);
  }
}

}  // namespace
}  // namespace usersvc
