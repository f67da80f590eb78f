#pragma once

#include <span>
#include <string>
#include <string_view>

#include <absl/status/status.h>

namespace usersvc::storage {

/// One numbered schema change, compiled into the binary from storage/migrations/NNNN_name.sql.
struct Migration {
  int version;
  std::string_view name;
  std::string_view sql;
};

/// Every migration, in version order.
std::span<const Migration> AllMigrations();

/// Applies the migrations not yet recorded in schema_migrations, each once, in its own
/// transaction, under an advisory lock so that replicas starting together do not race. Blocking:
/// for start-up (or the `migrate` subcommand) only.
absl::Status Migrate(const std::string& conninfo);

}  // namespace usersvc::storage
