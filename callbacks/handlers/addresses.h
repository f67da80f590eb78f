#pragma once

#include <string>
#include <vector>

#include <absl/status/status.h>

#include "callbacks/handlers/exchange.h"
#include "callbacks/handlers/services.h"
#include "user/v1/user.pb.h"

/// Handlers of the address RPCs. The invariants (at most 20 per user, one default per type,
/// first-of-type default, promotion on delete) live in the database functions they call.
namespace usersvc::callbacks {

void AddAddress(Services& services,
                Exchange<user::v1::AddAddressRequest, user::v1::AddAddressResponse> call);
void GetAddress(Services& services,
                Exchange<user::v1::GetAddressRequest, user::v1::GetAddressResponse> call);
void ListAddresses(Services& services,
                   Exchange<user::v1::ListAddressesRequest, user::v1::ListAddressesResponse> call);
void UpdateAddress(Services& services,
                   Exchange<user::v1::UpdateAddressRequest, user::v1::UpdateAddressResponse> call);
void DeleteAddress(Services& services,
                   Exchange<user::v1::DeleteAddressRequest, user::v1::DeleteAddressResponse> call);
void SetDefaultAddress(
    Services& services,
    Exchange<user::v1::SetDefaultAddressRequest, user::v1::SetDefaultAddressResponse> call);

/// Checks the fields of `address` named in `paths` ("address." prefixed in messages).
absl::Status ValidateAddressFields(const user::v1::Address& address,
                                   const std::vector<std::string>& paths);

}  // namespace usersvc::callbacks
