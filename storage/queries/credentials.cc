#include "storage/queries/credentials.h"

#include "storage/queries/columns.h"

namespace usersvc::storage::queries {

const Query<IssueTokenParams, ExpiryRow> kIssueVerification{
    "issue_verification",
    "SELECT (extract(epoch FROM usersvc_issue_verification_once($5, $6, $1, $2, $3, $4::interval))"
    " * 1000000)::int8",
    Access::kChanges};

const Query<IssueTokenParams, DoneRow> kIssuePasswordReset{
    "issue_password_reset",
    "SELECT usersvc_issue_password_reset_once($5, $6, $1, $2, $3, $4::interval)", Access::kChanges};

const Query<VerifyEmailParams, UserRow> kVerifyEmail{
    "verify_email", "SELECT " USERSVC_USER_COLUMNS " FROM usersvc_verify_email_once($2, $3, $1)",
    Access::kChanges};

// One snapshot for both, so that a first call committing in between cannot make its repeat read
// the new hash without seeing the outcome.
const Query<PasswordCheckParams, PasswordCheckRow> kSelectPasswordCheck{
    "select_password_check",
    "SELECT u.password_hash,"
    "  CASE WHEN o.request_id IS NULL THEN NULL"
    "       ELSE o.method = 'ChangePassword' AND o.fingerprint = $3::bytea END"
    " FROM users u LEFT JOIN request_outcomes o ON o.request_id = $2::uuid WHERE u.id = $1",
    Access::kReads};

const Query<ChangePasswordParams, DoneRow> kChangePassword{
    "change_password", "SELECT usersvc_change_password_once($4, $5, $1, $2, $3)", Access::kChanges};

// ResetPassword's look before it hashes: whether the token could still be used, whether the
// request_id names an outcome already recorded (then the answer is that, and nothing is hashed),
// and whose token it is (the lookup cache forgets that user once the reset is done).
const Query<ResetCheckParams, ResetCheckRow> kSelectResetCheck{
    "select_reset_check",
    "SELECT EXISTS (SELECT 1 FROM user_tokens WHERE token_hash = $1 AND purpose = 'password_reset'"
    "                 AND used_at IS NULL AND expires_at > now()),"
    "  (SELECT o.method = 'ResetPassword' AND o.fingerprint = $3::bytea"
    "     FROM request_outcomes o WHERE o.request_id = $2::uuid),"
    "  (SELECT user_id::text FROM user_tokens WHERE token_hash = $1 AND purpose = "
    "'password_reset')",
    Access::kReads};

const Query<ResetPasswordParams, DoneRow> kResetPassword{
    "reset_password", "SELECT usersvc_reset_password_once($3, $4, $1, $2)", Access::kChanges};

// The claim is counted whether or not an account has the email (migration 0014); `one` gives
// the LEFT JOIN its single row when none has.
const Query<ClaimSignInParams, SignInClaimRow> kClaimSignIn{
    "claim_sign_in",
    "SELECT usersvc_claim_sign_in($1), " USERSVC_USER_COLUMNS
    ", password_hash"
    " FROM (SELECT) one LEFT JOIN users ON email = $1",
    Access::kChanges};

const Query<SignInSucceededParams, DoneRow> kSignInSucceeded{
    "sign_in_succeeded", "SELECT usersvc_sign_in_succeeded($1, $2, $3, $4)", Access::kChanges};

}  // namespace usersvc::storage::queries
