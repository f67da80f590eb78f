#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <absl/status/status.h>
#include <libpq-fe.h>

#include "storage/sqlstate.h"

namespace usersvc::storage {

struct PgResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
using PgResultPtr = std::unique_ptr<PGresult, PgResultDeleter>;

/// The outcome of one query: rows in text format, or an error with its SQLSTATE.
class Result {
 public:
  /// Takes a PGRES_TUPLES_OK or PGRES_COMMAND_OK result.
  static Result Rows(PgResultPtr rows);
  /// Builds an error from a PGRES_FATAL_ERROR result (status code from its SQLSTATE).
  static Result FromPgError(const PGresult& error);
  /// The same from the fields of an error report (and the constraint it names, if any).
  static Result FromPgErrorFields(const PgErrorFields& fields, std::string_view constraint);
  /// An error that never reached PostgreSQL (connection lost, queue full, deadline).
  static Result Failure(absl::Status status);

  bool ok() const { return status_.ok(); }
  const absl::Status& status() const { return status_; }
  /// What a database error means (SqlError::kNone when there was none from PostgreSQL).
  SqlError error() const { return error_; }
  /// Five-character SQLSTATE of a database error, for logs and tests; empty otherwise. Code acts
  /// on error().
  const std::string& sqlstate() const { return sqlstate_; }
  /// Constraint (or unique index) named by a constraint violation; empty otherwise.
  const std::string& constraint() const { return constraint_; }

  int size() const { return rows_ ? PQntuples(rows_.get()) : 0; }
  bool empty() const { return size() == 0; }
  /// Rows touched by an INSERT/UPDATE/DELETE without RETURNING.
  int64_t affected() const;

  bool IsNull(int row, int column) const { return PQgetisnull(rows_.get(), row, column) != 0; }
  std::string_view Text(int row, int column) const;
  int64_t Int64(int row, int column) const;
  bool Bool(int row, int column) const;
  /// Looks a column up by name; -1 when the result has no such column.
  int Column(const char* name) const { return PQfnumber(rows_.get(), name); }

 private:
  Result(absl::Status status, PgResultPtr rows)
      : status_(std::move(status)), rows_(std::move(rows)) {}

  absl::Status status_;
  PgResultPtr rows_;
  SqlError error_ = SqlError::kNone;
  std::string sqlstate_;
  std::string constraint_;
};

}  // namespace usersvc::storage
