// usersvc-seed: loads N users (and addresses and preferences for a share of them) with COPY, then
// writes the request bodies the benchmark cases cycle through. User i has the id
// lpad(to_hex(i), 32, '0')::uuid, so pgbench can compute the same keys.
#include <cctype>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <vector>

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

// Names as a real user base has them: a few common ones shared by many (weights falling as
// rank^-0.7, close to how US surnames fall off: the first about 0.8% of everyone at 1,000,000
// users), and most people with a name of the long tail, made of syllables: 11% of users from the
// top 100 surnames, 60% from 10,800 two-syllable ones (about 55 users each at 1,000,000), 29%
// from 324,000 three-syllable ones (one or two each).
constexpr const char* kFirstNames[] = {
    "James",   "Mary",      "Robert",  "Patricia", "John",        "Jennifer", "Michael", "Linda",
    "David",   "Elizabeth", "William", "Barbara",  "Richard",     "Susan",    "Joseph",  "Jessica",
    "Thomas",  "Sarah",     "Charles", "Karen",    "Christopher", "Lisa",     "Daniel",  "Nancy",
    "Matthew", "Betty",     "Anthony", "Margaret", "Mark",        "Sandra",   "Donald",  "Ashley",
    "Steven",  "Kimberly",  "Paul",    "Emily",    "Andrew",      "Donna",    "Joshua",  "Michelle",
    "Kenneth", "Carol",     "Kevin",   "Amanda",   "Brian",       "Dorothy",  "George",  "Melissa",
    "Timothy", "Deborah"};
constexpr const char* kCommonLastNames[] = {
    "Smith",    "Johnson",   "Williams",   "Brown",     "Jones",    "Garcia",   "Miller",
    "Davis",    "Rodriguez", "Martinez",   "Hernandez", "Lopez",    "Gonzalez", "Wilson",
    "Anderson", "Thomas",    "Taylor",     "Moore",     "Jackson",  "Martin",   "Lee",
    "Perez",    "Thompson",  "White",      "Harris",    "Sanchez",  "Clark",    "Ramirez",
    "Lewis",    "Robinson",  "Walker",     "Young",     "Allen",    "King",     "Wright",
    "Scott",    "Torres",    "Nguyen",     "Hill",      "Flores",   "Green",    "Adams",
    "Nelson",   "Baker",     "Hall",       "Rivera",    "Campbell", "Mitchell", "Carter",
    "Roberts",  "Gomez",     "Phillips",   "Evans",     "Turner",   "Diaz",     "Parker",
    "Cruz",     "Edwards",   "Collins",    "Reyes",     "Stewart",  "Morris",   "Morales",
    "Murphy",   "Cook",      "Rogers",     "Gutierrez", "Ortiz",    "Morgan",   "Cooper",
    "Peterson", "Bailey",    "Reed",       "Kelly",     "Howard",   "Ramos",    "Kim",
    "Cox",      "Ward",      "Richardson", "Watson",    "Brooks",   "Chavez",   "Wood",
    "James",    "Bennett",   "Gray",       "Mendoza",   "Ruiz",     "Hughes",   "Price",
    "Alvarez",  "Castillo",  "Sanders",    "Patel",     "Myers",    "Long",     "Ross",
    "Foster",   "Jimenez"};
constexpr const char* kSyllables[] = {"bar", "cor", "dal", "fen",  "gar", "hol", "kin", "lam",
                                      "mor", "nor", "pel", "quin", "ros", "sal", "tor", "val",
                                      "wen", "yor", "zan", "bel",  "cas", "dun", "eld", "fin",
                                      "gil", "har", "ist", "jor",  "kel", "lin"};
constexpr const char* kEndings[] = {"son", "ton", "ley", "ford",  "man",  "berg",
                                    "ski", "ez",  "er",  "ridge", "wood", "field"};

/// A name drawn from `weights` (rank^-0.7) over `count` names.
class Zipf {
 public:
  explicit Zipf(int count) {
    std::vector<double> weights;
    for (int rank = 1; rank <= count; ++rank) weights.push_back(std::pow(rank, -0.7));
    distribution_ = std::discrete_distribution<int>(weights.begin(), weights.end());
  }
  int operator()(std::mt19937_64& random) { return distribution_(random); }

 private:
  std::discrete_distribution<int> distribution_;
};

/// A long-tail surname: two or three syllables and an ending, capitalised.
std::string TailName(uint64_t draw, int syllables) {
  std::string name;
  for (int i = 0; i < syllables; ++i) {
    name += kSyllables[draw % std::size(kSyllables)];
    draw /= std::size(kSyllables);
  }
  name += kEndings[draw % std::size(kEndings)];
  name[0] = static_cast<char>(std::toupper(name[0]));
  return name;
}

/// User n's names, the same on every run (a hash of n, not a shared generator).
struct Person {
  std::string first;
  std::string last;
  int role;       // 90% customers, 7% sellers, 2% support, 1% admins
  bool active;    // 95%
  bool verified;  // 70%
};

Person PersonOf(int64_t n) {
  static Zipf first_names(std::size(kFirstNames));
  static Zipf last_names(std::size(kCommonLastNames));
  std::mt19937_64 random(static_cast<uint64_t>(n) * 0x9E3779B97F4A7C15ULL);
  Person person;
  person.first = kFirstNames[first_names(random)];
  const double tier = std::uniform_real_distribution<double>(0, 1)(random);
  const uint64_t draw = random();
  if (tier < 0.11) {
    person.last = kCommonLastNames[last_names(random)];
  } else {
    person.last = TailName(draw, tier < 0.71 ? 2 : 3);
  }
  const int role = static_cast<int>(random() % 100);
  person.role = role < 90 ? 1 : role < 97 ? 2 : role < 99 ? 3 : 4;
  person.active = random() % 100 < 95;
  person.verified = random() % 100 < 70;
  return person;
}

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(c));
  return text;
}

/// User n's email (unique through n) and username.
std::string EmailOf(int64_t n, const Person& person) {
  return fmt::format("{}.{}{}@bench.example.com", Lower(person.first), Lower(person.last), n);
}
std::string UsernameOf(int64_t n, const Person& person) {
  return fmt::format("{}_{}{}", Lower(person.first), Lower(person.last), n);
}

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
  // The users table's indexes are built once after the load rather than kept up row by row
  // (several times faster at 1,000,000 users); their definitions come from the catalogue, so
  // this follows whatever the migrations made.
  std::vector<std::string> indexes;
  if (ok) {
    PGresult* result =
        PQexec(conn,
               "SELECT indexdef, indexname FROM pg_indexes WHERE schemaname = current_schema()"
               " AND tablename = 'users' AND indexname NOT IN (SELECT conname FROM pg_constraint)");
    ok = PQresultStatus(result) == PGRES_TUPLES_OK;
    for (int i = 0; ok && i < PQntuples(result); ++i) {
      indexes.emplace_back(PQgetvalue(result, i, 0));
      ok = Check(conn, PQexec(conn, fmt::format("DROP INDEX {}", PQgetvalue(result, i, 1)).c_str()),
                 "DROP INDEX");
    }
    PQclear(result);
  }
  ok = ok && Copy(conn,
                  "users (id, email, username, password_hash, first_name, last_name, role,"
                  " is_active, is_email_verified, created_at, updated_at)",
                  users, [&](int64_t i, std::string& out) {
                    const int64_t n = i + 1;
                    // One user a second, the newest now: ListUsers' default order has a spread.
                    const std::string created = absl::FormatTime(
                        "%Y-%m-%dT%H:%M:%SZ", absl::FromUnixSeconds(now_seconds - (users - n)),
                        absl::UTCTimeZone());
                    const Person person = PersonOf(n);
                    out +=
                        fmt::format("{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n", UserId(n),
                                    EmailOf(n, person), UsernameOf(n, person), hash, person.first,
                                    person.last, person.role, person.active ? 't' : 'f',
                                    person.verified ? 't' : 'f', created, created);
                  });
  ok = ok && Check(conn, PQexec(conn, "SET maintenance_work_mem = '512MB'"), "SET");
  for (const std::string& index : indexes) {
    ok = ok && Check(conn, PQexec(conn, index.c_str()), "CREATE INDEX");
  }
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
  // Skewed as real traffic is (a few users are looked up far more than the rest): Zipf, s = 1.1,
  // over the seeded users in order, so user 1 is the most wanted.
  std::vector<double> weights(static_cast<size_t>(users));
  for (int64_t rank = 1; rank <= users; ++rank) weights[rank - 1] = 1.0 / std::pow(rank, 1.1);
  std::discrete_distribution<int64_t> skewed_rank(weights.begin(), weights.end());
  WriteBodies(dir + "/getuser-zipf.json", bodies, [&](int) {
    return fmt::format(R"({{"user_id":"{}"}})", UserId(skewed_rank(random) + 1));
  });
  WriteBodies(dir + "/getuserbyemail.json", bodies, [&](int) {
    const int64_t n = any_user(random);
    std::string email = EmailOf(n, PersonOf(n));
    email[0] = static_cast<char>(std::toupper(email[0]));  // the service normalises the case
    return fmt::format(R"({{"email":"{}"}})", email);
  });
  // Sign-ins with the right password (every seeded user has it) of active users (the 5% others
  // answer PERMISSION_DENIED), each clearing its own count.
  WriteBodies(dir + "/verifypassword.json", bodies, [&](int) {
    int64_t n = any_user(random);
    while (!PersonOf(n).active) n = any_user(random);
    return fmt::format(R"({{"email":"{}","password":"bench password"}})", EmailOf(n, PersonOf(n)));
  });
  WriteBodies(dir + "/listusers.json", 1,
              [](int) { return std::string(R"({"pagination":{"page_size":20}})"); });
  // 7% of users are sellers; an admin console's usual filter.
  WriteBodies(dir + "/listusers-role.json", 1, [](int) {
    return std::string(R"({"filter":{"role":"USER_ROLE_SELLER"},"pagination":{"page_size":20}})");
  });
  auto search = [](const std::string& query) {
    return fmt::format(R"({{"query":"{}","pagination":{{"page_size":20}}}})", query);
  };
  // The most common surname, one of the long tail's two-syllable ones (a few dozen users at
  // 1,000,000), and a two-letter query, which trigram indexes cannot serve.
  WriteBodies(dir + "/searchusers-common.json", 1, [&](int) { return search("Smith"); });
  WriteBodies(dir + "/searchusers-rare.json", 1,
              [&](int) { return search(TailName(7 + 13 * 30 + 5 * 900, 2)); });
  WriteBodies(dir + "/searchusers-short.json", 1, [&](int) { return search("jo"); });
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
