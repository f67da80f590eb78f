#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include <absl/status/statusor.h>
#include <absl/types/span.h>
#include <google/protobuf/field_mask.pb.h>
#include <google/protobuf/message.h>

/// AIP-134 update masks.
namespace usersvc::callbacks {

/// The paths an update applies. A non-empty mask must name only `allowed` paths (anything else is
/// INVALID_ARGUMENT on "update_mask"); an empty mask means every allowed field that is set
/// (non-default) in `values`.
absl::StatusOr<std::vector<std::string>> ResolveMask(const google::protobuf::FieldMask& mask,
                                                     absl::Span<const std::string_view> allowed,
                                                     const google::protobuf::Message& values);

/// Whether `paths` has `path`.
bool MaskHas(const std::vector<std::string>& paths, std::string_view path);

/// `paths` as a PostgreSQL text[] literal; the paths come from a fixed list, so need no quoting.
std::string MaskParam(const std::vector<std::string>& paths);

}  // namespace usersvc::callbacks
