#include "storage/queries/users.h"

#include "storage/queries/columns.h"

namespace usersvc::storage::queries {

const Query<InsertUserParams, UserRow> kInsertUser{
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
    " SELECT " USERSVC_USER_COLUMNS " FROM inserted",
    Access::kChanges};

const Query<RequestIdParams, CreatedUserRow> kSelectUserByRequestId{
    "select_user_by_request_id",
    "SELECT " USERSVC_USER_COLUMNS
    ", create_fingerprint, password_hash FROM users WHERE create_request_id = $1",
    Access::kReads};

const Query<UserKeysParams, UserRow> kSelectUsersByIds{
    "select_users_by_ids", "SELECT " USERSVC_USER_COLUMNS " FROM users WHERE id = ANY($1::uuid[])",
    Access::kReads};

const Query<UserKeysParams, UserRow> kSelectUsersByEmails{
    "select_users_by_emails",
    "SELECT " USERSVC_USER_COLUMNS " FROM users WHERE email = ANY($1::text[])", Access::kReads};

const Query<UpdateUserParams, UserRow> kUpdateUser{
    "update_user",
    "SELECT " USERSVC_USER_COLUMNS " FROM usersvc_update_user_once($4, $5, $1, $2::jsonb, $3)",
    Access::kChanges};

const Query<DeleteUserParams, DoneRow> kDeleteUser{
    "delete_user", "SELECT usersvc_delete_user_once($2, $3, $1)", Access::kChanges};

const Query<SetUserActiveParams, UserRow> kSetUserActive{
    "set_user_active", "SELECT " USERSVC_USER_COLUMNS " FROM usersvc_set_user_active($1, $2, $3)",
    Access::kChanges};

}  // namespace usersvc::storage::queries
