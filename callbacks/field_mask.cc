#include "callbacks/field_mask.h"

#include <algorithm>

#include <fmt/format.h>

#include "callbacks/validation.h"

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

std::string MaskParam(const std::vector<std::string>& paths) {
  return fmt::format("{{{}}}", fmt::join(paths, ","));
}

}  // namespace usersvc::callbacks
