#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <absl/status/statusor.h>
#include <absl/types/span.h>
#include <google/protobuf/field_mask.pb.h>
#include <google/protobuf/message.h>

/// AIP-134 update masks, resolved against one table of mutable fields per message.
namespace usersvc::callbacks {

/// One field an update mask may name. Its path is also the column that stores it and the name
/// the change's event lists (migration 0009 finds the columns from it), so each mask's fields
/// are named once: in their table.
template <typename Message>
struct MutableField {
  std::string_view path;
  /// Checks the field of `values` and may normalise it in place (an email is trimmed and
  /// lower-cased); `field` is its path in the request ("user.email") for the error.
  absl::Status (*check)(std::string_view field, Message& values);
};

/// What an update changes: the paths it applies, and their values as the JSON object (column ->
/// value) that the update statements take.
struct Change {
  std::vector<std::string> paths;
  std::string object;
};

/// The paths an update applies. A non-empty mask must name only `allowed` paths (anything else is
/// INVALID_ARGUMENT on "update_mask"); an empty mask means every allowed field that is set
/// (non-default) in `values`.
absl::StatusOr<std::vector<std::string>> ResolveMask(const google::protobuf::FieldMask& mask,
                                                     absl::Span<const std::string_view> allowed,
                                                     const google::protobuf::Message& values);

/// Whether `paths` has `path`.
bool MaskHas(const std::vector<std::string>& paths, std::string_view path);

/// The JSON object of `paths` of `values` (strings, enums as their numbers, booleans, integers).
/// INTERNAL for a path that is no such field of `values`: a table that names one is a bug.
absl::StatusOr<std::string> ChangeObject(const google::protobuf::Message& values,
                                         const std::vector<std::string>& paths);

/// Resolves `mask` against `fields`, checks each field it names (fields outside it are ignored,
/// so only those are checked), and returns the change. `values` is the request's message, found
/// at `prefix` ("user.") in the request.
template <typename Message>
absl::StatusOr<Change> ResolveChange(const google::protobuf::FieldMask& mask,
                                     absl::Span<const MutableField<Message>> fields,
                                     std::string_view prefix, Message values) {
  std::vector<std::string_view> allowed;
  allowed.reserve(fields.size());
  for (const MutableField<Message>& field : fields) allowed.push_back(field.path);
  absl::StatusOr<std::vector<std::string>> paths = ResolveMask(mask, allowed, values);
  if (!paths.ok()) return paths.status();
  for (const MutableField<Message>& field : fields) {
    if (!MaskHas(*paths, field.path)) continue;
    const std::string name = std::string(prefix) + std::string(field.path);
    if (absl::Status status = field.check(name, values); !status.ok()) return status;
  }
  absl::StatusOr<std::string> object = ChangeObject(values, *paths);
  if (!object.ok()) return object.status();
  return Change{*std::move(paths), *std::move(object)};
}

}  // namespace usersvc::callbacks
