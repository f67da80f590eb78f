#include "storage/rows.h"

namespace usersvc::storage {

UserRow UserRow::Read(RowReader& columns) {
  UserRow row;
  row.id = columns.Text();
  row.email = columns.Text();
  row.username = columns.Text();
  row.first_name = columns.Text();
  row.last_name = columns.Text();
  row.phone_number = columns.Text();
  row.role = columns.Int64();
  row.is_active = columns.Bool();
  row.is_email_verified = columns.Bool();
  row.created_at_micros = columns.Int64();
  row.updated_at_micros = columns.Int64();
  row.deactivated_at_micros = columns.OptionalInt64();
  row.deactivation_reason = columns.Text();
  row.version = columns.Int64();
  return row;
}

CreatedUserRow CreatedUserRow::Read(RowReader& columns) {
  CreatedUserRow row;
  row.user = UserRow::Read(columns);
  row.fingerprint = columns.Text();
  row.password_hash = columns.Text();
  return row;
}

ListedUserRow ListedUserRow::Read(RowReader& columns) {
  ListedUserRow row;
  if (columns.NextIsNull()) {  // the LEFT JOIN of an empty page
    columns.Skip(UserRow::kColumns);
  } else {
    row.user = UserRow::Read(columns);
  }
  row.sort_key = columns.Text();
  row.total = columns.Int64();
  return row;
}

SignInClaimRow SignInClaimRow::Read(RowReader& columns) {
  SignInClaimRow row;
  row.retry_after_ms = columns.Int64();
  if (columns.NextIsNull()) {  // the LEFT JOIN found no account
    columns.Skip(UserRow::kColumns + 1);
    return row;
  }
  row.user = UserRow::Read(columns);
  row.password_hash = columns.Text();
  return row;
}

AddressRow AddressRow::Read(RowReader& columns) {
  AddressRow row;
  row.id = columns.Text();
  row.user_id = columns.Text();
  row.type = columns.Int64();
  row.label = columns.Text();
  row.recipient_name = columns.Text();
  row.line1 = columns.Text();
  row.line2 = columns.Text();
  row.city = columns.Text();
  row.region = columns.Text();
  row.postal_code = columns.Text();
  row.country_code = columns.Text();
  row.phone_number = columns.Text();
  row.is_default = columns.Bool();
  row.created_at_micros = columns.Int64();
  row.updated_at_micros = columns.Int64();
  return row;
}

ListedAddressRow ListedAddressRow::Read(RowReader& columns) {
  if (columns.NextIsNull()) return {};  // the LEFT JOIN of a user without addresses
  return {AddressRow::Read(columns)};
}

PreferencesRow PreferencesRow::Read(RowReader& columns) {
  PreferencesRow row;
  row.language = columns.Text();
  row.currency = columns.Text();
  row.timezone = columns.Text();
  row.email_notifications = columns.Bool();
  row.sms_notifications = columns.Bool();
  row.marketing_emails = columns.Bool();
  row.theme = columns.Int64();
  row.updated_at_micros = columns.OptionalInt64();
  return row;
}

}  // namespace usersvc::storage
