#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "storage/result.h"

namespace usersvc::storage {

/// Reads one row's columns in the order its statement selects them: the row types of
/// storage/rows.h name each column once, by reading it, and nothing else counts positions.
class RowReader {
 public:
  RowReader(const Result& result, int row) : result_(result), row_(row) {}

  bool NextIsNull() const { return result_.IsNull(row_, column_); }
  std::string_view Text() { return result_.Text(row_, column_++); }
  int64_t Int64() { return result_.Int64(row_, column_++); }
  bool Bool() { return result_.Bool(row_, column_++); }
  std::optional<int64_t> OptionalInt64() {
    if (NextIsNull()) return Skip(1), std::nullopt;
    return Int64();
  }
  std::optional<std::string_view> OptionalText() {
    if (NextIsNull()) return Skip(1), std::nullopt;
    return Text();
  }
  std::optional<bool> OptionalBool() {
    if (NextIsNull()) return Skip(1), std::nullopt;
    return Bool();
  }
  void Skip(int columns) { column_ += columns; }

 private:
  const Result& result_;
  int row_;
  int column_ = 0;
};

}  // namespace usersvc::storage
