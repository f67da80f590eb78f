#pragma once

#include <cstdint>
#include <map>
#include <ostream>
#include <string>

#include <absl/status/statusor.h>

#include "importer/dumpdata_reader.h"

/// `usersvc import-django FILE`: the users of a Django dumpdata file into this service's
/// database, with their password hashes (VerifyPassword re-hashes them on first success).
namespace usersvc::importer {

struct ImportOptions {
  std::string database_url;
  std::string file;                 // "-": standard input
  std::string model = "auth.user";  // the dumped user model, e.g. "accounts.user"
  /// Where to write "django_pk,user_id" for every user of the dump that has an account here
  /// (imported now or before); empty: nowhere.
  std::string id_map;
  FieldNames names;
  /// A username our rules refuse is made into one they take (UsableUsername) rather than
  /// refusing the user; it may then collide with another ("username or id taken").
  bool rewrite_usernames = false;
  size_t batch = 1000;
};

struct ImportSummary {
  int64_t read = 0;
  int64_t imported = 0;
  /// An account with the email was already here (an earlier run, or a sign-up since).
  int64_t skipped = 0;
  /// Imported with a hash no hasher of the service reads (md5, plain bcrypt, ...): those users
  /// sign in only after a password reset.
  int64_t unverifiable_hashes = 0;
  /// Imported with --rewrite_invalid_usernames' username in place of Django's.
  int64_t usernames_rewritten = 0;
  std::map<std::string, int64_t> refused;  // by reason
};

/// Reads, checks and inserts in batches, each one statement that also writes a `user.imported`
/// event per user inserted. Bad rows are counted and passed over; an error only when the file or
/// the database cannot be used. Progress goes to `log`, never a password or a hash.
absl::StatusOr<ImportSummary> ImportDjangoUsers(const ImportOptions& options, std::ostream& log);

/// The command line: `usersvc import-django FILE [--database_url=URL] [--model=app.model]
/// [--id_map=FILE] [--field=ours=theirs]... [--rewrite_invalid_usernames]`; the exit code.
int ImportDjangoCommand(int argc, char** argv);

}  // namespace usersvc::importer
