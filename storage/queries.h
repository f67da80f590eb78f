#pragma once

#include <vector>

#include "storage/statement.h"

/// Every SQL statement the service runs, named and prepared once per pool connection. Statements
/// that return users select the columns of kUserColumns in that order.
namespace usersvc::storage::queries {

/// Column positions in every row that describes a user.
enum UserColumn : int {
  kUserId = 0,
  kUserEmail,
  kUserUsername,
  kUserFirstName,
  kUserLastName,
  kUserPhoneNumber,
  kUserRole,
  kUserIsActive,
  kUserIsEmailVerified,
  kUserCreatedAtMicros,
  kUserUpdatedAtMicros,
  kUserDeactivatedAtMicros,  // NULL while active
  kUserDeactivationReason,
  kUserVersion,
  kUserColumnCount,
};

/// $1 email (normalised), $2 username, $3 password hash, $4 first name, $5 last name, $6 phone,
/// $7 role, $8 request_id or NULL, $9 argument fingerprint (bytea) or NULL. Inserts the user and
/// its user.created event in one statement. No row: the request_id was used already.
extern const Statement kInsertUser;
/// $1 request_id. The user columns, then the argument fingerprint and the password hash.
extern const Statement kSelectUserByRequestId;
/// $1 id.
extern const Statement kSelectUserById;
/// $1 email (normalised).
extern const Statement kSelectUserByEmail;
/// $1 ids (uuid[]): the users among them, in no particular order.
extern const Statement kSelectUsersByIds;
/// $1 emails (text[], normalised): the users among them, in no particular order.
extern const Statement kSelectUsersByEmails;
/// The changes that a repeat would apply twice or answer differently take a request key as their
/// last two parameters: the caller's request_id and the fingerprint of its other arguments (both
/// NULL without one; callbacks/request_key.h). A repeat of a key answers what its first call did
/// without applying anything (migration 0006).
///
/// $1 id, $2 mask (text[]), $3 email, $4 username, $5 first name, $6 last name, $7 phone,
/// $8 role, $9 expected version (0: any), $10 $11 the request key. The user after the change.
extern const Statement kUpdateUser;
/// $1 id, $2 $3 the request key. Deletes the user (addresses, preferences and tokens cascade) and
/// writes user.deleted; U0404 when there was no such user.
extern const Statement kDeleteUser;
/// $1 id, $2 active (bool), $3 reason. The user after the change.
extern const Statement kSetUserActive;

/// Column positions in every row that describes an address.
enum AddressColumn : int {
  kAddressId = 0,
  kAddressUserId,
  kAddressType,
  kAddressLabel,
  kAddressRecipientName,
  kAddressLine1,
  kAddressLine2,
  kAddressCity,
  kAddressRegion,
  kAddressPostalCode,
  kAddressCountryCode,
  kAddressPhoneNumber,
  kAddressIsDefault,
  kAddressCreatedAtMicros,
  kAddressUpdatedAtMicros,
};

/// $1 user, $2 type, $3 label, $4 recipient, $5 line1, $6 line2, $7 city, $8 region,
/// $9 postal code, $10 country, $11 phone, $12 $13 the request key. The new address.
extern const Statement kAddAddress;
/// $1 user, $2 address.
extern const Statement kGetAddress;
/// $1 user, $2 type (0: all). No row: no such user; one row of NULLs: no addresses.
extern const Statement kListAddresses;
/// $1 user, $2 address, $3 mask, then the fields as kAddAddress from $4 (type) on.
extern const Statement kUpdateAddress;
/// $1 user, $2 address, $3 $4 the request key. The deleted address.
extern const Statement kDeleteAddress;
/// $1 user, $2 address. The address after the change.
extern const Statement kSetDefaultAddress;

/// $1 user, $2 token hash (bytea), $3 raw token (for the outbox only), $4 lifetime (interval),
/// $5 $6 the request key. One column: expiry in microseconds since the epoch.
extern const Statement kIssueVerification;
/// $1 token hash, $2 $3 the request key. The verified user.
extern const Statement kVerifyEmail;
/// $1 user, $2 $3 ChangePassword's request key. No row: no such user. Columns: the stored
/// password hash, and whether a change was recorded under the key: NULL none, true by a
/// ChangePassword with the same arguments, false otherwise.
extern const Statement kSelectPasswordCheck;
/// $1 user, $2 the hash the current password matched, $3 the new hash, $4 $5 the request key.
extern const Statement kChangePassword;
/// $1 email (normalised), $2 token hash, $3 raw token, $4 lifetime, $5 $6 the request key.
extern const Statement kIssuePasswordReset;
/// $1 token hash, $2 $3 ResetPassword's request key. One row: whether the token is still usable,
/// and whether an outcome was recorded under the key (NULL none, true by a ResetPassword with the
/// same arguments, false otherwise).
extern const Statement kSelectResetCheck;
/// $1 token hash, $2 new password hash, $3 $4 the request key.
extern const Statement kResetPassword;

/// Column positions in every row that describes preferences.
enum PreferencesColumn : int {
  kPrefLanguage = 0,
  kPrefCurrency,
  kPrefTimezone,
  kPrefEmailNotifications,
  kPrefSmsNotifications,
  kPrefMarketingEmails,
  kPrefTheme,
  kPrefUpdatedAtMicros,  // NULL until first saved
};

/// $1 user. No row: no such user.
extern const Statement kGetPreferences;
/// $1 user, $2 mask, $3 language, $4 currency, $5 timezone, $6 email notifications,
/// $7 sms notifications, $8 marketing emails, $9 theme.
extern const Statement kUpdatePreferences;

/// ListUsers' sort keys; the id breaks ties.
enum class UserOrder { kCreatedAt = 0, kEmail = 1, kUsername = 2 };

/// One page of ListUsers. $1 role, $2 is_active, $3 is_email_verified, $4 created_after and
/// $5 created_before (epoch microseconds): NULL for no filter. $6 the last sort key (text) and
/// $7 the last id of the previous page, NULL on the first. $8 the limit. Rows: the user columns,
/// then the sort key as text (kUserColumnCount), then the total matching (+1). An empty page is
/// one row with NULL user columns and the total.
const Statement& ListUsers(UserOrder order, bool descending);

/// One page of SearchUsers. $1 the query (trimmed), $2 and $3 the LIKE patterns "q%" and "%q%"
/// (wildcards escaped), $4 include_inactive, $5 $6 $7 the last rank, username and id of the
/// previous page (NULL on the first), $8 the limit. Rows as ListUsers, with the rank in place of
/// the sort key.
extern const Statement kSearchUsers;

/// Deletes up to 1,000 tokens that expired more than an hour ago; run every minute.
extern const Statement kPurgeExpiredTokens;

/// Deletes up to 1,000 request outcomes older than a day (their request_ids can be used afresh);
/// run every minute.
extern const Statement kPurgeOldRequestOutcomes;
/// Deletes up to 1,000 rows of the reset-request log older than a day; run every minute.
extern const Statement kPurgeOldResetRequests;

/// The health probe.
extern const Statement kProbe;

/// The statements above, for PoolOptions::statements.
std::vector<Statement> All();

}  // namespace usersvc::storage::queries
