#include "callbacks/domain/rows.h"

namespace usersvc::callbacks {

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

void UserFromRow(const storage::UserRow& row, user::v1::User* user) {
  user->mutable_id()->assign(row.id);
  user->mutable_email()->assign(row.email);
  user->mutable_username()->assign(row.username);
  user->mutable_first_name()->assign(row.first_name);
  user->mutable_last_name()->assign(row.last_name);
  user->mutable_phone_number()->assign(row.phone_number);
  user->set_role(user::v1::UserRole_IsValid(static_cast<int>(row.role))
                     ? static_cast<user::v1::UserRole>(row.role)
                     : user::v1::USER_ROLE_UNSPECIFIED);
  user->set_is_active(row.is_active);
  user->set_is_email_verified(row.is_email_verified);
  SetTimestamp(row.created_at_micros, user->mutable_created_at());
  SetTimestamp(row.updated_at_micros, user->mutable_updated_at());
  if (row.deactivated_at_micros) {
    SetTimestamp(*row.deactivated_at_micros, user->mutable_deactivated_at());
  } else {
    user->clear_deactivated_at();
  }
  user->mutable_deactivation_reason()->assign(row.deactivation_reason);
  user->set_version(row.version);
}

void AddressFromRow(const storage::AddressRow& row, user::v1::Address* address) {
  address->mutable_id()->assign(row.id);
  address->mutable_user_id()->assign(row.user_id);
  address->set_type(user::v1::AddressType_IsValid(static_cast<int>(row.type))
                        ? static_cast<user::v1::AddressType>(row.type)
                        : user::v1::ADDRESS_TYPE_UNSPECIFIED);
  address->mutable_label()->assign(row.label);
  address->mutable_recipient_name()->assign(row.recipient_name);
  address->mutable_line1()->assign(row.line1);
  address->mutable_line2()->assign(row.line2);
  address->mutable_city()->assign(row.city);
  address->mutable_region()->assign(row.region);
  address->mutable_postal_code()->assign(row.postal_code);
  address->mutable_country_code()->assign(row.country_code);
  address->mutable_phone_number()->assign(row.phone_number);
  address->set_is_default(row.is_default);
  SetTimestamp(row.created_at_micros, address->mutable_created_at());
  SetTimestamp(row.updated_at_micros, address->mutable_updated_at());
}

void PreferencesFromRow(const storage::PreferencesRow& row,
                        user::v1::UserPreferences* preferences) {
  preferences->mutable_language()->assign(row.language);
  preferences->mutable_currency()->assign(row.currency);
  preferences->mutable_timezone()->assign(row.timezone);
  preferences->set_email_notifications(row.email_notifications);
  preferences->set_sms_notifications(row.sms_notifications);
  preferences->set_marketing_emails(row.marketing_emails);
  preferences->set_theme(user::v1::Theme_IsValid(static_cast<int>(row.theme)) && row.theme != 0
                             ? static_cast<user::v1::Theme>(row.theme)
                             : user::v1::THEME_SYSTEM);
  if (row.updated_at_micros) {
    SetTimestamp(*row.updated_at_micros, preferences->mutable_updated_at());
  } else {
    preferences->clear_updated_at();
  }
}

}  // namespace usersvc::callbacks
