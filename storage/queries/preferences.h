#pragma once

#include <string_view>
#include <tuple>

#include "storage/query.h"
#include "storage/rows.h"

namespace usersvc::storage::queries {

/// The stored preferences or the defaults. No row: no such user.
struct PreferencesParams {
  std::string_view user_id;
  auto Fields() const { return std::tie(user_id); }
};
extern const Query<PreferencesParams, PreferencesRow> kGetPreferences;

/// `changes`: a JSON object of the columns to set (kPreferenceFields in
/// callbacks/handlers/preferences.cc).
struct UpdatePreferencesParams {
  std::string_view user_id;
  std::string_view changes;  // jsonb
  auto Fields() const { return std::tie(user_id, changes); }
};
extern const Query<UpdatePreferencesParams, PreferencesRow> kUpdatePreferences;

}  // namespace usersvc::storage::queries
