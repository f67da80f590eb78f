#include "callbacks/domain/iso_codes.h"

#include <algorithm>

namespace usersvc::callbacks {
namespace {

#include "callbacks/domain/iso_codes.inc"  // kCountryCodes, kCurrencyCodes: sorted

}  // namespace

bool IsCountryCode(std::string_view code) {
  return std::binary_search(std::begin(kCountryCodes), std::end(kCountryCodes), code);
}

bool IsCurrencyCode(std::string_view code) {
  return std::binary_search(std::begin(kCurrencyCodes), std::end(kCurrencyCodes), code);
}

}  // namespace usersvc::callbacks
