#include "callbacks/handlers/preferences.h"

#include <absl/strings/str_cat.h>

#include "callbacks/domain/field_mask.h"
#include "callbacks/domain/iso_codes.h"
#include "callbacks/domain/rows.h"
#include "callbacks/domain/validation.h"
#include "callbacks/handlers/replies.h"
#include "storage/queries/preferences.h"

namespace usersvc::callbacks {
namespace {

namespace q = storage::queries;
using user::v1::UserPreferences;

// The preferences' fields, which UpdateUserPreferences's mask may name. Time zone names are
// checked by the database (pg_timezone_names), which knows the ones it can use.
constexpr MutableField<UserPreferences> kPreferenceFields[] = {
    {"language",
     [](std::string_view f, UserPreferences& p) { return CheckLanguageTag(f, p.language()); }},
    {"currency",
     [](std::string_view f, UserPreferences& p) {
       return IsCurrencyCode(p.currency())
                  ? absl::OkStatus()
                  : FieldError(f, "must be an upper-case ISO 4217 code like \"EUR\"");
     }},
    {"timezone",
     [](std::string_view f, UserPreferences& p) {
       return p.timezone().empty() || p.timezone().size() > 64
                  ? FieldError(f, "must be an IANA time zone name")
                  : absl::OkStatus();
     }},
    {"email_notifications", [](std::string_view, UserPreferences&) { return absl::OkStatus(); }},
    {"sms_notifications", [](std::string_view, UserPreferences&) { return absl::OkStatus(); }},
    {"marketing_emails", [](std::string_view, UserPreferences&) { return absl::OkStatus(); }},
    {"theme",
     [](std::string_view f, UserPreferences& p) {
       if (!user::v1::Theme_IsValid(p.theme())) {
         return FieldError(f, "must be SYSTEM, LIGHT or DARK");
       }
       // THEME_UNSPECIFIED is stored and returned as SYSTEM.
       if (p.theme() == user::v1::THEME_UNSPECIFIED) p.set_theme(user::v1::THEME_SYSTEM);
       return absl::OkStatus();
     }},
};

auto ReplyWithPreferences(UserPreferences* out, Finish finish) {
  return ReplyWithRow(out, &PreferencesFromRow, std::move(finish), "user not found");
}

}  // namespace

void GetUserPreferences(
    Services& services,
    Exchange<user::v1::GetUserPreferencesRequest, user::v1::GetUserPreferencesResponse> call) {
  if (auto status = CheckUuid("user_id", call.request->user_id()); !status.ok()) {
    return std::move(call.finish)(status);
  }
  services.read_pool.Run(
      q::kGetPreferences, {.user_id = call.request->user_id()}, call.deadline,
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
  absl::StatusOr<Change> change = ResolveChange<UserPreferences>(r.update_mask(), kPreferenceFields,
                                                                 "preferences.", r.preferences());
  if (!change.ok()) return std::move(call.finish)(change.status());
  services.pool.Run(
      q::kUpdatePreferences, {.user_id = r.user_id(), .changes = change->object}, call.deadline,
      ReplyWithPreferences(call.response->mutable_preferences(), std::move(call.finish)));
}

}  // namespace usersvc::callbacks
