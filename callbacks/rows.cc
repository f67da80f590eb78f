#include "callbacks/rows.h"

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

void AddressFromRow(const storage::Result& rows, int row, user::v1::Address* address) {
  address->mutable_id()->assign(rows.Text(row, q::kAddressId));
  address->mutable_user_id()->assign(rows.Text(row, q::kAddressUserId));
  const int64_t type = rows.Int64(row, q::kAddressType);
  address->set_type(user::v1::AddressType_IsValid(static_cast<int>(type))
                        ? static_cast<user::v1::AddressType>(type)
                        : user::v1::ADDRESS_TYPE_UNSPECIFIED);
  address->mutable_label()->assign(rows.Text(row, q::kAddressLabel));
  address->mutable_recipient_name()->assign(rows.Text(row, q::kAddressRecipientName));
  address->mutable_line1()->assign(rows.Text(row, q::kAddressLine1));
  address->mutable_line2()->assign(rows.Text(row, q::kAddressLine2));
  address->mutable_city()->assign(rows.Text(row, q::kAddressCity));
  address->mutable_region()->assign(rows.Text(row, q::kAddressRegion));
  address->mutable_postal_code()->assign(rows.Text(row, q::kAddressPostalCode));
  address->mutable_country_code()->assign(rows.Text(row, q::kAddressCountryCode));
  address->mutable_phone_number()->assign(rows.Text(row, q::kAddressPhoneNumber));
  address->set_is_default(rows.Bool(row, q::kAddressIsDefault));
  SetTimestamp(rows.Int64(row, q::kAddressCreatedAtMicros), address->mutable_created_at());
  SetTimestamp(rows.Int64(row, q::kAddressUpdatedAtMicros), address->mutable_updated_at());
}

void PreferencesFromRow(const storage::Result& rows, int row,
                        user::v1::UserPreferences* preferences) {
  preferences->mutable_language()->assign(rows.Text(row, q::kPrefLanguage));
  preferences->mutable_currency()->assign(rows.Text(row, q::kPrefCurrency));
  preferences->mutable_timezone()->assign(rows.Text(row, q::kPrefTimezone));
  preferences->set_email_notifications(rows.Bool(row, q::kPrefEmailNotifications));
  preferences->set_sms_notifications(rows.Bool(row, q::kPrefSmsNotifications));
  preferences->set_marketing_emails(rows.Bool(row, q::kPrefMarketingEmails));
  const int64_t theme = rows.Int64(row, q::kPrefTheme);
  preferences->set_theme(user::v1::Theme_IsValid(static_cast<int>(theme)) && theme != 0
                             ? static_cast<user::v1::Theme>(theme)
                             : user::v1::THEME_SYSTEM);
  if (rows.IsNull(row, q::kPrefUpdatedAtMicros)) {
    preferences->clear_updated_at();
  } else {
    SetTimestamp(rows.Int64(row, q::kPrefUpdatedAtMicros), preferences->mutable_updated_at());
  }
}

}  // namespace usersvc::callbacks
