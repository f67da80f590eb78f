#include "callbacks/domain/field_mask.h"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "callbacks/domain/validation.h"

namespace usersvc::callbacks {

absl::StatusOr<std::vector<std::string>> ResolveMask(const google::protobuf::FieldMask& mask,
                                                     absl::Span<const std::string_view> allowed,
                                                     const google::protobuf::Message& values) {
  std::vector<std::string> paths;
  if (mask.paths_size() > 0) {
    for (const std::string& path : mask.paths()) {
      if (std::find(allowed.begin(), allowed.end(), path) == allowed.end()) {
        return FieldError("update_mask", fmt::format("unknown or read-only path \"{}\"", path));
      }
      if (!MaskHas(paths, path)) paths.push_back(path);
    }
    return paths;
  }
  // Proto3 scalars have no presence: HasField is true exactly when the value is not the default.
  const google::protobuf::Descriptor* descriptor = values.GetDescriptor();
  const google::protobuf::Reflection* reflection = values.GetReflection();
  for (std::string_view path : allowed) {
    const google::protobuf::FieldDescriptor* field = descriptor->FindFieldByName(std::string(path));
    if (field != nullptr && reflection->HasField(values, field)) paths.emplace_back(path);
  }
  return paths;
}

bool MaskHas(const std::vector<std::string>& paths, std::string_view path) {
  return std::find(paths.begin(), paths.end(), path) != paths.end();
}

absl::StatusOr<std::string> ChangeObject(const google::protobuf::Message& values,
                                         const std::vector<std::string>& paths) {
  using google::protobuf::FieldDescriptor;
  const google::protobuf::Descriptor* descriptor = values.GetDescriptor();
  const google::protobuf::Reflection* reflection = values.GetReflection();
  nlohmann::json object = nlohmann::json::object();
  for (const std::string& path : paths) {
    const FieldDescriptor* field = descriptor->FindFieldByName(path);
    if (field == nullptr || field->is_repeated()) {
      return absl::InternalError(fmt::format("no field {} to change", path));
    }
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING:
        object[path] = reflection->GetString(values, field);
        break;
      case FieldDescriptor::CPPTYPE_ENUM:
        object[path] = reflection->GetEnumValue(values, field);
        break;
      case FieldDescriptor::CPPTYPE_BOOL:
        object[path] = reflection->GetBool(values, field);
        break;
      case FieldDescriptor::CPPTYPE_INT32:
        object[path] = reflection->GetInt32(values, field);
        break;
      case FieldDescriptor::CPPTYPE_INT64:
        object[path] = reflection->GetInt64(values, field);
        break;
      default:
        return absl::InternalError(fmt::format("field {} is of a type no change carries", path));
    }
  }
  // Protobuf has checked that strings are UTF-8; replace rather than throw should one not be.
  return object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace usersvc::callbacks
