#pragma once

#include <string_view>

/// Standard code lists, compiled in from Debian's iso-codes package.
namespace usersvc::callbacks {

/// ISO 3166-1 alpha-2, upper case ("FR").
bool IsCountryCode(std::string_view code);

/// ISO 4217 alphabetic, upper case ("EUR").
bool IsCurrencyCode(std::string_view code);

}  // namespace usersvc::callbacks
