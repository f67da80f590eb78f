#pragma once

#include <cstdint>

#include <google/protobuf/timestamp.pb.h>

#include "storage/result.h"
#include "user/v1/user.pb.h"

/// Row → protobuf mapping for rows laid out as storage::queries' column enums.
namespace usersvc::callbacks {

/// Microseconds since the Unix epoch, as a Timestamp (negative values round toward the past).
void SetTimestamp(int64_t micros, google::protobuf::Timestamp* out);

/// Fills `user` from row `row` of `rows` (UserColumn).
void UserFromRow(const storage::Result& rows, int row, user::v1::User* user);

/// Fills `address` from row `row` of `rows` (AddressColumn).
void AddressFromRow(const storage::Result& rows, int row, user::v1::Address* address);

/// Fills `preferences` from row `row` of `rows` (PreferencesColumn).
void PreferencesFromRow(const storage::Result& rows, int row,
                        user::v1::UserPreferences* preferences);

}  // namespace usersvc::callbacks
