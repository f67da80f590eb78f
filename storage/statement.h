#pragma once

#include <string_view>

namespace usersvc::storage {

/// A named SQL statement, prepared once on every pool connection.
struct Statement {
  std::string_view name;
  std::string_view sql;
};

}  // namespace usersvc::storage
