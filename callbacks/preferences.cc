#include "callbacks/preferences.h"

#include <absl/strings/str_cat.h>

#include "callbacks/field_mask.h"
#include "callbacks/iso_codes.h"
#include "callbacks/replies.h"
#include "callbacks/rows.h"
#include "callbacks/validation.h"
#include "storage/queries.h"

namespace usersvc::callbacks {
namespace {

namespace q = storage::queries;
using user::v1::UserPreferences;

// Whether each named field holds an acceptable value; the time zone is checked by the database
// against the zones it knows.
absl::Status ValidatePreferences(const UserPreferences& p, const std::vector<std::string>& paths) {
  if (MaskHas(paths, "language")) {
    if (auto status = CheckLanguageTag("preferences.language", p.language()); !status.ok()) {
      return status;
    }
  }
  if (MaskHas(paths, "currency") && !IsCurrencyCode(p.currency())) {
    return FieldError("preferences.currency", "must be an upper-case ISO 4217 code like \"EUR\"");
  }
  if (MaskHas(paths, "timezone") && (p.timezone().empty() || p.timezone().size() > 64)) {
    return FieldError("preferences.timezone", "must be an IANA time zone name");
  }
  if (MaskHas(paths, "theme") && !user::v1::Theme_IsValid(p.theme())) {
    return FieldError("preferences.theme", "must be SYSTEM, LIGHT or DARK");
  }
  return absl::OkStatus();
}

storage::QueryCallback ReplyWithPreferences(UserPreferences* out, Finish finish) {
  return ReplyWithRow(out, &PreferencesFromRow, std::move(finish), "user not found");
}

std::string Bool(bool value) { return value ? "true" : "false"; }

}  // namespace

void GetUserPreferences(
    Services& services,
    Exchange<user::v1::GetUserPreferencesRequest, user::v1::GetUserPreferencesResponse> call) {
  if (auto status = CheckUuid("user_id", call.request->user_id()); !status.ok()) {
    return std::move(call.finish)(status);
  }
  services.read_pool.Execute(
      q::kGetPreferences, {call.request->user_id()}, call.deadline,
      ReplyWithPreferences(call.response->mutable_preferences(), std::move(call.finish)));
}

void UpdateUserPreferences(
    Services& services,
    Exchange<user::v1::UpdateUserPreferencesRequest, user::v1::UpdateUserPreferencesResponse>
        call) {
  const auto& r = *call.request;
  if (auto status = CheckUuid("user_id", r.user_id()); !status.ok()) {
    return std::move(call.finish)(status);
  }
  absl::StatusOr<std::vector<std::string>> paths =
      ResolveMask(r.update_mask(),
                  {"language", "currency", "timezone", "email_notifications", "sms_notifications",
                   "marketing_emails", "theme"},
                  r.preferences());
  if (!paths.ok()) return std::move(call.finish)(paths.status());
  const UserPreferences& p = r.preferences();
  if (auto status = ValidatePreferences(p, *paths); !status.ok()) {
    return std::move(call.finish)(status);
  }
  // THEME_UNSPECIFIED is stored and returned as SYSTEM.
  const int theme = p.theme() == user::v1::THEME_UNSPECIFIED ? user::v1::THEME_SYSTEM : p.theme();
  services.pool.Execute(
      q::kUpdatePreferences,
      {r.user_id(), MaskParam(*paths), p.language(), p.currency(), p.timezone(),
       Bool(p.email_notifications()), Bool(p.sms_notifications()), Bool(p.marketing_emails()),
       absl::StrCat(theme)},
      call.deadline,
      ReplyWithPreferences(call.response->mutable_preferences(), std::move(call.finish)));
}

}  // namespace usersvc::callbacks
