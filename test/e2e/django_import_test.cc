// `usersvc import-django`: a dumpdata file of Django users, with duplicates and bad rows, into
// the database; its users sign in with their Django passwords, a re-run imports nothing, and
// what it refuses it says why.
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "test/support/django_passwords.h"
#include "test/support/fixtures.h"

namespace usersvc::test {
namespace {

using nlohmann::json;

json DjangoUser(const std::string& pk, const std::string& email, const std::string& username,
                const std::string& password_hash) {
  return {{"model", "auth.user"},
          {"pk", pk.find('-') == std::string::npos ? json(std::stoll(pk)) : json(pk)},
          {"fields",
           {{"password", password_hash},
            {"last_login", nullptr},
            {"is_superuser", false},
            {"username", username},
            {"first_name", "Ada"},
            {"last_name", "Lovelace"},
            {"email", email},
            {"is_staff", false},
            {"is_active", true},
            {"date_joined", "2019-04-05T06:07:08.123Z"},
            {"groups", json::array()},
            {"user_permissions", json::array()}}}};
}

std::string WriteFile(const std::string& text) {
  const std::string path = fmt::format("/tmp/usersvc-dump-{}.json", UniqueSuffix());
  std::ofstream(path) << text;
  return path;
}

std::vector<std::string> Lines(const std::string& path) {
  std::ifstream file(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(file, line);) lines.push_back(line);
  return lines;
}

}  // namespace

TEST_CASE(
    "import-django imports a dumpdata file once, says what it refused, and its users sign in") {
  const std::string tag = UniqueSuffix().substr(0, 10);
  auto email = [&](int n) { return fmt::format("dj{}-{}@example.com", tag, n); };
  auto username = [&](int n) { return fmt::format("dj{}_{}", tag, n); };
  const std::string password = "django pässword";
  const std::string pbkdf2 = DjangoPassword("pbkdf2_sha256", password);
  const std::string uuid_pk = "6f1c2a3b-4d5e-4f60-8a7b-" + tag.substr(0, 10) + "ab";

  json dump = json::array();
  dump.push_back(DjangoUser("1", email(1), username(1), pbkdf2));
  dump.push_back(DjangoUser("2", email(2), username(2), DjangoPassword("argon2", password)));
  dump.push_back(DjangoUser("3", email(3), username(3), DjangoPassword("bcrypt_sha256", password)));
  dump.push_back(DjangoUser("4", email(4), username(4), DjangoPassword("pbkdf2_sha1", password)));
  json inactive = DjangoUser("5", email(5), username(5), pbkdf2);
  inactive["fields"]["is_active"] = false;
  dump.push_back(inactive);
  json staff = DjangoUser("6", email(6), username(6), pbkdf2);
  staff["fields"]["is_staff"] = true;
  dump.push_back(staff);
  json superuser = DjangoUser("7", email(7), username(7), pbkdf2);
  superuser["fields"]["is_superuser"] = true;
  dump.push_back(superuser);
  dump.push_back(DjangoUser("8", email(8), username(8), DjangoPassword("unusable", password)));
  dump.push_back(
      DjangoUser("9", email(9), username(9), "md5$salt$0123456789abcdef0123456789abcdef"));
  dump.push_back(DjangoUser(uuid_pk, email(10), username(10), pbkdf2));
  dump.push_back({{"model", "auth.group"}, {"pk", 1}, {"fields", {{"name", "editors"}}}});
  // Refused, each for its reason; none stops the import.
  std::string shouted = email(1);
  for (char& c : shouted) c = static_cast<char>(toupper(c));
  dump.push_back(DjangoUser("11", shouted, username(11), pbkdf2));         // same email
  dump.push_back(DjangoUser("12", email(12), username(1), pbkdf2));        // same username
  dump.push_back(DjangoUser("13", "not-an-email", username(13), pbkdf2));  // invalid email
  dump.push_back(DjangoUser("14", email(14), "has space", pbkdf2));        // invalid username
  json malformed = DjangoUser("15", email(15), username(15), pbkdf2);
  malformed["fields"]["is_active"] = "yes";
  dump.push_back(malformed);
  dump.push_back(
      DjangoUser("16", email(16), username(16), std::string("pbkdf2_sha256$1$a\0b", 19)));
  json far_future = DjangoUser("17", email(17), username(17), pbkdf2);
  far_future["fields"]["date_joined"] = "20000-01-01T00:00:00Z";
  dump.push_back(far_future);
  const std::string file = WriteFile(dump.dump(2));
  const std::string id_map = file + ".ids.csv";

  const CommandRun first = RunServiceCommand(
      {"import-django", file, "--database_url=" + TestDatabaseUrl(), "--id_map=" + id_map});
  INFO(first.stdout_text << first.stderr_text);
  REQUIRE(first.exit_code == 0);
  CHECK(first.stdout_text.find("read 17\n") != std::string::npos);
  CHECK(first.stdout_text.find("imported 10\n") != std::string::npos);
  CHECK(first.stdout_text.find("skipped (already here) 0\n") != std::string::npos);
  CHECK(first.stdout_text.find("refused 7\n") != std::string::npos);
  CHECK(first.stdout_text.find("invalid password hash: 1") != std::string::npos);
  CHECK(first.stdout_text.find("invalid date_joined: 1") != std::string::npos);
  CHECK(first.stdout_text.find("duplicate email in file: 1") != std::string::npos);
  CHECK(first.stdout_text.find("duplicate username in file: 1") != std::string::npos);
  CHECK(first.stdout_text.find("invalid email: 1") != std::string::npos);
  CHECK(first.stdout_text.find("invalid username") != std::string::npos);
  CHECK(first.stdout_text.find("malformed (is_active: not true or false): 1") != std::string::npos);
  CHECK(first.stdout_text.find("reads (they sign in after a reset) 1") != std::string::npos);
  for (const std::string& output : {first.stdout_text, first.stderr_text}) {
    CHECK(output.find(pbkdf2) == std::string::npos);
    CHECK(output.find(password) == std::string::npos);
  }

  BlockingDb db;
  const std::string pattern = fmt::format("dj{}-%", tag);
  CHECK(db.Scalar("SELECT count(*) FROM users WHERE email LIKE $1", {pattern}) == "10");
  // One user.imported event per user, and no user.created (no welcome mail).
  CHECK(db.Scalar("SELECT count(*) FROM user_events e JOIN users u ON u.id = e.user_id "
                  "WHERE u.email LIKE $1 AND e.event_type = 'user.imported'",
                  {pattern}) == "10");
  CHECK(db.Scalar("SELECT count(*) FROM user_events e JOIN users u ON u.id = e.user_id "
                  "WHERE u.email LIKE $1 AND e.event_type <> 'user.imported'",
                  {pattern}) == "0");
  CHECK(db.Scalar("SELECT id FROM users WHERE email = $1", {email(10)}) == uuid_pk);
  CHECK(db.Scalar("SELECT role FROM users WHERE email = $1", {email(6)}) == "3");  // staff
  CHECK(db.Scalar("SELECT role FROM users WHERE email = $1", {email(7)}) == "4");  // superuser
  CHECK(db.Scalar("SELECT role FROM users WHERE email = $1", {email(1)}) == "1");
  CHECK(db.Scalar("SELECT (created_at = '2019-04-05T06:07:08.123Z')::text FROM users "
                  "WHERE email = $1",
                  {email(1)}) == "true");
  CHECK(db.Scalar("SELECT is_active::text FROM users WHERE email = $1", {email(5)}) == "false");
  // The id map: each integer pk to the user's new id, the UUID to itself.
  const std::vector<std::string> mapped = Lines(id_map);
  CHECK(mapped.size() == 10);
  const std::string first_id = db.Scalar("SELECT id FROM users WHERE email = $1", {email(1)});
  CHECK(std::find(mapped.begin(), mapped.end(), "1," + first_id) != mapped.end());
  CHECK(std::find(mapped.begin(), mapped.end(), uuid_pk + "," + uuid_pk) != mapped.end());

  {
    ServerProcess server;
    auto stub = server.stub();
    for (int n : {1, 2, 3, 4, 10}) {
      INFO(n);
      CHECK(SignIn(*stub, email(n), password).ok());
      CHECK(db.Scalar("SELECT left(password_hash, 10) FROM users WHERE email = $1", {email(n)}) ==
            "$argon2id$");
    }
    CHECK(SignIn(*stub, email(5), password).error_code() == grpc::StatusCode::PERMISSION_DENIED);
    CHECK(SignIn(*stub, email(8), password).error_code() == grpc::StatusCode::UNAUTHENTICATED);
    CHECK(SignIn(*stub, email(9), password).error_code() == grpc::StatusCode::UNAUTHENTICATED);
  }

  // A re-run imports only what is missing: nothing.
  const CommandRun again = RunServiceCommand(
      {"import-django", file, "--database_url=" + TestDatabaseUrl(), "--id_map=" + id_map});
  INFO(again.stdout_text << again.stderr_text);
  REQUIRE(again.exit_code == 0);
  CHECK(again.stdout_text.find("imported 0\n") != std::string::npos);
  CHECK(again.stdout_text.find("skipped (already here) 10\n") != std::string::npos);
  CHECK(db.Scalar("SELECT count(*) FROM users WHERE email LIKE $1", {pattern}) == "10");
  CHECK(Lines(id_map).size() == 20);  // the same ten again, appended
  unlink(file.c_str());
  unlink(id_map.c_str());
}

TEST_CASE("import-django reads a custom user model through --model and --field") {
  const std::string tag = UniqueSuffix().substr(0, 10);
  json customer = {{"model", "accounts.customer"},
                   {"pk", 1},
                   {"fields",
                    {{"password", DjangoPassword("pbkdf2_sha256", "custom pässword")},
                     {"email_address", "Custom-" + tag + "@Example.com"},
                     {"username", "cu" + tag},
                     {"kind", "seller"},
                     {"is_email_verified", true},
                     {"phone_number", "+442071838750"}}}};
  // Django's usernames may be addresses: rewritten to our rules when asked.
  json addressed = customer;
  addressed["pk"] = 2;
  addressed["fields"]["email_address"] = "addressed-" + tag + "@example.com";
  addressed["fields"]["username"] = "a+" + tag + "@example.com";
  const std::string file = WriteFile(json::array({customer, addressed}).dump());
  const CommandRun run = RunServiceCommand(
      {"import-django", file, "--database_url=" + TestDatabaseUrl(), "--model=accounts.customer",
       "--field=email=email_address", "--field=role=kind", "--rewrite_invalid_usernames"});
  INFO(run.stdout_text << run.stderr_text);
  REQUIRE(run.exit_code == 0);
  CHECK(run.stdout_text.find("imported 2\n") != std::string::npos);
  CHECK(run.stdout_text.find("username rewritten to our rules 1") != std::string::npos);
  BlockingDb db;
  const std::string stored = "custom-" + tag + "@example.com";
  CHECK(db.Scalar("SELECT role FROM users WHERE email = $1", {stored}) == "2");
  CHECK(db.Scalar("SELECT is_email_verified::text FROM users WHERE email = $1", {stored}) ==
        "true");
  CHECK(db.Scalar("SELECT phone_number FROM users WHERE email = $1", {stored}) == "+442071838750");
  CHECK(db.Scalar("SELECT username FROM users WHERE email = $1",
                  {"addressed-" + tag + "@example.com"}) == "a_" + tag + "_example.com");

  const CommandRun unknown_field = RunServiceCommand(
      {"import-django", file, "--database_url=" + TestDatabaseUrl(), "--field=colour=hue"});
  CHECK(unknown_field.exit_code == 2);
  CHECK(unknown_field.stderr_text.find("no field of ours is called colour") != std::string::npos);
  unlink(file.c_str());
}

TEST_CASE("import-django stops with a clear error on a file that is not dumpdata JSON") {
  const std::string hash = DjangoPassword("pbkdf2_sha256", "secret");
  const std::string file = WriteFile("[{\"model\": \"auth.user\", \"fields\": {\"password\": \"" +
                                     hash + "\", \"email\": ");
  const CommandRun run =
      RunServiceCommand({"import-django", file, "--database_url=" + TestDatabaseUrl()});
  CHECK(run.exit_code == 1);
  CHECK(run.stderr_text.find("not dumpdata JSON") != std::string::npos);
  CHECK(run.stderr_text.find(hash) == std::string::npos);
  const CommandRun missing = RunServiceCommand(
      {"import-django", "/nonexistent/dump.json", "--database_url=" + TestDatabaseUrl()});
  CHECK(missing.exit_code == 1);
  CHECK(missing.stderr_text.find("cannot open") != std::string::npos);
  unlink(file.c_str());
}

}  // namespace usersvc::test
