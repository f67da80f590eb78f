#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "callbacks/domain/crypto.h"
#include "importer/django_import.h"

namespace usersvc::importer {

int ImportDjangoCommand(int argc, char** argv) {
  ImportOptions options;
  if (const char* url = std::getenv("DATABASE_URL")) options.database_url = url;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value_of = [&](std::string_view flag) -> std::optional<std::string> {
      if (!arg.starts_with(flag)) return std::nullopt;
      return std::string(arg.substr(flag.size()));
    };
    if (auto url = value_of("--database_url=")) {
      options.database_url = *url;
    } else if (auto model = value_of("--model=")) {
      options.model = *model;
    } else if (auto map = value_of("--id_map=")) {
      options.id_map = *map;
    } else if (arg == "--rewrite_invalid_usernames") {
      options.rewrite_usernames = true;
    } else if (auto field = value_of("--field=")) {
      if (absl::Status renamed = options.names.Rename(*field); !renamed.ok()) {
        std::cerr << "import-django: " << renamed.message() << '\n';
        return 2;
      }
    } else if (!arg.starts_with("--") && options.file.empty()) {
      options.file = std::string(arg);
    } else {
      std::cerr << "usage: usersvc import-django FILE|- [--database_url=URL] [--model=auth.user]"
                   " [--id_map=FILE] [--field=ours=theirs]... [--rewrite_invalid_usernames]\n";
      return 2;
    }
  }
  if (options.file.empty() || options.database_url.empty()) {
    std::cerr << "import-django: needs a FILE (or - for standard input) and --database_url (or "
                 "DATABASE_URL)\n";
    return 2;
  }
  if (!callbacks::InitCrypto()) return 1;
  absl::StatusOr<ImportSummary> summary = ImportDjangoUsers(options, std::cerr);
  if (!summary.ok()) {
    std::cerr << "import-django: " << summary.status().message() << '\n';
    return 1;
  }
  int64_t refused = 0;
  for (const auto& [reason, count] : summary->refused) refused += count;
  std::cout << fmt::format("read {}\nimported {}\nskipped (already here) {}\nrefused {}\n",
                           summary->read, summary->imported, summary->skipped, refused);
  for (const auto& [reason, count] : summary->refused) {
    std::cout << fmt::format("  {}: {}\n", reason, count);
  }
  if (summary->usernames_rewritten > 0) {
    std::cout << fmt::format("imported with a username rewritten to our rules {}\n",
                             summary->usernames_rewritten);
  }
  if (summary->unverifiable_hashes > 0) {
    std::cout << fmt::format(
        "imported with a password hash no hasher here reads (they sign in after a reset) {}\n",
        summary->unverifiable_hashes);
  }
  return 0;
}

}  // namespace usersvc::importer
