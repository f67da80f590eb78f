#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include <absl/status/statusor.h>
#include <google/protobuf/message.h>

#include "storage/pg_connection.h"

namespace usersvc::callbacks {

/// A change's idempotency key (AIP-155): the caller's request_id and a fingerprint of every other
/// argument, which the database compares on a repeat (migration 0006). Both are NULL parameters
/// when the request has no request_id.
struct RequestKey {
  std::optional<std::string> request_id;
  std::optional<std::string> fingerprint;  // bytea text form

  bool empty() const { return !request_id.has_value(); }
  /// Appends the two parameters the statements of such changes take last.
  void AppendTo(storage::Params& params) const {
    params.push_back(request_id);
    params.push_back(fingerprint);
  }
};

/// The key of `request` (a message with a `string request_id` field). `secret_fields` (passwords)
/// are left out of the fingerprint: a repeat is matched on its other arguments only, and no
/// password ever reaches a digest that is stored. INVALID_ARGUMENT when request_id is set but is
/// not a UUID.
absl::StatusOr<RequestKey> KeyOf(const google::protobuf::Message& request,
                                 std::initializer_list<std::string_view> secret_fields = {});

}  // namespace usersvc::callbacks
