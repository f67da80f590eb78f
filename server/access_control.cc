#include "server/access_control.h"

#include <vector>

#include <absl/strings/ascii.h>
#include <absl/strings/match.h>
#include <absl/time/clock.h>

#include "base/log.h"
#include "callbacks/domain/retry_info.h"

namespace usersvc::server {
namespace {

/// The token of an `authorization: Bearer <token>` header; "" when there is none, nullopt when
/// the header is there but is not one bearer token (two headers, another scheme).
std::optional<std::string_view> BearerToken(const grpc::ServerContext& context) {
  const auto& metadata = context.client_metadata();
  auto [first, last] = metadata.equal_range("authorization");
  if (first == last) return std::string_view();
  if (std::next(first) != last) return std::nullopt;
  const absl::string_view header(first->second.data(), first->second.size());
  constexpr absl::string_view kScheme = "bearer ";
  if (header.size() <= kScheme.size() ||
      !absl::EqualsIgnoreCase(header.substr(0, kScheme.size()), kScheme)) {
    return std::nullopt;
  }
  const absl::string_view token = absl::StripAsciiWhitespace(header.substr(kScheme.size()));
  return std::string_view(token.data(), token.size());
}

/// The peer's address without its port ("ipv4:10.0.0.7"), the rate limit's key for a caller with
/// no identity: the port changes with every connection.
std::string PeerAddress(const grpc::ServerContext& context) {
  std::string peer = context.peer();
  if (absl::StartsWith(peer, "ipv4:") || absl::StartsWith(peer, "ipv6:")) {
    if (size_t colon = peer.rfind(':'); colon > 4) peer.resize(colon);
  }
  return peer;
}

absl::Status RateLimited(absl::Duration retry_after) {
  return callbacks::WithRetryDelay(
      absl::ResourceExhaustedError("rate limit exceeded for this caller; retry later"),
      retry_after);
}

}  // namespace

absl::StatusOr<std::unique_ptr<AccessControl>> AccessControl::Create(
    const AccessOptions& options, prometheus::Registry& registry) {
  if (!options.jwks_file.empty() && (options.jwt.issuer.empty() || options.jwt.audience.empty())) {
    return absl::InvalidArgumentError("--auth_jwks_file: needs --auth_issuer and --auth_audience");
  }
  if (!options.policy_file.empty() && !options.client_certificates) {
    return absl::InvalidArgumentError(
        "--auth_policy_file: needs --tls_client_ca (client certificates)");
  }
  std::unique_ptr<AccessControl> access(new AccessControl(options, registry));
  if (!options.jwks_file.empty()) {
    auto watch = WatchedFile::Watch(
        options.jwks_file, "watch-jwks",
        [raw = access.get()](const std::string& content) {
          absl::StatusOr<std::shared_ptr<const auth::KeySet>> keys =
              auth::KeySet::FromJwks(content);
          if (!keys.ok()) return keys.status();
          std::unique_lock lock(raw->loaded_mutex_);
          raw->keys_ = *std::move(keys);
          ++raw->keys_generation_;  // what was verified with the old set is checked again
          return absl::OkStatus();
        },
        [raw = access.get()] { raw->jwks_reload_failures_.Increment(); });
    if (!watch.ok())
      return absl::InvalidArgumentError("--auth_jwks_file: " +
                                        std::string(watch.status().message()));
    access->jwks_watch_ = *std::move(watch);
  }
  if (!options.policy_file.empty()) {
    auto watch = WatchedFile::Watch(
        options.policy_file, "watch-policy",
        [raw = access.get()](const std::string& content) {
          absl::StatusOr<std::shared_ptr<const auth::CertificatePolicy>> policy =
              auth::CertificatePolicy::FromJson(content);
          if (!policy.ok()) return policy.status();
          std::unique_lock lock(raw->loaded_mutex_);
          raw->policy_ = *std::move(policy);
          return absl::OkStatus();
        },
        [raw = access.get()] { raw->policy_reload_failures_.Increment(); });
    if (!watch.ok())
      return absl::InvalidArgumentError("--auth_policy_file: " +
                                        std::string(watch.status().message()));
    access->policy_watch_ = *std::move(watch);
  }
  return access;
}

AccessControl::AccessControl(const AccessOptions& options, prometheus::Registry& registry)
    : authenticates_(!options.jwks_file.empty() || !options.policy_file.empty()),
      checks_tokens_(!options.jwks_file.empty()),
      client_certificates_(options.client_certificates),
      jwt_rules_(options.jwt),
      verified_tokens_(options.jwt.leeway),
      refusals_(prometheus::BuildCounter()
                    .Name("usersvc_access_refusals_total")
                    .Help("Calls refused before their handler ran, by reason")
                    .Register(registry)),
      no_credentials_(refusals_.Add({{"reason", "no_credentials"}})),
      bad_token_(refusals_.Add({{"reason", "bad_token"}})),
      no_scope_(refusals_.Add({{"reason", "no_scope"}})),
      rate_limited_(refusals_.Add({{"reason", "rate_limited"}})),
      reload_failures_(prometheus::BuildCounter()
                           .Name("usersvc_access_reload_failures_total")
                           .Help("Changes to the JWKS or policy file that did not load (the "
                                 "previous content stays in force)")
                           .Register(registry)),
      jwks_reload_failures_(reload_failures_.Add({{"file", "jwks"}})),
      policy_reload_failures_(reload_failures_.Add({{"file", "policy"}})) {
  if (options.rate_limit.per_second > 0) limiter_.emplace(options.rate_limit);
}

absl::Status AccessControl::Refuse(prometheus::Counter& counter, absl::Status status) {
  counter.Increment();
  return status;
}

std::optional<AccessControl::Caller> AccessControl::CertificateCaller(
    const grpc::ServerContext& context) const {
  if (!client_certificates_) return std::nullopt;
  const std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth == nullptr || !auth->IsPeerAuthenticated()) return std::nullopt;
  std::shared_ptr<const auth::CertificatePolicy> policy;
  {
    std::shared_lock lock(loaded_mutex_);
    policy = policy_;
  }
  // A certificate with URI SANs is one of those: the first the policy lists, else the first.
  // Only a certificate without any is its subject CN, and a CN never stands for a URI: a CA
  // that lets requesters choose their CN must not let one pass for a SPIFFE ID.
  const std::vector<grpc::string_ref> uris = auth->FindPropertyValues(GRPC_PEER_URI_PROPERTY_NAME);
  for (const grpc::string_ref& value : uris) {
    std::string uri(value.data(), value.size());
    if (std::optional<auth::ScopeSet> scopes =
            policy != nullptr ? policy->ScopesOf(uri) : std::nullopt) {
      return Caller{"x509-uri:" + uri, *scopes};
    }
  }
  if (!uris.empty()) return Caller{"x509-uri:" + std::string(uris[0].data(), uris[0].size()), {}};
  for (const grpc::string_ref& value : auth->FindPropertyValues(GRPC_X509_CN_PROPERTY_NAME)) {
    std::string cn(value.data(), value.size());
    std::optional<auth::ScopeSet> scopes;
    if (policy != nullptr && cn.find("://") == std::string::npos) scopes = policy->ScopesOf(cn);
    return Caller{"x509-cn:" + cn, scopes.value_or(auth::ScopeSet{})};
  }
  return std::nullopt;
}

absl::StatusOr<AccessControl::Caller> AccessControl::Authenticate(
    const grpc::ServerContext& context) {
  std::optional<std::string_view> token = BearerToken(context);
  // A token, when one is sent, decides: a bad one is refused even over a good certificate, so a
  // caller never silently ends up as someone else than it said.
  if (checks_tokens_ && (!token || !token->empty())) {
    if (!token) return Refuse(bad_token_, absl::UnauthenticatedError("invalid bearer token"));
    std::shared_ptr<const auth::KeySet> keys;
    uint64_t generation = 0;
    {
      std::shared_lock lock(loaded_mutex_);
      keys = keys_;
      generation = keys_generation_;
    }
    const absl::Time now = absl::Now();
    if (std::optional<auth::VerifiedToken> known = verified_tokens_.Find(*token, generation, now)) {
      return Caller{"jwt:" + known->subject, known->scopes};
    }
    // A token not seen before costs a signature check, so with a rate limit each peer address
    // pays for those from a bucket of its own, before the check: made-up tokens, which an
    // attacker can vary at will and no cache can hold, are not a lever either. A caller reusing
    // its token pays once per token.
    if (limiter_) {
      if (std::optional<absl::Duration> retry_after =
              limiter_->Take("verify:" + PeerAddress(context), now)) {
        return Refuse(rate_limited_, RateLimited(*retry_after));
      }
    }
    absl::StatusOr<auth::VerifiedToken> verified = auth::VerifyJwt(*token, *keys, jwt_rules_, now);
    if (!verified.ok()) {
      Log(LogLevel::kDebug, "bearer token refused", {{"reason", verified.status().message()}});
      return Refuse(bad_token_, absl::UnauthenticatedError("invalid bearer token"));
    }
    verified_tokens_.Insert(*token, generation, *verified);
    return Caller{"jwt:" + verified->subject, verified->scopes};
  }
  if (std::optional<Caller> caller = CertificateCaller(context)) return *std::move(caller);
  return Refuse(
      no_credentials_,
      absl::UnauthenticatedError(checks_tokens_ ? "no credentials: send a bearer token"
                                                : "no credentials: present a client certificate"));
}

absl::Status AccessControl::Admit(const grpc::ServerContext& context, const MethodAccess& access,
                                  bool* privileged) {
  if (privileged != nullptr) *privileged = access.privilege.has_value() && !authenticates_;
  if (access.kind == MethodAccess::Kind::kOpen || (!authenticates_ && !limiter_)) {
    return absl::OkStatus();
  }
  std::string rate_key;
  if (authenticates_) {
    absl::StatusOr<Caller> caller = Authenticate(context);
    if (!caller.ok()) return caller.status();
    if (access.kind == MethodAccess::Kind::kNeedsScope && !caller->scopes.Has(access.scope)) {
      return Refuse(no_scope_,
                    absl::PermissionDeniedError("the caller lacks the scope " +
                                                std::string(auth::ScopeName(access.scope))));
    }
    rate_key = std::move(caller->identity);
    if (privileged != nullptr) {
      *privileged = access.privilege.has_value() && caller->scopes.Has(*access.privilege);
    }
  } else if (std::optional<Caller> caller = CertificateCaller(context)) {
    rate_key = std::move(caller->identity);
  } else {
    rate_key = PeerAddress(context);
  }
  if (limiter_) {
    if (std::optional<absl::Duration> retry_after = limiter_->Take(rate_key, absl::Now())) {
      return Refuse(rate_limited_, RateLimited(*retry_after));
    }
  }
  return absl::OkStatus();
}

}  // namespace usersvc::server
