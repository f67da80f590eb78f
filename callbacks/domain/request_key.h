#pragma once

#include <initializer_list>
#include <string_view>

#include <absl/status/statusor.h>
#include <google/protobuf/message.h>

#include "storage/params.h"

namespace usersvc::callbacks {

using storage::RequestKey;

/// The key of `request` (a message with a `string request_id` field). `secret_fields` (passwords)
/// are left out of the fingerprint: a repeat is matched on its other arguments only, and no
/// password ever reaches a digest that is stored. INVALID_ARGUMENT when request_id is set but is
/// not a UUID.
absl::StatusOr<RequestKey> KeyOf(const google::protobuf::Message& request,
                                 std::initializer_list<std::string_view> secret_fields = {});

}  // namespace usersvc::callbacks
