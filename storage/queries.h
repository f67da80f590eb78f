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
/// The health probe.
extern const Statement kProbe;

/// The statements above, for PoolOptions::statements.
std::vector<Statement> All();

}  // namespace usersvc::storage::queries
