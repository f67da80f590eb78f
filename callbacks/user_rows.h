#pragma once

#include <cstdint>

#include <google/protobuf/timestamp.pb.h>

#include "storage/result.h"
#include "user/v1/user.pb.h"

/// Row → protobuf mapping for rows laid out as storage::queries::UserColumn.
namespace usersvc::callbacks {

/// Microseconds since the Unix epoch, as a Timestamp (negative values round toward the past).
void SetTimestamp(int64_t micros, google::protobuf::Timestamp* out);

/// Fills `user` from row `row` of `rows`.
void UserFromRow(const storage::Result& rows, int row, user::v1::User* user);

}  // namespace usersvc::callbacks
