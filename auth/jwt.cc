#include "auth/jwt.h"

#include <absl/strings/ascii.h>
#include <absl/strings/escaping.h>
#include <nlohmann/json.hpp>

namespace usersvc::auth {
namespace {

using Json = nlohmann::json;

absl::Status Refused(std::string_view reason) {
  return absl::UnauthenticatedError(std::string(reason));
}

/// A part of the token decoded as RFC 7515 writes it: base64url without padding, nothing else.
/// (absl alone also takes padding and skips whitespace, which would give one token many byte
/// forms, each a miss in the token cache and a token Envoy refuses.)
std::optional<std::string> DecodePart(std::string_view part) {
  if (part.size() % 4 == 1) return std::nullopt;
  for (char c : part) {
    if (!absl::ascii_isalnum(c) && c != '-' && c != '_') return std::nullopt;
  }
  std::string decoded;
  if (!absl::WebSafeBase64Unescape(absl::string_view(part.data(), part.size()), &decoded)) {
    return std::nullopt;
  }
  return decoded;
}

/// A part of the token as a JSON object; a discarded value when it is not one.
Json DecodeObject(std::string_view part) {
  std::optional<std::string> decoded = DecodePart(part);
  if (!decoded) return Json(Json::value_t::discarded);
  Json object = Json::parse(*decoded, nullptr, /*allow_exceptions=*/false);
  return object.is_object() ? object : Json(Json::value_t::discarded);
}

/// A NumericDate claim (seconds since the epoch, maybe fractional).
std::optional<absl::Time> TimeClaim(const Json& claims, const char* name) {
  auto it = claims.find(name);
  if (it == claims.end() || !it->is_number()) return std::nullopt;
  // Within years 1970 to 9999, so that the conversion below is defined.
  const double seconds = it->get<double>();
  if (!(seconds >= 0 && seconds < 253402300800.0)) return std::nullopt;
  return absl::FromUnixMicros(static_cast<int64_t>(seconds * 1e6));
}

bool AudienceHolds(const Json& claims, const std::string& audience) {
  auto it = claims.find("aud");
  if (it == claims.end()) return false;
  if (it->is_string()) return it->get_ref<const std::string&>() == audience;
  if (!it->is_array()) return false;
  for (const Json& entry : *it) {
    if (entry.is_string() && entry.get_ref<const std::string&>() == audience) return true;
  }
  return false;
}

ScopeSet ScopesOf(const Json& claims) {
  ScopeSet scopes;
  auto add_list = [&scopes](const Json& value) {
    if (!value.is_string()) return;
    scopes |= ParseScopeList(value.get_ref<const std::string&>());
  };
  if (auto it = claims.find("scope"); it != claims.end()) add_list(*it);
  if (auto it = claims.find("scp"); it != claims.end()) {
    if (it->is_array()) {
      for (const Json& entry : *it) add_list(entry);
    } else {
      add_list(*it);
    }
  }
  return scopes;
}

}  // namespace

absl::StatusOr<VerifiedToken> VerifyJwt(std::string_view token, const KeySet& keys,
                                        const JwtRules& rules, absl::Time now) {
  if (token.size() > kMaxTokenBytes) return Refused("too long");
  const size_t first_dot = token.find('.');
  const size_t second_dot =
      first_dot == std::string_view::npos ? std::string_view::npos : token.find('.', first_dot + 1);
  if (second_dot == std::string_view::npos || token.find('.', second_dot + 1) != token.npos) {
    return Refused("not a compact JWS");
  }
  const Json header = DecodeObject(token.substr(0, first_dot));
  if (header.is_discarded()) return Refused("malformed header");
  // The algorithm comes first, before any key is chosen: "none" and HS* never reach a key.
  auto alg_it = header.find("alg");
  std::optional<Algorithm> alg;
  if (alg_it != header.end() && alg_it->is_string()) {
    alg = AlgorithmNamed(alg_it->get_ref<const std::string&>());
  }
  if (!alg) return Refused("algorithm not accepted");
  if (header.contains("crit")) return Refused("critical header extension");  // none understood
  std::optional<std::string_view> kid;
  if (auto it = header.find("kid"); it != header.end()) {
    if (!it->is_string()) return Refused("malformed header");
    kid = it->get_ref<const std::string&>();
  }
  const PublicKey* key = keys.Find(kid, *alg);
  if (key == nullptr) return Refused("unknown key");

  const std::optional<std::string> signature = DecodePart(token.substr(second_dot + 1));
  if (!signature) return Refused("malformed signature");
  if (!key->Verify(*alg, token.substr(0, second_dot), *signature)) return Refused("bad signature");

  // Only a token signed by a trusted key has its claims read.
  const Json claims = DecodeObject(token.substr(first_dot + 1, second_dot - first_dot - 1));
  if (claims.is_discarded()) return Refused("malformed claims");
  auto iss = claims.find("iss");
  if (iss == claims.end() || !iss->is_string() ||
      iss->get_ref<const std::string&>() != rules.issuer) {
    return Refused("wrong issuer");
  }
  if (!AudienceHolds(claims, rules.audience)) return Refused("wrong audience");
  const std::optional<absl::Time> expires = TimeClaim(claims, "exp");
  if (!expires) return Refused("no expiry");
  if (now > *expires + rules.leeway) return Refused("expired");
  if (claims.contains("nbf")) {
    const std::optional<absl::Time> not_before = TimeClaim(claims, "nbf");
    if (!not_before || now + rules.leeway < *not_before) return Refused("not yet valid");
  }
  auto sub = claims.find("sub");
  if (sub == claims.end() || !sub->is_string() || sub->get_ref<const std::string&>().empty() ||
      sub->get_ref<const std::string&>().size() > 255) {
    return Refused("no subject");
  }
  return VerifiedToken{sub->get<std::string>(), ScopesOf(claims), *expires};
}

}  // namespace usersvc::auth
