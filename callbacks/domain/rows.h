#pragma once

#include <cstdint>

#include <google/protobuf/timestamp.pb.h>

#include "storage/rows.h"
#include "user/v1/user.pb.h"

/// Row → protobuf mapping for the row types of storage/rows.h.
namespace usersvc::callbacks {

/// Microseconds since the Unix epoch, as a Timestamp (negative values round toward the past).
void SetTimestamp(int64_t micros, google::protobuf::Timestamp* out);

void UserFromRow(const storage::UserRow& row, user::v1::User* user);

void AddressFromRow(const storage::AddressRow& row, user::v1::Address* address);

void PreferencesFromRow(const storage::PreferencesRow& row, user::v1::UserPreferences* preferences);

}  // namespace usersvc::callbacks
