#include "storage/queries/upkeep.h"

namespace usersvc::storage::queries {

// Each deletes a batch. Replicas that purge at once skip each other's rows instead of waiting on
// them.
const Query<NoParams, NoRow> kPurgeExpiredTokens{
    "purge_expired_tokens",
    "DELETE FROM user_tokens WHERE token_hash IN ("
    "  SELECT token_hash FROM user_tokens WHERE expires_at < now() - interval '1 hour'"
    "  LIMIT 1000 FOR UPDATE SKIP LOCKED)",
    Access::kChanges};

const Query<NoParams, NoRow> kPurgeOldRequestOutcomes{
    "purge_old_request_outcomes",
    "DELETE FROM request_outcomes WHERE request_id IN ("
    "  SELECT request_id FROM request_outcomes WHERE created_at < now() - interval '1 day'"
    "  LIMIT 1000 FOR UPDATE SKIP LOCKED)",
    Access::kChanges};

const Query<NoParams, NoRow> kPurgeOldResetRequests{
    "purge_old_reset_requests",
    "DELETE FROM password_reset_requests WHERE ctid IN ("
    "  SELECT ctid FROM password_reset_requests WHERE requested_at < now() - interval '1 day'"
    "  LIMIT 1000 FOR UPDATE SKIP LOCKED)",
    Access::kChanges};

const Query<NoParams, NoRow> kPurgeOldSignInAttempts{
    "purge_old_sign_in_attempts",
    "DELETE FROM sign_in_attempts WHERE email_digest IN ("
    "  SELECT email_digest FROM sign_in_attempts"
    "  WHERE window_started_at < now() - interval '15 minutes'"
    "  LIMIT 1000 FOR UPDATE SKIP LOCKED)",
    Access::kChanges};

const Query<NoParams, ProbeRow> kProbe{"probe", "SELECT 1", Access::kReads};

}  // namespace usersvc::storage::queries
