#pragma once

#include <string>
#include <string_view>

#include <absl/status/statusor.h>
#include <absl/time/time.h>

#include "auth/jwks.h"
#include "auth/scopes.h"

namespace usersvc::auth {

/// What a token must say to be accepted, besides a good signature.
struct JwtRules {
  std::string issuer;    // "iss" must be exactly this
  std::string audience;  // "aud" (a string or an array) must hold this
  /// Allowed clock skew for "exp" and "nbf": Envoy's jwt_authn default, so that the edge and the
  /// service agree on when a token expired.
  absl::Duration leeway = absl::Seconds(60);
};

/// What a verified token says of its caller.
struct VerifiedToken {
  std::string subject;  // "sub": the caller's identity
  ScopeSet scopes;      // from "scope" (space-separated) and "scp" (an array or a string)
  absl::Time expires;
};

/// Longer tokens are refused unparsed.
inline constexpr size_t kMaxTokenBytes = 8192;

/// Checks a compact JWS (RFC 7515) against `keys` and `rules` at `now`. A refusal is
/// UNAUTHENTICATED with a short reason ("expired", "unknown key", ...) that names nothing of the
/// token: fit for a log line and a metric label, though callers are told less.
absl::StatusOr<VerifiedToken> VerifyJwt(std::string_view token, const KeySet& keys,
                                        const JwtRules& rules, absl::Time now);

}  // namespace usersvc::auth
