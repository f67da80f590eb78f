#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "storage/row_reader.h"

/// What the statements of storage/queries/ return, one struct per row shape. Text fields are
/// views into the Result they were read from: valid while it lives. Each Read takes the columns
/// in the order of the select lists in storage/queries/columns.h; kColumns is how many.
namespace usersvc::storage {

struct UserRow {
  static constexpr int kColumns = 14;
  static UserRow Read(RowReader& columns);

  std::string_view id;
  std::string_view email;
  std::string_view username;
  std::string_view first_name;
  std::string_view last_name;
  std::string_view phone_number;
  int64_t role = 0;
  bool is_active = false;
  bool is_email_verified = false;
  int64_t created_at_micros = 0;
  int64_t updated_at_micros = 0;
  std::optional<int64_t> deactivated_at_micros;  // while active: none
  std::string_view deactivation_reason;
  int64_t version = 0;
};

/// A user with what its creation recorded: CreateUser's replay of a request_id.
struct CreatedUserRow {
  static constexpr int kColumns = UserRow::kColumns + 2;
  static CreatedUserRow Read(RowReader& columns);

  UserRow user;
  std::string_view fingerprint;  // bytea text form; empty without a request_id
  std::string_view password_hash;
};

/// A row of a ListUsers or SearchUsers page. An empty page is one row with no user and the total.
struct ListedUserRow {
  static constexpr int kColumns = UserRow::kColumns + 2;
  static ListedUserRow Read(RowReader& columns);

  std::optional<UserRow> user;
  std::string_view sort_key;  // ListUsers: the order's column as text; SearchUsers: the rank
  int64_t total = 0;          // users matching the filter
};

struct AddressRow {
  static constexpr int kColumns = 15;
  static AddressRow Read(RowReader& columns);

  std::string_view id;
  std::string_view user_id;
  int64_t type = 0;
  std::string_view label;
  std::string_view recipient_name;
  std::string_view line1;
  std::string_view line2;
  std::string_view city;
  std::string_view region;
  std::string_view postal_code;
  std::string_view country_code;
  std::string_view phone_number;
  bool is_default = false;
  int64_t created_at_micros = 0;
  int64_t updated_at_micros = 0;
};

/// ListAddresses: a user with no addresses (of the type asked for) is one row without one.
struct ListedAddressRow {
  static constexpr int kColumns = AddressRow::kColumns;
  static ListedAddressRow Read(RowReader& columns);

  std::optional<AddressRow> address;
};

struct PreferencesRow {
  static constexpr int kColumns = 8;
  static PreferencesRow Read(RowReader& columns);

  std::string_view language;
  std::string_view currency;
  std::string_view timezone;
  bool email_notifications = false;
  bool sms_notifications = false;
  bool marketing_emails = false;
  int64_t theme = 0;
  std::optional<int64_t> updated_at_micros;  // until first saved: none
};

/// When an issued token expires.
struct ExpiryRow {
  static constexpr int kColumns = 1;
  static ExpiryRow Read(RowReader& columns) { return {columns.Int64()}; }

  int64_t expires_at_micros = 0;
};

/// Whether a request_id names an outcome already recorded: none, one of the same method and
/// arguments (true), or another (false).
using RecordedOutcome = std::optional<bool>;

/// ChangePassword's look before it hashes.
struct PasswordCheckRow {
  static constexpr int kColumns = 2;
  static PasswordCheckRow Read(RowReader& columns) {
    PasswordCheckRow row;
    row.password_hash = columns.Text();
    row.recorded = columns.OptionalBool();
    return row;
  }

  std::string_view password_hash;
  RecordedOutcome recorded;
};

/// VerifyPassword's first statement: the attempt counted, and the account if there is one.
struct SignInClaimRow {
  static constexpr int kColumns = 1 + UserRow::kColumns + 1;
  static SignInClaimRow Read(RowReader& columns);

  int64_t retry_after_ms = 0;   // 0: the password may be checked; else locked for this long
  std::optional<UserRow> user;  // none: no account has the email
  std::string_view password_hash;
};

/// ResetPassword's look before it hashes.
struct ResetCheckRow {
  static constexpr int kColumns = 3;
  static ResetCheckRow Read(RowReader& columns) {
    ResetCheckRow row;
    row.token_usable = columns.Bool();
    row.recorded = columns.OptionalBool();
    row.user_id = columns.OptionalText();
    return row;
  }

  bool token_usable = false;
  RecordedOutcome recorded;
  std::optional<std::string_view> user_id;  // whose token it is, used or not; none: unknown
};

/// The one column of a SELECT of a function whose value nobody reads: success is all it says.
struct DoneRow {
  static constexpr int kColumns = 1;
  static DoneRow Read(RowReader&) { return {}; }
};

/// A DELETE or UPDATE without RETURNING: Rows::affected() says how many.
struct NoRow {
  static constexpr int kColumns = 0;
  static NoRow Read(RowReader&) { return {}; }
};

/// A row of the outbox feed (queries/events.h): an event, or none (`id` nullopt) with only the
/// feed's marks.
struct EventFeedRow {
  static constexpr int kColumns = 8;
  static EventFeedRow Read(RowReader& columns) {
    EventFeedRow row;
    row.horizon = columns.OptionalInt64();
    row.pruned_through = columns.Int64();
    row.id = columns.OptionalInt64();
    if (!row.id) return row;
    row.event_type = columns.Text();
    row.user_id = columns.OptionalText();
    row.payload_json = columns.Text();
    row.payload_without_token_json = columns.Text();
    row.created_at_micros = columns.Int64();
    return row;
  }

  /// Every event with an id up to this has ended its transaction: nullopt when a writer held the
  /// read up.
  std::optional<int64_t> horizon;
  int64_t pruned_through = 0;  // the highest id ever deleted from the outbox
  std::optional<int64_t> id;
  std::string_view event_type;
  std::optional<std::string_view> user_id;
  std::string_view payload_json;
  std::string_view payload_without_token_json;  // what most streams may see
  int64_t created_at_micros = 0;
};

/// The health probe's SELECT 1.
struct ProbeRow {
  static constexpr int kColumns = 1;
  static ProbeRow Read(RowReader&) { return {}; }
};

}  // namespace usersvc::storage
