#include "bench/loadgen/request_bodies.h"

#include <memory>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/util/json_util.h>

#include "user/v1/user.pb.h"

namespace usersvc::bench {
namespace {

using google::protobuf::DescriptorPool;

// The top-level JSON objects in `json`, whether it is one object, an array of them, or one per
// line: braces are counted outside strings.
std::vector<std::string> SplitObjects(const std::string& json) {
  std::vector<std::string> objects;
  int depth = 0;
  bool in_string = false;
  size_t start = 0;
  for (size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{') {
      if (depth++ == 0) start = i;
    } else if (c == '}' && depth > 0 && --depth == 0) {
      objects.push_back(json.substr(start, i - start + 1));
    }
  }
  return objects;
}

}  // namespace

absl::StatusOr<Method> FindMethod(const std::string& call) {
  // Referencing a generated message links user.proto's descriptors in from the static library.
  (void)user::v1::CreateUserRequest::descriptor();
  std::string name = call;
  if (!name.empty() && name.front() == '/') name.erase(0, 1);
  const size_t slash = name.rfind('/');
  if (slash != std::string::npos) name[slash] = '.';
  if (name.find('.') == std::string::npos) name = "user.v1.UserService." + name;
  const auto* method = DescriptorPool::generated_pool()->FindMethodByName(name);
  if (method == nullptr) return absl::NotFoundError("unknown method: " + call);
  return Method{"/" + method->service()->full_name() + "/" + method->name(),
                method->input_type()->full_name(), method->output_type()->full_name()};
}

absl::StatusOr<std::vector<grpc::ByteBuffer>> EncodeBodies(const std::string& json,
                                                           const std::string& request_type) {
  const auto* descriptor = DescriptorPool::generated_pool()->FindMessageTypeByName(request_type);
  if (descriptor == nullptr) return absl::NotFoundError("unknown message: " + request_type);
  google::protobuf::DynamicMessageFactory factory;
  std::vector<grpc::ByteBuffer> bodies;
  for (const std::string& object : SplitObjects(json)) {
    std::unique_ptr<google::protobuf::Message> message(factory.GetPrototype(descriptor)->New());
    auto parsed = google::protobuf::util::JsonStringToMessage(object, message.get());
    if (!parsed.ok()) {
      return absl::InvalidArgumentError("bad request body " + object + ": " +
                                        std::string(parsed.message()));
    }
    const std::string bytes = message->SerializeAsString();
    grpc::Slice slice(bytes);
    bodies.emplace_back(&slice, 1);
  }
  if (bodies.empty()) return absl::InvalidArgumentError("no request body in the data");
  return bodies;
}

absl::StatusOr<std::string> DecodeToJson(const grpc::ByteBuffer& reply,
                                         const std::string& response_type) {
  const auto* descriptor = DescriptorPool::generated_pool()->FindMessageTypeByName(response_type);
  if (descriptor == nullptr) return absl::NotFoundError("unknown message: " + response_type);
  std::vector<grpc::Slice> slices;
  (void)reply.Dump(&slices);
  std::string bytes;
  for (const grpc::Slice& slice : slices) {
    bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  google::protobuf::DynamicMessageFactory factory;
  std::unique_ptr<google::protobuf::Message> message(factory.GetPrototype(descriptor)->New());
  if (!message->ParseFromString(bytes)) return absl::DataLossError("unparsable reply");
  std::string json;
  auto printed = google::protobuf::util::MessageToJsonString(*message, &json);
  if (!printed.ok()) return absl::InternalError(std::string(printed.message()));
  return json;
}

}  // namespace usersvc::bench
