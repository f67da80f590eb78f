#include "callbacks/domain/request_key.h"

#include <memory>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "callbacks/domain/crypto.h"
#include "callbacks/domain/validation.h"

namespace usersvc::callbacks {

absl::StatusOr<RequestKey> KeyOf(const google::protobuf::Message& request,
                                 std::initializer_list<std::string_view> secret_fields) {
  const google::protobuf::Descriptor* type = request.GetDescriptor();
  const google::protobuf::Reflection* reflection = request.GetReflection();
  const google::protobuf::FieldDescriptor* id_field = type->FindFieldByName("request_id");
  const std::string request_id = reflection->GetString(request, id_field);
  if (request_id.empty()) return RequestKey{};
  if (auto status = CheckUuid("request_id", request_id); !status.ok()) return status;

  // Every argument but the key itself and the secrets, serialised deterministically (map order
  // fixed), so that the same request always gives the same digest.
  std::unique_ptr<google::protobuf::Message> arguments(request.New());
  arguments->CopyFrom(request);
  reflection->ClearField(arguments.get(), id_field);
  for (std::string_view name : secret_fields) {
    reflection->ClearField(arguments.get(), type->FindFieldByName(std::string(name)));
  }
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    arguments->SerializeToCodedStream(&coded);
  }
  return RequestKey{request_id, ArgumentFingerprint({type->full_name(), bytes})};
}

}  // namespace usersvc::callbacks
