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

const Statement kProbe{"probe", "SELECT 1"};

#undef USERSVC_USER_COLUMNS

std::vector<Statement> All() {
  return {kInsertUser, kSelectUserByRequestId, kSelectUserById, kSelectUserByEmail, kProbe};
}

}  // namespace usersvc::storage::queries
