#pragma once

#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>

#include <absl/status/status.h>
#include <absl/status/statusor.h>
#include <grpcpp/grpcpp.h>
#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include "auth/certificate_policy.h"
#include "auth/jwks.h"
#include "auth/jwt.h"
#include "auth/rate_limiter.h"
#include "auth/scopes.h"
#include "auth/token_cache.h"
#include "server/watched_file.h"

namespace usersvc::server {

/// How one registered method is guarded.
struct MethodAccess {
  enum class Kind {
    kOpen,        // grpc.health.v1: balancers and kubelets probe it without credentials
    kAnyCaller,   // server reflection: any authenticated caller, no scope needed
    kNeedsScope,  // every UserService RPC (auth/method_scopes.h)
  };
  Kind kind = Kind::kOpen;
  auth::Scope scope = auth::Scope::kRead;  // with kNeedsScope
  /// With kNeedsScope: a second scope that lets the handler show the caller more
  /// (auth::PrivilegeScope).
  std::optional<auth::Scope> privilege;
};

struct AccessOptions {
  std::string jwks_file;  // empty: bearer tokens are not checked
  auth::JwtRules jwt;
  /// Scopes of client-certificate identities; needs mutual TLS. Empty: certificates identify a
  /// caller (for the rate limit) but grant nothing.
  std::string policy_file;
  /// Whether the server asks for client certificates (--tls_client_ca).
  bool client_certificates = false;
  auth::RateLimit rate_limit;
};

/// Who the caller of a call is and whether it may make it: a bearer token checked against the
/// JWKS, else a client certificate's identity looked up in the policy; then the method's scope,
/// then the caller's rate limit (and, before a token is first verified, the peer's). With no JWKS
/// and no policy nothing is authenticated (as before this existed), and the rate limit, if any,
/// goes by the peer's address.
class AccessControl {
 public:
  static absl::StatusOr<std::unique_ptr<AccessControl>> Create(const AccessOptions& options,
                                                               prometheus::Registry& registry);

  /// Whether callers must prove who they are.
  bool authenticates() const { return authenticates_; }

  /// OK, or the status that refuses the call: UNAUTHENTICATED (no or a bad credential),
  /// PERMISSION_DENIED (a caller without the scope), RESOURCE_EXHAUSTED with a
  /// google.rpc.RetryInfo (over the rate limit). Called on a CQ thread: it costs at most one
  /// signature check, against keys parsed when the JWKS was loaded, and none for a token it has
  /// verified before (auth/token_cache.h).
  /// With `privileged`, whether an admitted caller holds the method's privilege scope is stored
  /// there: true when callers are not authenticated (everyone is trusted alike), false when the
  /// method has none.
  absl::Status Admit(const grpc::ServerContext& context, const MethodAccess& access,
                     bool* privileged = nullptr);

 private:
  struct Caller {
    std::string identity;  // "jwt:<sub>", "x509-uri:<URI SAN>" or "x509-cn:<CN>": also the
                           // rate limit's key
    auth::ScopeSet scopes;
  };

  AccessControl(const AccessOptions& options, prometheus::Registry& registry);
  absl::StatusOr<Caller> Authenticate(const grpc::ServerContext& context);
  /// The client certificate's identity and its scopes from the policy; nullopt without one.
  std::optional<Caller> CertificateCaller(const grpc::ServerContext& context) const;
  absl::Status Refuse(prometheus::Counter& counter, absl::Status status);

  const bool authenticates_;
  const bool checks_tokens_;
  const bool client_certificates_;
  const auth::JwtRules jwt_rules_;
  // What the watched files hold now; a call copies the pointer it needs under a reader lock, and
  // a reload swaps it. (Neither GCC 12's std::atomic<std::shared_ptr> nor Debian's absl::Mutex is
  // visible to ThreadSanitizer.)
  mutable std::shared_mutex loaded_mutex_;
  std::shared_ptr<const auth::KeySet> keys_;               // guarded by loaded_mutex_
  std::shared_ptr<const auth::CertificatePolicy> policy_;  // guarded by loaded_mutex_
  uint64_t keys_generation_ = 0;                           // guarded by loaded_mutex_
  auth::TokenCache verified_tokens_;
  std::unique_ptr<WatchedFile> jwks_watch_;
  std::unique_ptr<WatchedFile> policy_watch_;
  std::optional<auth::RateLimiter> limiter_;

  prometheus::Family<prometheus::Counter>& refusals_;
  prometheus::Counter& no_credentials_;
  prometheus::Counter& bad_token_;
  prometheus::Counter& no_scope_;
  prometheus::Counter& rate_limited_;
  prometheus::Family<prometheus::Counter>& reload_failures_;
  prometheus::Counter& jwks_reload_failures_;
  prometheus::Counter& policy_reload_failures_;
};

}  // namespace usersvc::server
