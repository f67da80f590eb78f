#include "auth/certificate_policy.h"

#include <absl/strings/str_cat.h>
#include <nlohmann/json.hpp>

namespace usersvc::auth {

absl::StatusOr<std::shared_ptr<const CertificatePolicy>> CertificatePolicy::FromJson(
    std::string_view text) {
  const nlohmann::json policy = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (policy.is_discarded() || !policy.is_object()) {
    return absl::InvalidArgumentError(
        "not a JSON object of certificate identities to lists of scopes");
  }
  auto parsed = std::make_shared<CertificatePolicy>();
  for (const auto& [identity, names] : policy.items()) {
    if (identity.empty() || !names.is_array()) {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", identity, "\": must map to an array of scope names"));
    }
    ScopeSet scopes;
    for (const nlohmann::json& name : names) {
      std::optional<Scope> scope =
          name.is_string() ? ScopeNamed(name.get_ref<const std::string&>()) : std::nullopt;
      if (!scope) {
        return absl::InvalidArgumentError(
            absl::StrCat("\"", identity, "\": ", name.dump(),
                         " is not a scope (user.read, user.write, user.credentials)"));
      }
      scopes.Add(*scope);
    }
    parsed->scopes_[identity] = scopes;
  }
  return std::shared_ptr<const CertificatePolicy>(std::move(parsed));
}

std::optional<ScopeSet> CertificatePolicy::ScopesOf(std::string_view identity) const {
  auto it = scopes_.find(absl::string_view(identity.data(), identity.size()));
  if (it == scopes_.end()) return std::nullopt;
  return it->second;
}

}  // namespace usersvc::auth
