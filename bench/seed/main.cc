// usersvc-seed: loads N users (and addresses and preferences for a share of them) with COPY, then
// writes the request bodies the benchmark cases cycle through. User i has the id
// lpad(to_hex(i), 32, '0')::uuid, so pgbench can compute the same keys.
#include <cstdio>
#include <fstream>
#include <functional>
#include <random>
#include <string>

#include <absl/flags/flag.h>
#include <absl/flags/parse.h>
#include <absl/time/clock.h>
#include <fmt/format.h>
#include <libpq-fe.h>

#include "callbacks/domain/crypto.h"
#include "storage/migrations.h"

ABSL_FLAG(std::string, database_url, "", "PostgreSQL to seed (its users are replaced)");
ABSL_FLAG(int64_t, users, 100000, "users to load");
ABSL_FLAG(double, address_share, 0.2, "share of users with an address");
ABSL_FLAG(double, preferences_share, 0.2, "share of users with saved preferences");
ABSL_FLAG(std::string, out_dir, ".", "where to write the request bodies (*.json)");
ABSL_FLAG(int, bodies, 10000, "request bodies per lookup case");
ABSL_FLAG(int, create_bodies, 50000, "CreateUser bodies (each a new, unique user)");
ABSL_FLAG(int, measure_hashes, 0,
          "only time this many argon2id hashes on one thread and print hashes/s");

namespace {

constexpr const char* kFirstNames[] = {"Ada",      "Grace",  "Alan",    "Edsger",
                                       "Barbara",  "Donald", "Frances", "Ken",
                                       "Margaret", "Dennis", "Radia",   "Linus"};
constexpr const char* kLastNames[] = {"Lovelace", "Hopper",  "Turing",  "Dijkstra",
                                      "Liskov",   "Knuth",   "Allen",   "Thompson",
                                      "Hamilton", "Ritchie", "Perlman", "Torvalds"};

std::string UserId(int64_t i) { return fmt::format("00000000-0000-0000-0000-{:012x}", i); }

bool Check(PGconn* conn, PGresult* result, const char* what) {
  const ExecStatusType status = PQresultStatus(result);
  const bool ok = status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
  if (!ok) fmt::print(stderr, "{}: {}", what, PQerrorMessage(conn));
  PQclear(result);
  return ok;
}

// Streams rows produced by `row(i)` for i in [0, count) into COPY `target` FROM STDIN.
template <typename RowOf>
bool Copy(PGconn* conn, const std::string& target, int64_t count, RowOf row) {
  PGresult* start = PQexec(conn, ("COPY " + target + " FROM STDIN").c_str());
  const bool copying = PQresultStatus(start) == PGRES_COPY_IN;
  PQclear(start);
  if (!copying) {
    fmt::print(stderr, "COPY {}: {}", target, PQerrorMessage(conn));
    return false;
  }
  std::string buffer;
  for (int64_t i = 0; i < count; ++i) {
    row(i, buffer);
    if (buffer.size() > (1 << 20) || i + 1 == count) {
      if (PQputCopyData(conn, buffer.data(), static_cast<int>(buffer.size())) != 1) return false;
      buffer.clear();
    }
  }
  if (PQputCopyEnd(conn, nullptr) != 1) return false;
  return Check(conn, PQgetResult(conn), target.c_str());
}

void WriteBodies(const std::string& path, int count, const std::function<std::string(int)>& body) {
  std::ofstream file(path);
  file << "[\n";
  for (int i = 0; i < count; ++i) file << body(i) << (i + 1 < count ? ",\n" : "\n");
  file << "]\n";
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  if (const int hashes = absl::GetFlag(FLAGS_measure_hashes); hashes > 0) {
    if (!usersvc::callbacks::InitCrypto()) return 1;
    const absl::Time started = absl::Now();
    for (int i = 0; i < hashes; ++i) (void)usersvc::callbacks::HashPassword("bench password");
    fmt::print("{:.1f}\n", hashes / absl::ToDoubleSeconds(absl::Now() - started));
    return 0;
  }
  const std::string url = absl::GetFlag(FLAGS_database_url);
  const int64_t users = absl::GetFlag(FLAGS_users);
  if (url.empty() || users < 1) {
    fmt::print(stderr, "usage: usersvc-seed --database_url=URL [--users=N] [--out_dir=DIR]\n");
    return 2;
  }
  if (!usersvc::callbacks::InitCrypto()) return 1;
  if (auto status = usersvc::storage::Migrate(url); !status.ok()) {
    fmt::print(stderr, "migrate: {}\n", std::string(status.message()));
    return 1;
  }
  PGconn* conn = PQconnectdb(url.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    fmt::print(stderr, "connect: {}", PQerrorMessage(conn));
    return 1;
  }
  const absl::Time started = absl::Now();
  // One argon2id hash for every seeded user: hashing 100,000 passwords would take minutes.
  const std::string hash = *usersvc::callbacks::HashPassword("bench password");
  const int64_t now_seconds = absl::ToUnixSeconds(started);
  bool ok =
      Check(conn, PQexec(conn, "SET client_min_messages = warning"), "SET") &&
      Check(conn, PQexec(conn, "TRUNCATE users, user_events RESTART IDENTITY CASCADE"), "TRUNCATE");
  ok = ok && Copy(conn,
                  "users (id, email, username, password_hash, first_name, last_name, created_at,"
                  " updated_at)",
                  users, [&](int64_t i, std::string& out) {
                    const int64_t n = i + 1;
                    // One user a second, the newest now: ListUsers' default order has a spread.
                    const std::string created = absl::FormatTime(
                        "%Y-%m-%dT%H:%M:%SZ", absl::FromUnixSeconds(now_seconds - (users - n)),
                        absl::UTCTimeZone());
                    out += fmt::format(
                        "{}\tuser{}@bench.example.com\tuser_{}\t{}\t{}\t{}\t{}\t{}\n", UserId(n), n,
                        n, hash, kFirstNames[n % 12], kLastNames[(n / 12) % 12], created, created);
                  });
  const int64_t with_address = static_cast<int64_t>(users * absl::GetFlag(FLAGS_address_share));
  ok = ok &&
       Copy(conn,
            "addresses (user_id, type, label, recipient_name, line1, city, postal_code,"
            " country_code, is_default)",
            with_address, [&](int64_t i, std::string& out) {
              const int64_t n = i * users / std::max<int64_t>(1, with_address) + 1;
              out += fmt::format("{}\t1\tHome\tUser {}\t{} Main Street\tSpringfield\t{}\tUS\tt\n",
                                 UserId(n), n, n % 999 + 1, 10000 + n % 89999);
            });
  const int64_t with_preferences =
      static_cast<int64_t>(users * absl::GetFlag(FLAGS_preferences_share));
  ok = ok && Copy(conn,
                  "user_preferences (user_id, language, currency, timezone, email_notifications,"
                  " sms_notifications, marketing_emails, theme)",
                  with_preferences, [&](int64_t i, std::string& out) {
                    const int64_t n = i * users / std::max<int64_t>(1, with_preferences) + 1;
                    out += fmt::format("{}\tfr\tEUR\tEurope/Paris\tt\tf\tf\t3\n", UserId(n));
                  });
  ok = ok && Check(conn, PQexec(conn, "VACUUM ANALYZE users"), "VACUUM users") &&
       Check(conn, PQexec(conn, "VACUUM ANALYZE addresses"), "VACUUM addresses");
  PQfinish(conn);
  if (!ok) return 1;
  fmt::print(stderr, "seeded {} users, {} addresses, {} preferences in {}\n", users, with_address,
             with_preferences, absl::FormatDuration(absl::Now() - started));

  // Request bodies: random existing users for lookups, new unique users for CreateUser.
  const std::string dir = absl::GetFlag(FLAGS_out_dir);
  const int bodies = absl::GetFlag(FLAGS_bodies);
  std::mt19937_64 random(42);
  std::uniform_int_distribution<int64_t> any_user(1, users);
  WriteBodies(dir + "/getuser.json", bodies,
              [&](int) { return fmt::format(R"({{"user_id":"{}"}})", UserId(any_user(random))); });
  WriteBodies(dir + "/getuserbyemail.json", bodies, [&](int) {
    return fmt::format(R"({{"email":"USER{}@bench.example.com"}})", any_user(random));
  });
  WriteBodies(dir + "/listusers.json", 1,
              [](int) { return std::string(R"({"pagination":{"page_size":20}})"); });
  WriteBodies(dir + "/searchusers.json", 12, [](int i) {
    return fmt::format(R"({{"query":"{}","pagination":{{"page_size":20}}}})", kLastNames[i]);
  });
  WriteBodies(dir + "/healthcheck.json", 1, [](int) { return std::string("{}"); });
  // Reset tokens that nobody issued: well-formed (43 URL-safe base64 characters), random.
  WriteBodies(dir + "/resetpassword-flood.json", bodies, [&](int) {
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string token(43, 'A');
    for (char& c : token) c = kAlphabet[random() % 64];
    return fmt::format(R"({{"token":"{}","new_password":"a flood of guesses"}})", token);
  });
  const std::string run = fmt::format("{:x}", absl::ToUnixMicros(started));
  // CreateUser bodies are each used once: the warm-up and the flood (bench/driver.py) have sets
  // of their own.
  for (const char* phase : {"warmup", "measure", "flood"}) {
    const std::string file =
        std::string(phase) == "measure" ? "createuser" : std::string("createuser-") + phase;
    WriteBodies(dir + "/" + file + ".json", absl::GetFlag(FLAGS_create_bodies), [&](int i) {
      return fmt::format(
          R"({{"email":"new{0}{1}.{2}@bench.example.com","username":"n{0}{1}_{2}","password":"bench password {2}"}})",
          phase[0], run, i);
    });
  }
  return 0;
}
