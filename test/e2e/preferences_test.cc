// GetUserPreferences and UpdateUserPreferences.
#include <catch2/catch.hpp>

#include "test/support/fixtures.h"

namespace usersvc::test {
namespace {

using user::v1::UserPreferences;

UserPreferences Get(Stub& stub, const std::string& user_id) {
  user::v1::GetUserPreferencesRequest request;
  request.set_user_id(user_id);
  user::v1::GetUserPreferencesResponse response;
  REQUIRE(Call(stub, &Stub::GetUserPreferences, request, &response).ok());
  return response.preferences();
}

grpc::Status Update(Stub& stub, const std::string& user_id, const UserPreferences& values,
                    std::vector<std::string> paths, UserPreferences* out) {
  user::v1::UpdateUserPreferencesRequest request;
  request.set_user_id(user_id);
  *request.mutable_preferences() = values;
  for (auto& path : paths) request.mutable_update_mask()->add_paths(path);
  user::v1::UpdateUserPreferencesResponse response;
  grpc::Status status = Call(stub, &Stub::UpdateUserPreferences, request, &response);
  if (out != nullptr) *out = response.preferences();
  return status;
}

TEST_CASE("A user who never saved preferences gets the documented defaults") {
  ServerProcess server;
  auto stub = server.stub();
  TestUser who = CreateTestUser(*stub);
  UserPreferences defaults = Get(*stub, who.user.id());
  CHECK(defaults.language() == "en");
  CHECK(defaults.currency() == "USD");
  CHECK(defaults.timezone() == "UTC");
  CHECK(defaults.email_notifications());
  CHECK_FALSE(defaults.sms_notifications());
  CHECK_FALSE(defaults.marketing_emails());
  CHECK(defaults.theme() == user::v1::THEME_SYSTEM);
  CHECK_FALSE(defaults.has_updated_at());

  user::v1::GetUserPreferencesRequest request;
  request.set_user_id("00000000-0000-4000-8000-000000000000");
  user::v1::GetUserPreferencesResponse response;
  CHECK(Call(*stub, &Stub::GetUserPreferences, request, &response).error_code() ==
        grpc::StatusCode::NOT_FOUND);
}

TEST_CASE(
    "UpdateUserPreferences applies the mask, keeps the rest, and writes one event per "
    "change") {
  ServerProcess server;
  auto stub = server.stub();
  TestUser who = CreateTestUser(*stub);
  UserPreferences values;
  values.set_language("pt-BR");
  values.set_currency("EUR");
  values.set_timezone("Europe/Paris");
  values.set_email_notifications(false);
  values.set_theme(user::v1::THEME_DARK);
  UserPreferences saved;
  REQUIRE(Update(*stub, who.user.id(), values,
                 {"language", "currency", "timezone", "email_notifications", "theme"}, &saved)
              .ok());
  CHECK(saved.language() == "pt-BR");
  CHECK(saved.currency() == "EUR");
  CHECK(saved.timezone() == "Europe/Paris");
  CHECK_FALSE(saved.email_notifications());
  CHECK(saved.theme() == user::v1::THEME_DARK);
  CHECK(saved.has_updated_at());
  CHECK(Get(*stub, who.user.id()).SerializeAsString() == saved.SerializeAsString());

  // Empty mask: only set fields; marketing_emails is the one set here.
  UserPreferences more;
  more.set_marketing_emails(true);
  REQUIRE(Update(*stub, who.user.id(), more, {}, &saved).ok());
  CHECK(saved.marketing_emails());
  CHECK(saved.language() == "pt-BR");
  // A repeat changes nothing and writes nothing.
  REQUIRE(Update(*stub, who.user.id(), more, {}, &saved).ok());

  BlockingDb db;
  CHECK(EventPayloads(db, who.user.id(), "user.preferences_updated") ==
        std::vector<std::string>{
            R"({"changed": ["language", "currency", "timezone", "email_notifications", "theme"]})",
            R"({"changed": ["marketing_emails"]})"});
}

TEST_CASE("THEME_UNSPECIFIED is stored and returned as SYSTEM") {
  ServerProcess server;
  auto stub = server.stub();
  TestUser who = CreateTestUser(*stub);
  UserPreferences values;
  values.set_theme(user::v1::THEME_DARK);
  UserPreferences saved;
  REQUIRE(Update(*stub, who.user.id(), values, {"theme"}, &saved).ok());
  values.set_theme(user::v1::THEME_UNSPECIFIED);
  REQUIRE(Update(*stub, who.user.id(), values, {"theme"}, &saved).ok());
  CHECK(saved.theme() == user::v1::THEME_SYSTEM);
}

TEST_CASE("UpdateUserPreferences validates language, currency, time zone, theme and the mask") {
  ServerProcess server;
  auto stub = server.stub();
  TestUser who = CreateTestUser(*stub);
  struct Case {
    const char* path;
    void (*set)(UserPreferences&);
  };
  const Case cases[] = {
      {"preferences.language", [](UserPreferences& p) { p.set_language("english!"); }},
      {"preferences.language", [](UserPreferences& p) { p.set_language("e"); }},
      {"preferences.currency", [](UserPreferences& p) { p.set_currency("eur"); }},
      {"preferences.currency", [](UserPreferences& p) { p.set_currency("XYZ"); }},
      {"preferences.timezone", [](UserPreferences& p) { p.set_timezone("Mars/Olympus_Mons"); }},
      {"preferences.theme",
       [](UserPreferences& p) { p.set_theme(static_cast<user::v1::Theme>(9)); }},
  };
  for (const Case& c : cases) {
    UserPreferences values;
    c.set(values);
    grpc::Status status = Update(*stub, who.user.id(), values, {}, nullptr);
    INFO(c.path << " " << status.error_message());
    CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(status.error_message().rfind(std::string(c.path) + ": ", 0) == 0);
  }
  grpc::Status status = Update(*stub, who.user.id(), {}, {"updated_at"}, nullptr);
  CHECK(status.error_message().rfind("update_mask: ", 0) == 0);
  CHECK_FALSE(Get(*stub, who.user.id()).has_updated_at());
}

}  // namespace
}  // namespace usersvc::test
