#include <string>

#include <catch2/catch.hpp>

#include "base/field_violation.h"
#include "callbacks/handlers/preferences.h"
#include "test/unit/handler_fixture.h"

namespace usersvc::test {
namespace {

using namespace user::v1;  // NOLINT: the request and response messages

TextRow PreferenceColumns(std::optional<std::string> updated_at) {
  return {"en", "USD", "UTC", "t", "f", "f", "0", std::move(updated_at)};
}

TEST_CASE("GetUserPreferences answers the defaults of a user who never saved any") {
  HandlerFixture fixture;
  GetUserPreferencesRequest request;
  GetUserPreferencesResponse response;
  request.set_user_id("x");
  CHECK(fixture.Call(&callbacks::GetUserPreferences, request, response).code() ==
        absl::StatusCode::kInvalidArgument);
  request.set_user_id(kUserId);
  fixture.store.Script("get_preferences", FakeStore::Rows({}, storage::PreferencesRow::kColumns));
  CHECK(fixture.Call(&callbacks::GetUserPreferences, request, response).code() ==
        absl::StatusCode::kNotFound);
  fixture.store.Script("get_preferences", FakeStore::Rows({PreferenceColumns(std::nullopt)}));
  REQUIRE(fixture.Call(&callbacks::GetUserPreferences, request, response).ok());
  CHECK(response.preferences().language() == "en");
  CHECK(response.preferences().email_notifications());
  CHECK(response.preferences().theme() == THEME_SYSTEM);  // a stored 0 reads as SYSTEM
  CHECK_FALSE(response.preferences().has_updated_at());
}

TEST_CASE("UpdateUserPreferences checks the masked fields and sends them as one change") {
  HandlerFixture fixture;
  UpdateUserPreferencesRequest request;
  request.set_user_id(kUserId);
  UpdateUserPreferencesResponse response;
  auto field_of = [&] {
    return FieldViolationOf(fixture.Call(&callbacks::UpdateUserPreferences, request, response))
        .value_or(FieldViolation{})
        .field;
  };
  request.mutable_update_mask()->add_paths("currency");
  request.mutable_preferences()->set_currency("eur");
  CHECK(field_of() == "preferences.currency");
  request.mutable_update_mask()->set_paths(0, "theme");
  request.mutable_preferences()->set_theme(static_cast<Theme>(9));
  CHECK(field_of() == "preferences.theme");
  request.mutable_update_mask()->set_paths(0, "language");
  request.mutable_preferences()->set_language("english!");
  CHECK(field_of() == "preferences.language");
  CHECK(fixture.SentStatements().empty());

  fixture.store.Script("update_preferences",
                       FakeStore::Rows({PreferenceColumns("1700000000000000")}));
  UpdateUserPreferencesRequest change;
  change.set_user_id(kUserId);
  for (const char* path : {"theme", "marketing_emails", "timezone"}) {
    change.mutable_update_mask()->add_paths(path);
  }
  change.mutable_preferences()->set_timezone("Europe/Paris");
  REQUIRE(fixture.Call(&callbacks::UpdateUserPreferences, change, response).ok());
  // THEME_UNSPECIFIED is stored as SYSTEM; a false boolean is a value, not an absence.
  CHECK(fixture.store.LastParams("update_preferences")[1] ==
        R"({"marketing_emails":false,"theme":1,"timezone":"Europe/Paris"})");
  CHECK(response.preferences().updated_at().seconds() == 1700000000);

  // The database knows the time zones: its refusal names the field.
  fixture.store.Script("update_preferences",
                       FakeStore::Error({.sqlstate = "U0400",
                                         .message = "preferences.timezone: must be an IANA time "
                                                    "zone name",
                                         .column = "preferences.timezone",
                                         .detail = "must be an IANA time zone name"}));
  const absl::Status zone = fixture.Call(&callbacks::UpdateUserPreferences, change, response);
  CHECK(zone.code() == absl::StatusCode::kInvalidArgument);
  CHECK(FieldViolationOf(zone).value_or(FieldViolation{}).field == "preferences.timezone");
}

}  // namespace
}  // namespace usersvc::test
