#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <absl/container/flat_hash_map.h>
#include <absl/status/statusor.h>

#include "auth/scopes.h"

namespace usersvc::auth {

/// Which client-certificate identities get which scopes (--auth_policy_file), e.g.
///   {"spiffe://shop.example/ns/orders/sa/orders": ["user.read"],
///    "billing.shop.example": ["user.read", "user.credentials"]}
/// An identity is a certificate's URI SAN (a SPIFFE ID) or, for a certificate without any URI
/// SAN, its subject CN (never matched against an entry that looks like a URI). A scope name the
/// service does not know is an error, so a typo in the policy does not silently take a permission
/// away.
class CertificatePolicy {
 public:
  static absl::StatusOr<std::shared_ptr<const CertificatePolicy>> FromJson(std::string_view json);

  /// The scopes of `identity`, or nullopt when the policy does not list it.
  std::optional<ScopeSet> ScopesOf(std::string_view identity) const;

 private:
  absl::flat_hash_map<std::string, ScopeSet> scopes_;
};

}  // namespace usersvc::auth
