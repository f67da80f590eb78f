#include "storage/result.h"

#include <charconv>

#include <absl/strings/numbers.h>

#include "storage/sqlstate.h"

namespace usersvc::storage {

Result Result::Rows(PgResultPtr rows) { return Result(absl::OkStatus(), std::move(rows)); }

Result Result::FromPgError(const PGresult& error) {
  auto field = [&error](int code) -> std::string_view {
    const char* value = PQresultErrorField(&error, code);
    return value != nullptr ? value : "";
  };
  return FromPgErrorFields({field(PG_DIAG_SQLSTATE), field(PG_DIAG_MESSAGE_PRIMARY),
                            field(PG_DIAG_COLUMN_NAME), field(PG_DIAG_MESSAGE_DETAIL)},
                           field(PG_DIAG_CONSTRAINT_NAME));
}

Result Result::FromPgErrorFields(const PgErrorFields& fields, std::string_view constraint) {
  Result result(StatusFromPgError(fields), nullptr);
  result.sqlstate_ = std::string(fields.sqlstate);
  result.error_ = SqlErrorOf(fields.sqlstate);
  result.constraint_ = std::string(constraint);
  return result;
}

Result Result::Failure(absl::Status status) { return Result(std::move(status), nullptr); }

int64_t Result::affected() const {
  int64_t count = 0;
  if (rows_) (void)absl::SimpleAtoi(PQcmdTuples(rows_.get()), &count);
  return count;
}

std::string_view Result::Text(int row, int column) const {
  return {PQgetvalue(rows_.get(), row, column),
          static_cast<size_t>(PQgetlength(rows_.get(), row, column))};
}

int64_t Result::Int64(int row, int column) const {
  const std::string_view text = Text(row, column);
  int64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

bool Result::Bool(int row, int column) const { return Text(row, column) == "t"; }

}  // namespace usersvc::storage
