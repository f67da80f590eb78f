#pragma once

#include <string_view>

namespace usersvc::storage {

/// A named SQL statement, prepared once on every pool connection. Handlers name statements through
/// their typed Query (storage/query.h), which fills this in.
struct Statement {
  std::string_view name;
  std::string_view sql;
  /// True for a statement that changes nothing. A read lost with its connection after it was sent
  /// can be retried (UNAVAILABLE); a change so lost may or may not have been applied, and its
  /// caller is told so (UNKNOWN), never that it was not.
  bool read_only = false;
  /// True for a read whose cost grows with the table (a search, a filtered listing) rather than
  /// with its answer: the pool runs these on a few of its connections only (PoolOptions::
  /// scan_connections), so that a burst of them cannot stand in front of every lookup.
  bool scans = false;
  /// What its Query's types say it takes and returns; the prepare test holds PostgreSQL's
  /// description of the statement against them. -1: not declared.
  int param_count = -1;
  int column_count = -1;
};

}  // namespace usersvc::storage
