#include "storage/queries/preferences.h"

#include "storage/queries/columns.h"

namespace usersvc::storage::queries {

const Query<PreferencesParams, PreferencesRow> kGetPreferences{
    "get_preferences",
    "SELECT " USERSVC_PREFERENCES_COLUMNS
    " FROM users u, usersvc_preferences_of(u.id) p WHERE u.id = $1",
    Access::kReads};

const Query<UpdatePreferencesParams, PreferencesRow> kUpdatePreferences{
    "update_preferences",
    "SELECT " USERSVC_PREFERENCES_COLUMNS " FROM usersvc_update_preferences($1, $2::jsonb) p",
    Access::kChanges};

}  // namespace usersvc::storage::queries
