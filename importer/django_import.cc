#include "importer/django_import.h"

#include <algorithm>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <variant>
#include <vector>

#include <absl/container/flat_hash_set.h>
#include <absl/hash/hash.h>
#include <absl/strings/ascii.h>
#include <absl/strings/numbers.h>
#include <absl/time/clock.h>
#include <absl/time/time.h>
#include <fmt/format.h>
#include <libpq-fe.h>

#include "callbacks/domain/django_hashes.h"
#include "callbacks/domain/validation.h"
#include "storage/migrations.h"
#include "storage/params.h"

namespace usersvc::importer {
namespace {

/// A dumped user that passed every check, as the users table takes it.
struct CheckedUser {
  std::string pk;
  std::string id;  // the dump's UUID primary key, kept; empty: a new one
  std::string email;
  std::string username;
  std::string password_hash;
  std::string first_name;
  std::string last_name;
  std::string phone_number;
  int role = 1;
  bool is_active = true;
  bool is_email_verified = false;
  std::string created_at;     // RFC 3339, UTC
  bool unverifiable = false;  // a hash no hasher of the service reads
  bool username_rewritten = false;
};

/// Django's role names and our numbers (user.v1.UserRole).
std::optional<int> RoleOf(const DumpedUser& user) {
  if (!user.role) {
    // auth.user has no role: its superusers administer, its staff (who may use Django's admin
    // site) support.
    if (user.is_superuser.value_or(false)) return 4;
    if (user.is_staff.value_or(false)) return 3;
    return 1;
  }
  std::string name = absl::AsciiStrToLower(*user.role);
  if (name.starts_with("user_role_")) name = name.substr(10);
  int number = 0;
  if (absl::SimpleAtoi(name, &number) && number >= 1 && number <= 4) return number;
  if (name == "customer") return 1;
  if (name == "seller") return 2;
  if (name == "support") return 3;
  if (name == "admin") return 4;
  return std::nullopt;
}

/// DjangoJSONEncoder's datetimes: RFC 3339 ("2021-03-04T05:06:07.123Z"), or without an offset
/// when the project ran with USE_TZ = False (taken as UTC).
std::optional<std::string> JoinedAt(std::string_view text) {
  if (text.empty()) return absl::FormatTime(absl::RFC3339_full, absl::Now(), absl::UTCTimeZone());
  absl::Time at;
  std::string error;
  const std::string input(text);  // Debian's abseil takes its own string_view, not std's
  if (!absl::ParseTime(absl::RFC3339_full, input, &at, &error) &&
      !absl::ParseTime("%Y-%m-%d%ET%H:%M:%E*S", input, absl::UTCTimeZone(), &at, &error)) {
    return std::nullopt;
  }
  // What PostgreSQL's timestamptz and RFC 3339 both hold.
  const int64_t year = absl::ToCivilYear(at, absl::UTCTimeZone()).year();
  if (year < 1 || year > 9999) return std::nullopt;
  return absl::FormatTime(absl::RFC3339_full, at, absl::UTCTimeZone());
}

/// Django's encoded hashes are printable ASCII of about a hundred bytes.
bool PlausibleHash(std::string_view hash) {
  if (hash.size() > 1024) return false;
  return std::all_of(hash.begin(), hash.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

/// A username our rules take, made from one they refuse (Django allows 150 characters and "@+"):
/// each other character becomes '_', then it is cut to 30 or padded to 3 with '_'.
std::string UsableUsername(std::string_view django) {
  std::string usable;
  for (char c : django) {
    const bool allowed =
        absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
    usable += allowed ? c : '_';
  }
  usable.resize(std::clamp<size_t>(usable.size(), 3, 30), '_');
  return usable;
}

/// The user as the table takes it, or why not (a reason the summary counts).
std::variant<CheckedUser, std::string> Check(const DumpedUser& dumped, bool rewrite_usernames) {
  if (!dumped.malformed.empty()) return "malformed (" + dumped.malformed + ")";
  CheckedUser user;
  user.pk = dumped.pk;
  const std::string lower_pk = absl::AsciiStrToLower(dumped.pk);
  if (callbacks::CheckUuid("pk", lower_pk).ok()) user.id = lower_pk;
  absl::StatusOr<std::string> email = callbacks::NormalizeEmail("email", dumped.email);
  if (!email.ok()) return "invalid email";
  user.email = *std::move(email);
  user.username = dumped.username;
  if (!callbacks::CheckUsername("username", user.username).ok()) {
    if (!rewrite_usernames) return "invalid username (3 to 30 of A-Z a-z 0-9 _ . -)";
    user.username = UsableUsername(dumped.username);
    user.username_rewritten = true;
  }
  if (!callbacks::CheckName("first_name", dumped.first_name).ok()) return "invalid first_name";
  if (!callbacks::CheckName("last_name", dumped.last_name).ok()) return "invalid last_name";
  if (!callbacks::CheckPhone("phone_number", dumped.phone_number).ok()) {
    return "invalid phone_number (E.164)";
  }
  user.first_name = dumped.first_name;
  user.last_name = dumped.last_name;
  user.phone_number = dumped.phone_number;
  const std::optional<int> role = RoleOf(dumped);
  if (!role) return "invalid role";
  user.role = *role;
  const std::optional<std::string> joined = JoinedAt(dumped.date_joined);
  if (!joined) return "invalid date_joined";
  user.created_at = *joined;
  if (!PlausibleHash(dumped.password)) return "invalid password hash";
  // Django's unusable passwords ("!…", or none at all) are kept as unusable: such a user signs in
  // after a password reset, as in Django. So is a bare "$argon2id$…", which Django never writes
  // (its argon2 hasher prefixes "argon2"): the service would take it for its own and check it at
  // whatever cost it names.
  user.password_hash = dumped.password.empty() ? "!" : dumped.password;
  if (user.password_hash.starts_with("$argon2id$")) user.password_hash = "!" + user.password_hash;
  user.is_active = dumped.is_active.value_or(true);
  user.is_email_verified = dumped.is_email_verified.value_or(false);
  return user;
}

struct ConnectionCloser {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
struct ResultCloser {
  void operator()(PGresult* result) const { PQclear(result); }
};
using Connection = std::unique_ptr<PGconn, ConnectionCloser>;
using Result = std::unique_ptr<PGresult, ResultCloser>;

// One statement per batch. The insert passes over every row that any unique index refuses
// (email, username, id); the final select tells those apart: an email already here before this
// statement (the snapshot the CTEs share) was imported before, anything else is taken by another
// account. Each user inserted writes its user.imported event in the same statement.
constexpr char kInsertBatch[] = R"sql(
WITH input AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                       $7::text[], $8::int2[], $9::bool[], $10::bool[], $11::timestamptz[])
         WITH ORDINALITY
         AS t(id, email, username, password_hash, first_name, last_name, phone_number, role,
              is_active, is_email_verified, created_at, ord)
), inserted AS (
  INSERT INTO users (id, email, username, password_hash, first_name, last_name, phone_number,
                     role, is_active, is_email_verified, created_at, updated_at, deactivated_at,
                     deactivation_reason)
  SELECT coalesce(nullif(id, '')::uuid, gen_random_uuid()), email, username, password_hash,
         first_name, last_name, phone_number, role, is_active, is_email_verified, created_at,
         created_at, CASE WHEN is_active THEN NULL ELSE now() END,
         CASE WHEN is_active THEN '' ELSE 'inactive when imported from Django' END
  FROM input ORDER BY ord
  ON CONFLICT DO NOTHING
  RETURNING id, email, username
), events AS (
  INSERT INTO user_events (event_type, user_id, payload)
  SELECT 'user.imported', id, jsonb_build_object('email', email, 'username', username)
  FROM inserted
)
SELECT i.ord, coalesce(n.id, e.id)::text,
       CASE WHEN n.id IS NOT NULL THEN 'imported' WHEN e.id IS NOT NULL THEN 'skipped'
            ELSE 'taken' END
FROM input i LEFT JOIN inserted n ON n.email = i.email
             LEFT JOIN users e ON e.email = i.email
ORDER BY i.ord
)sql";

class Importer {
 public:
  Importer(const ImportOptions& options, PGconn* conn, std::ostream& log, std::ostream* id_map)
      : options_(options), conn_(conn), log_(log), id_map_(id_map) {}

  void Add(const DumpedUser& dumped) {
    ++summary_.read;
    auto checked = Check(dumped, options_.rewrite_usernames);
    if (auto* reason = std::get_if<std::string>(&checked)) return Refuse(*reason);
    CheckedUser& user = std::get<CheckedUser>(checked);
    // Within the file the first of a kind wins. Digests rather than the strings: 8 bytes a user.
    if (!emails_.insert(absl::HashOf(user.email)).second) return Refuse("duplicate email in file");
    if (!usernames_.insert(absl::HashOf(absl::AsciiStrToLower(user.username))).second) {
      return Refuse("duplicate username in file");
    }
    user.unverifiable =
        !callbacks::IsDjangoHash(user.password_hash) &&
        (!user.password_hash.starts_with("!") || user.password_hash.starts_with("!$argon2id$"));
    batch_.push_back(std::move(user));
    if (batch_.size() >= options_.batch) Flush();
  }

  /// Inserts what is pending; false once the database failed (the import stops there).
  bool Flush() {
    if (batch_.empty() || !error_.ok()) return error_.ok();
    Result result = Insert(batch_);
    if (PQresultStatus(result.get()) == PGRES_TUPLES_OK) {
      Record(batch_, result.get());
    } else {
      // One row the database refuses (a value our checks let through) fails its whole batch:
      // the rows are tried one at a time, and only the ones refused again are passed over.
      for (const CheckedUser& user : batch_) {
        if (PQstatus(conn_) != CONNECTION_OK) break;
        const std::vector<CheckedUser> one = {user};
        Result alone = Insert(one);
        if (PQresultStatus(alone.get()) == PGRES_TUPLES_OK) {
          Record(one, alone.get());
        } else {
          // The SQLSTATE only: PostgreSQL's message may quote the values, hashes among them.
          const char* sqlstate = PQresultErrorField(alone.get(), PG_DIAG_SQLSTATE);
          Refuse(fmt::format("refused by the database (SQLSTATE {})",
                             sqlstate != nullptr ? sqlstate : "none"));
        }
      }
      if (PQstatus(conn_) != CONNECTION_OK) {
        error_ = absl::UnavailableError("the database connection was lost");
        return false;
      }
    }
    batch_.clear();
    log_ << fmt::format("import-django: {} read, {} imported, {} skipped\n", summary_.read,
                        summary_.imported, summary_.skipped);
    return true;
  }

  const ImportSummary& summary() const { return summary_; }
  const absl::Status& error() const { return error_; }

 private:
  void Refuse(const std::string& reason) { ++summary_.refused[reason]; }

  Result Insert(const std::vector<CheckedUser>& users) {
    std::vector<std::string> columns[11];
    for (const CheckedUser& user : users) {
      columns[0].push_back(user.id);
      columns[1].push_back(user.email);
      columns[2].push_back(user.username);
      columns[3].push_back(user.password_hash);
      columns[4].push_back(user.first_name);
      columns[5].push_back(user.last_name);
      columns[6].push_back(user.phone_number);
      columns[7].push_back(std::to_string(user.role));
      columns[8].push_back(user.is_active ? "t" : "f");
      columns[9].push_back(user.is_email_verified ? "t" : "f");
      columns[10].push_back(user.created_at);
    }
    std::vector<std::string> literals;
    std::vector<const char*> values;
    for (const auto& column : columns) literals.push_back(storage::ArrayLiteral(column));
    for (const auto& literal : literals) values.push_back(literal.c_str());
    return Result(PQexecParams(conn_, kInsertBatch, static_cast<int>(values.size()), nullptr,
                               values.data(), nullptr, nullptr, 0));
  }

  /// Counts what one insert's rows say of `users` (in the same order) and writes the id map.
  void Record(const std::vector<CheckedUser>& users, PGresult* result) {
    for (int row = 0; row < PQntuples(result); ++row) {
      const CheckedUser& user = users[static_cast<size_t>(row)];
      const std::string_view outcome = PQgetvalue(result, row, 2);
      if (outcome == "taken") {
        Refuse("username or id taken by another account");
        continue;
      }
      if (outcome == "imported") {
        ++summary_.imported;
        if (user.unverifiable) ++summary_.unverifiable_hashes;
        if (user.username_rewritten) ++summary_.usernames_rewritten;
      } else {
        ++summary_.skipped;
      }
      if (id_map_ != nullptr && !user.pk.empty()) {
        *id_map_ << user.pk << ',' << PQgetvalue(result, row, 1) << '\n';
      }
    }
  }

  const ImportOptions& options_;
  PGconn* conn_;
  std::ostream& log_;
  std::ostream* id_map_;
  ImportSummary summary_;
  std::vector<CheckedUser> batch_;
  absl::flat_hash_set<size_t> emails_;
  absl::flat_hash_set<size_t> usernames_;
  absl::Status error_;
};

}  // namespace

absl::StatusOr<ImportSummary> ImportDjangoUsers(const ImportOptions& options, std::ostream& log) {
  if (absl::Status migrated = storage::Migrate(options.database_url); !migrated.ok()) {
    return migrated;
  }
  Connection conn(PQconnectdb(options.database_url.c_str()));
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    return absl::UnavailableError(
        fmt::format("cannot connect to the database: {}", PQerrorMessage(conn.get())));
  }
  std::ifstream file;
  if (options.file != "-") {
    file.open(options.file, std::ios::binary);
    if (!file) return absl::NotFoundError("cannot open " + options.file);
  }
  std::istream& input = options.file == "-" ? std::cin : file;
  std::ofstream id_map;
  if (!options.id_map.empty()) {
    // Appended to: a re-run adds the lines of what it imports, and repeats those of the rest.
    id_map.open(options.id_map, std::ios::app);
    if (!id_map) return absl::PermissionDeniedError("cannot write " + options.id_map);
  }
  Importer importer(options, conn.get(), log, options.id_map.empty() ? nullptr : &id_map);
  const absl::Status read = ReadDumpdata(input, options.names, options.model, [&](DumpedUser user) {
    if (importer.error().ok()) importer.Add(user);
  });
  importer.Flush();
  if (!importer.error().ok()) return importer.error();
  if (!read.ok()) return read;
  return importer.summary();
}

}  // namespace usersvc::importer
