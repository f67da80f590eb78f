#include "storage/queries/addresses.h"

#include "storage/queries/columns.h"

namespace usersvc::storage::queries {

const Query<AddAddressParams, AddressRow> kAddAddress{
    "add_address",
    "SELECT " USERSVC_ADDRESS_COLUMNS
    " FROM usersvc_add_address_once($12, $13, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) a",
    Access::kChanges};

const Query<AddressParams, AddressRow> kGetAddress{
    "get_address",
    "SELECT " USERSVC_ADDRESS_COLUMNS " FROM addresses a WHERE a.user_id = $1 AND a.id = $2",
    Access::kReads};

const Query<ListAddressesParams, ListedAddressRow> kListAddresses{
    "list_addresses",
    "SELECT " USERSVC_ADDRESS_COLUMNS
    " FROM users u LEFT JOIN addresses a ON a.user_id = u.id AND ($2 = 0 OR a.type = $2)"
    " WHERE u.id = $1 ORDER BY a.is_default DESC, a.created_at DESC, a.id DESC",
    Access::kReads};

const Query<UpdateAddressParams, AddressRow> kUpdateAddress{
    "update_address",
    "SELECT " USERSVC_ADDRESS_COLUMNS " FROM usersvc_update_address($1, $2, $3::jsonb) a",
    Access::kChanges};

const Query<DeleteAddressParams, AddressRow> kDeleteAddress{
    "delete_address",
    "SELECT " USERSVC_ADDRESS_COLUMNS " FROM usersvc_delete_address_once($3, $4, $1, $2) a",
    Access::kChanges};

const Query<AddressParams, AddressRow> kSetDefaultAddress{
    "set_default_address",
    "SELECT " USERSVC_ADDRESS_COLUMNS " FROM usersvc_set_default_address($1, $2) a",
    Access::kChanges};

}  // namespace usersvc::storage::queries
