#include "callbacks/user_rows.h"

#include "storage/queries.h"

namespace usersvc::callbacks {

namespace q = storage::queries;

void SetTimestamp(int64_t micros, google::protobuf::Timestamp* out) {
  int64_t seconds = micros / 1'000'000;
  int64_t rest = micros % 1'000'000;
  if (rest < 0) {  // Timestamp nanos are never negative
    rest += 1'000'000;
    --seconds;
  }
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>(rest * 1000));
}

void UserFromRow(const storage::Result& rows, int row, user::v1::User* user) {
  user->mutable_id()->assign(rows.Text(row, q::kUserId));
  user->mutable_email()->assign(rows.Text(row, q::kUserEmail));
  user->mutable_username()->assign(rows.Text(row, q::kUserUsername));
  user->mutable_first_name()->assign(rows.Text(row, q::kUserFirstName));
  user->mutable_last_name()->assign(rows.Text(row, q::kUserLastName));
  user->mutable_phone_number()->assign(rows.Text(row, q::kUserPhoneNumber));
  const int64_t role = rows.Int64(row, q::kUserRole);
  user->set_role(user::v1::UserRole_IsValid(static_cast<int>(role))
                     ? static_cast<user::v1::UserRole>(role)
                     : user::v1::USER_ROLE_UNSPECIFIED);
  user->set_is_active(rows.Bool(row, q::kUserIsActive));
  user->set_is_email_verified(rows.Bool(row, q::kUserIsEmailVerified));
  SetTimestamp(rows.Int64(row, q::kUserCreatedAtMicros), user->mutable_created_at());
  SetTimestamp(rows.Int64(row, q::kUserUpdatedAtMicros), user->mutable_updated_at());
  if (rows.IsNull(row, q::kUserDeactivatedAtMicros)) {
    user->clear_deactivated_at();
  } else {
    SetTimestamp(rows.Int64(row, q::kUserDeactivatedAtMicros), user->mutable_deactivated_at());
  }
  user->mutable_deactivation_reason()->assign(rows.Text(row, q::kUserDeactivationReason));
  user->set_version(rows.Int64(row, q::kUserVersion));
}

}  // namespace usersvc::callbacks
