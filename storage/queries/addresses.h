#pragma once

#include <cstdint>
#include <string_view>
#include <tuple>

#include "storage/params.h"
#include "storage/query.h"
#include "storage/rows.h"

/// The statements on addresses. Each parameter struct lists its fields in `$n` order.
namespace usersvc::storage::queries {

/// The new address (the user's first of its type becomes the default).
struct AddAddressParams {
  std::string_view user_id;
  int32_t type = 0;
  std::string_view label;
  std::string_view recipient_name;
  std::string_view line1;
  std::string_view line2;
  std::string_view city;
  std::string_view region;
  std::string_view postal_code;
  std::string_view country_code;
  std::string_view phone_number;
  RequestKey key;

  auto Fields() const {
    return std::tie(user_id, type, label, recipient_name, line1, line2, city, region, postal_code,
                    country_code, phone_number, key);
  }
};
extern const Query<AddAddressParams, AddressRow> kAddAddress;

/// One address of one user: GetAddress, SetDefaultAddress.
struct AddressParams {
  std::string_view user_id;
  std::string_view address_id;
  auto Fields() const { return std::tie(user_id, address_id); }
};
extern const Query<AddressParams, AddressRow> kGetAddress;
extern const Query<AddressParams, AddressRow> kSetDefaultAddress;

/// No row: no such user.
struct ListAddressesParams {
  std::string_view user_id;
  int32_t type = 0;  // 0: every type
  auto Fields() const { return std::tie(user_id, type); }
};
extern const Query<ListAddressesParams, ListedAddressRow> kListAddresses;

/// `changes`: a JSON object of the columns to set (kAddressFields in
/// callbacks/handlers/addresses.cc).
struct UpdateAddressParams {
  std::string_view user_id;
  std::string_view address_id;
  std::string_view changes;  // jsonb
  auto Fields() const { return std::tie(user_id, address_id, changes); }
};
extern const Query<UpdateAddressParams, AddressRow> kUpdateAddress;

/// The deleted address.
struct DeleteAddressParams {
  std::string_view user_id;
  std::string_view address_id;
  RequestKey key;
  auto Fields() const { return std::tie(user_id, address_id, key); }
};
extern const Query<DeleteAddressParams, AddressRow> kDeleteAddress;

}  // namespace usersvc::storage::queries
