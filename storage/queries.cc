#include "storage/queries.h"

namespace usersvc::storage::queries {

// Timestamps travel as integer microseconds since the Unix epoch: exact, and cheap to parse.
#define USERSVC_USER_COLUMNS                                                    \
  "id, email, username, first_name, last_name, phone_number, role, is_active, " \
  "is_email_verified, (extract(epoch FROM created_at) * 1000000)::int8, "       \
  "(extract(epoch FROM updated_at) * 1000000)::int8, "                          \
  "(extract(epoch FROM deactivated_at) * 1000000)::int8, deactivation_reason, version"

const Statement kInsertUser{
    "insert_user",
    "WITH inserted AS ("
    "  INSERT INTO users (email, username, password_hash, first_name, last_name, phone_number,"
    "                     role, create_request_id, create_fingerprint)"
    "  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    "  ON CONFLICT (create_request_id) DO NOTHING"
    "  RETURNING *),"
    " event AS ("
    "  INSERT INTO user_events (event_type, user_id, payload)"
    "  SELECT 'user.created', id, jsonb_build_object('email', email, 'username', username)"
    "  FROM inserted)"
    " SELECT " USERSVC_USER_COLUMNS " FROM inserted"};

const Statement kSelectUserByRequestId{"select_user_by_request_id",
                                       "SELECT " USERSVC_USER_COLUMNS
                                       ", create_fingerprint, password_hash FROM users"
                                       " WHERE create_request_id = $1"};

const Statement kSelectUserById{"select_user_by_id",
                                "SELECT " USERSVC_USER_COLUMNS " FROM users WHERE id = $1"};

const Statement kSelectUserByEmail{"select_user_by_email",
                                   "SELECT " USERSVC_USER_COLUMNS " FROM users WHERE email = $1"};

const Statement kUpdateUser{"update_user",
                            "SELECT " USERSVC_USER_COLUMNS
                            " FROM usersvc_update_user($1, $2, $3, $4, $5, $6, $7, $8, $9)"};

const Statement kDeleteUser{
    "delete_user",
    "WITH deleted AS (DELETE FROM users WHERE id = $1 RETURNING id, email),"
    " event AS ("
    "  INSERT INTO user_events (event_type, user_id, payload)"
    "  SELECT 'user.deleted', id, jsonb_build_object('email', email) FROM deleted)"
    " SELECT id FROM deleted"};

const Statement kSetUserActive{
    "set_user_active", "SELECT " USERSVC_USER_COLUMNS " FROM usersvc_set_user_active($1, $2, $3)"};

#define USERSVC_ADDRESS_COLUMNS                                                              \
  "a.id, a.user_id, a.type, a.label, a.recipient_name, a.line1, a.line2, a.city, a.region, " \
  "a.postal_code, a.country_code, a.phone_number, a.is_default, "                            \
  "(extract(epoch FROM a.created_at) * 1000000)::int8, "                                     \
  "(extract(epoch FROM a.updated_at) * 1000000)::int8"

const Statement kAddAddress{
    "add_address", "SELECT " USERSVC_ADDRESS_COLUMNS
                   " FROM usersvc_add_address($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) a"};

const Statement kGetAddress{"get_address", "SELECT " USERSVC_ADDRESS_COLUMNS
                                           " FROM addresses a WHERE a.user_id = $1 AND a.id = $2"};

const Statement kListAddresses{
    "list_addresses",
    "SELECT " USERSVC_ADDRESS_COLUMNS
    " FROM users u LEFT JOIN addresses a ON a.user_id = u.id AND ($2 = 0 OR a.type = $2)"
    " WHERE u.id = $1 ORDER BY a.is_default DESC, a.created_at DESC, a.id DESC"};

const Statement kUpdateAddress{
    "update_address",
    "SELECT " USERSVC_ADDRESS_COLUMNS
    " FROM usersvc_update_address($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) a"};

const Statement kDeleteAddress{
    "delete_address", "SELECT " USERSVC_ADDRESS_COLUMNS " FROM usersvc_delete_address($1, $2) a"};

const Statement kSetDefaultAddress{"set_default_address",
                                   "SELECT " USERSVC_ADDRESS_COLUMNS
                                   " FROM usersvc_set_default_address($1, $2) a"};

const Statement kIssueVerification{
    "issue_verification",
    "SELECT (extract(epoch FROM usersvc_issue_verification($1, $2, $3, $4::interval))"
    " * 1000000)::int8"};

const Statement kVerifyEmail{"verify_email",
                             "SELECT " USERSVC_USER_COLUMNS " FROM usersvc_verify_email($1)"};

const Statement kSelectPasswordHash{"select_password_hash",
                                    "SELECT password_hash FROM users WHERE id = $1"};

const Statement kChangePassword{"change_password", "SELECT usersvc_change_password($1, $2, $3)"};

const Statement kIssuePasswordReset{
    "issue_password_reset", "SELECT usersvc_issue_password_reset($1, $2, $3, $4::interval)"};

const Statement kResetPassword{"reset_password", "SELECT usersvc_reset_password($1, $2)"};

#define USERSVC_PREFERENCES_COLUMNS                                                  \
  "p.language, p.currency, p.timezone, p.email_notifications, p.sms_notifications, " \
  "p.marketing_emails, p.theme, (extract(epoch FROM p.updated_at) * 1000000)::int8"

const Statement kGetPreferences{"get_preferences",
                                "SELECT " USERSVC_PREFERENCES_COLUMNS
                                " FROM users u, usersvc_preferences_of(u.id) p WHERE u.id = $1"};

const Statement kUpdatePreferences{
    "update_preferences", "SELECT " USERSVC_PREFERENCES_COLUMNS
                          " FROM usersvc_update_preferences($1, $2, $3, $4, $5, $6, $7, $8, $9) p"};

const Statement kProbe{"probe", "SELECT 1"};

#undef USERSVC_PREFERENCES_COLUMNS
#undef USERSVC_ADDRESS_COLUMNS
#undef USERSVC_USER_COLUMNS

std::vector<Statement> All() {
  return {kInsertUser,        kSelectUserByRequestId,
          kSelectUserById,    kSelectUserByEmail,
          kUpdateUser,        kDeleteUser,
          kSetUserActive,     kAddAddress,
          kGetAddress,        kListAddresses,
          kUpdateAddress,     kDeleteAddress,
          kSetDefaultAddress, kIssueVerification,
          kVerifyEmail,       kSelectPasswordHash,
          kChangePassword,    kIssuePasswordReset,
          kResetPassword,     kGetPreferences,
          kUpdatePreferences, kProbe};
}

}  // namespace usersvc::storage::queries
