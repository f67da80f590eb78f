#include "storage/queries.h"

#include <string>

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
                                       " WHERE create_request_id = $1",
                                       /*read_only=*/true};

const Statement kSelectUserById{"select_user_by_id",
                                "SELECT " USERSVC_USER_COLUMNS " FROM users WHERE id = $1",
                                /*read_only=*/true};

const Statement kSelectUserByEmail{"select_user_by_email",
                                   "SELECT " USERSVC_USER_COLUMNS " FROM users WHERE email = $1",
                                   /*read_only=*/true};

const Statement kSelectUsersByIds{
    "select_users_by_ids", "SELECT " USERSVC_USER_COLUMNS " FROM users WHERE id = ANY($1::uuid[])",
    /*read_only=*/true};

const Statement kSelectUsersByEmails{"select_users_by_emails",
                                     "SELECT " USERSVC_USER_COLUMNS
                                     " FROM users WHERE email = ANY($1::text[])",
                                     /*read_only=*/true};

const Statement kUpdateUser{
    "update_user", "SELECT " USERSVC_USER_COLUMNS
                   " FROM usersvc_update_user_once($10, $11, $1, $2, $3, $4, $5, $6, $7, $8, $9)"};

const Statement kDeleteUser{"delete_user", "SELECT usersvc_delete_user_once($2, $3, $1)"};

const Statement kSetUserActive{
    "set_user_active", "SELECT " USERSVC_USER_COLUMNS " FROM usersvc_set_user_active($1, $2, $3)"};

#define USERSVC_ADDRESS_COLUMNS                                                              \
  "a.id, a.user_id, a.type, a.label, a.recipient_name, a.line1, a.line2, a.city, a.region, " \
  "a.postal_code, a.country_code, a.phone_number, a.is_default, "                            \
  "(extract(epoch FROM a.created_at) * 1000000)::int8, "                                     \
  "(extract(epoch FROM a.updated_at) * 1000000)::int8"

const Statement kAddAddress{
    "add_address",
    "SELECT " USERSVC_ADDRESS_COLUMNS
    " FROM usersvc_add_address_once($12, $13, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) a"};

const Statement kGetAddress{"get_address",
                            "SELECT " USERSVC_ADDRESS_COLUMNS
                            " FROM addresses a WHERE a.user_id = $1 AND a.id = $2",
                            /*read_only=*/true};

const Statement kListAddresses{
    "list_addresses",
    "SELECT " USERSVC_ADDRESS_COLUMNS
    " FROM users u LEFT JOIN addresses a ON a.user_id = u.id AND ($2 = 0 OR a.type = $2)"
    " WHERE u.id = $1 ORDER BY a.is_default DESC, a.created_at DESC, a.id DESC",
    /*read_only=*/true};

const Statement kUpdateAddress{
    "update_address",
    "SELECT " USERSVC_ADDRESS_COLUMNS
    " FROM usersvc_update_address($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) a"};

const Statement kDeleteAddress{"delete_address",
                               "SELECT " USERSVC_ADDRESS_COLUMNS
                               " FROM usersvc_delete_address_once($3, $4, $1, $2) a"};

const Statement kSetDefaultAddress{"set_default_address",
                                   "SELECT " USERSVC_ADDRESS_COLUMNS
                                   " FROM usersvc_set_default_address($1, $2) a"};

const Statement kIssueVerification{
    "issue_verification",
    "SELECT (extract(epoch FROM usersvc_issue_verification_once($5, $6, $1, $2, $3, $4::interval))"
    " * 1000000)::int8"};

const Statement kVerifyEmail{
    "verify_email", "SELECT " USERSVC_USER_COLUMNS " FROM usersvc_verify_email_once($2, $3, $1)"};

// One snapshot for both, so that a first call committing in between cannot make its repeat read
// the new hash without seeing the outcome.
const Statement kSelectPasswordCheck{
    "select_password_check",
    "SELECT u.password_hash,"
    "  CASE WHEN o.request_id IS NULL THEN NULL"
    "       ELSE o.method = 'ChangePassword' AND o.fingerprint = $3::bytea END"
    " FROM users u LEFT JOIN request_outcomes o ON o.request_id = $2::uuid WHERE u.id = $1",
    /*read_only=*/true};

const Statement kChangePassword{"change_password",
                                "SELECT usersvc_change_password_once($4, $5, $1, $2, $3)"};

const Statement kIssuePasswordReset{
    "issue_password_reset",
    "SELECT usersvc_issue_password_reset_once($5, $6, $1, $2, $3, $4::interval)"};

// ResetPassword's look before it hashes: whether the token could still be used, and whether the
// request_id names an outcome already recorded (then the answer is that, and nothing is hashed).
const Statement kSelectResetCheck{
    "select_reset_check",
    "SELECT EXISTS (SELECT 1 FROM user_tokens WHERE token_hash = $1 AND purpose = 'password_reset'"
    "                 AND used_at IS NULL AND expires_at > now()),"
    "  (SELECT o.method = 'ResetPassword' AND o.fingerprint = $3::bytea"
    "     FROM request_outcomes o WHERE o.request_id = $2::uuid)",
    /*read_only=*/true};

const Statement kResetPassword{"reset_password",
                               "SELECT usersvc_reset_password_once($3, $4, $1, $2)"};

#define USERSVC_PREFERENCES_COLUMNS                                                  \
  "p.language, p.currency, p.timezone, p.email_notifications, p.sms_notifications, " \
  "p.marketing_emails, p.theme, (extract(epoch FROM p.updated_at) * 1000000)::int8"

const Statement kGetPreferences{"get_preferences",
                                "SELECT " USERSVC_PREFERENCES_COLUMNS
                                " FROM users u, usersvc_preferences_of(u.id) p WHERE u.id = $1",
                                /*read_only=*/true};

const Statement kUpdatePreferences{
    "update_preferences", "SELECT " USERSVC_PREFERENCES_COLUMNS
                          " FROM usersvc_update_preferences($1, $2, $3, $4, $5, $6, $7, $8, $9) p"};

namespace {

// ListUsers' six statements (three orders, two directions), written out once at start-up.
struct ListStatements {
  ListStatements() {
    static constexpr const char* kFilter =
        "($1::smallint IS NULL OR role = $1) AND ($2::bool IS NULL OR is_active = $2)"
        " AND ($3::bool IS NULL OR is_email_verified = $3)"
        " AND ($4::int8 IS NULL OR created_at >= timestamptz 'epoch' + $4 * interval '1 us')"
        " AND ($5::int8 IS NULL OR created_at < timestamptz 'epoch' + $5 * interval '1 us')";
    struct Order {
      const char* name;
      const char* key;        // the column
      const char* key_text;   // the column as text, for the cursor
      const char* key_param;  // the cursor's key as that column's type
    };
    static constexpr Order kOrders[] = {
        {"created_at", "created_at", "((extract(epoch FROM created_at) * 1000000)::int8)::text",
         "timestamptz 'epoch' + $6::int8 * interval '1 us'"},
        {"email", "email", "email", "$6::text"},
        {"username", "username", "username", "$6::text"},
    };
    for (int order = 0; order < 3; ++order) {
      for (int descending = 0; descending < 2; ++descending) {
        const Order& o = kOrders[order];
        const char* direction = descending ? "DESC" : "ASC";
        const char* beyond = descending ? "<" : ">";
        std::string& name = names[order * 2 + descending];
        std::string& sql = sql_texts[order * 2 + descending];
        name = std::string("list_users_by_") + o.name + (descending ? "_desc" : "_asc");
        sql = std::string("WITH page AS (SELECT *, ") + o.key_text +
              " AS sort_key FROM users WHERE " + kFilter + " AND ($6::text IS NULL OR (" + o.key +
              ", id) " + beyond + " (" + o.key_param + ", $7::uuid)) ORDER BY " + o.key + " " +
              direction + ", id " + direction +
              " LIMIT $8)"
              " SELECT " USERSVC_USER_COLUMNS
              ", sort_key, total.n"
              " FROM (SELECT count(*) AS n FROM users WHERE " +
              kFilter +
              ") total"
              " LEFT JOIN page ON true ORDER BY " +
              o.key + " " + direction + ", id " + direction;
        statements[order * 2 + descending] = Statement{name, sql, /*read_only=*/true};
      }
    }
  }
  std::string names[6];
  std::string sql_texts[6];
  Statement statements[6];
};

const ListStatements& ListStatementsOnce() {
  static const ListStatements* statements = new ListStatements();  // never destroyed
  return *statements;
}

}  // namespace

const Statement& ListUsers(UserOrder order, bool descending) {
  return ListStatementsOnce().statements[static_cast<int>(order) * 2 + (descending ? 1 : 0)];
}

const Statement kSearchUsers{
    "search_users",
    "WITH matches AS ("
    "  SELECT *, CASE"
    "    WHEN email = lower($1) OR lower(username) = lower($1) THEN 0"
    "    WHEN email LIKE lower($2) OR lower(username) LIKE lower($2)"
    "      OR lower(first_name) LIKE lower($2) OR lower(last_name) LIKE lower($2) THEN 1"
    "    ELSE 2 END AS rank"
    "  FROM users"
    "  WHERE ($4 OR is_active) AND (email LIKE lower($3) OR lower(username) LIKE lower($3)"
    "    OR lower(first_name) LIKE lower($3) OR lower(last_name) LIKE lower($3))),"
    " page AS ("
    "  SELECT * FROM matches"
    "  WHERE $5::int IS NULL OR (rank, username, id) > ($5, $6::text, $7::uuid)"
    "  ORDER BY rank, username, id LIMIT $8)"
    " SELECT " USERSVC_USER_COLUMNS
    ", rank, total.n"
    " FROM (SELECT count(*) AS n FROM matches) total"
    " LEFT JOIN page ON true ORDER BY rank, username, id",
    /*read_only=*/true};

// A batch of tokens expired more than an hour ago. Replicas that purge at once skip each other's
// rows instead of waiting on them.
const Statement kPurgeExpiredTokens{
    "purge_expired_tokens",
    "DELETE FROM user_tokens WHERE token_hash IN ("
    "  SELECT token_hash FROM user_tokens WHERE expires_at < now() - interval '1 hour'"
    "  LIMIT 1000 FOR UPDATE SKIP LOCKED)"};

const Statement kPurgeOldRequestOutcomes{
    "purge_old_request_outcomes",
    "DELETE FROM request_outcomes WHERE request_id IN ("
    "  SELECT request_id FROM request_outcomes WHERE created_at < now() - interval '1 day'"
    "  LIMIT 1000 FOR UPDATE SKIP LOCKED)"};

const Statement kPurgeOldResetRequests{
    "purge_old_reset_requests",
    "DELETE FROM password_reset_requests WHERE ctid IN ("
    "  SELECT ctid FROM password_reset_requests WHERE requested_at < now() - interval '1 day'"
    "  LIMIT 1000 FOR UPDATE SKIP LOCKED)"};

const Statement kProbe{"probe", "SELECT 1",
                       /*read_only=*/true};

#undef USERSVC_PREFERENCES_COLUMNS
#undef USERSVC_ADDRESS_COLUMNS
#undef USERSVC_USER_COLUMNS

std::vector<Statement> All() {
  std::vector<Statement> all = {kSelectUsersByIds,
                                kSelectUsersByEmails,
                                kInsertUser,
                                kSelectUserByRequestId,
                                kSelectUserById,
                                kSelectUserByEmail,
                                kUpdateUser,
                                kDeleteUser,
                                kSetUserActive,
                                kAddAddress,
                                kGetAddress,
                                kListAddresses,
                                kUpdateAddress,
                                kDeleteAddress,
                                kSetDefaultAddress,
                                kIssueVerification,
                                kVerifyEmail,
                                kSelectPasswordCheck,
                                kChangePassword,
                                kIssuePasswordReset,
                                kSelectResetCheck,
                                kResetPassword,
                                kGetPreferences,
                                kUpdatePreferences,
                                kSearchUsers,
                                kPurgeExpiredTokens,
                                kPurgeOldRequestOutcomes,
                                kPurgeOldResetRequests,
                                kProbe};
  for (const Statement& list : ListStatementsOnce().statements) all.push_back(list);
  return all;
}

}  // namespace usersvc::storage::queries
