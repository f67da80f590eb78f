#pragma once

#include "storage/params.h"
#include "storage/query.h"
#include "storage/rows.h"

/// The statements the server runs on its own: purges every minute, the health probe.
namespace usersvc::storage::queries {

/// Deletes up to 1,000 tokens that expired more than an hour ago.
extern const Query<NoParams, NoRow> kPurgeExpiredTokens;
/// Deletes up to 1,000 request outcomes older than a day (their request_ids can be used afresh).
extern const Query<NoParams, NoRow> kPurgeOldRequestOutcomes;
/// Deletes up to 1,000 rows of the reset-request log older than a day.
extern const Query<NoParams, NoRow> kPurgeOldResetRequests;
/// Deletes up to 1,000 counts of sign-in attempts whose 15-minute window has passed.
extern const Query<NoParams, NoRow> kPurgeOldSignInAttempts;

extern const Query<NoParams, ProbeRow> kProbe;

}  // namespace usersvc::storage::queries
