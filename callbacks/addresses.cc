#include "callbacks/addresses.h"

#include <absl/strings/str_cat.h>

#include "callbacks/field_mask.h"
#include "callbacks/iso_codes.h"
#include "callbacks/replies.h"
#include "callbacks/request_key.h"
#include "callbacks/rows.h"
#include "callbacks/validation.h"
#include "storage/queries.h"

namespace usersvc::callbacks {
namespace {

namespace q = storage::queries;
using user::v1::Address;

constexpr std::string_view kAddressPaths[] = {
    "type", "label",  "recipient_name", "line1",        "line2",
    "city", "region", "postal_code",    "country_code", "phone_number"};

absl::Status CheckIds(std::string_view user_id, std::string_view address_id) {
  if (auto status = CheckUuid("user_id", user_id); !status.ok()) return status;
  return CheckUuid("address_id", address_id);
}

absl::Status CheckRequired(std::string_view field, std::string_view value, size_t max_chars) {
  if (value.empty()) return FieldError(field, "is required");
  return CheckLength(field, value, max_chars);
}

// The address's fields as parameters $n.. of the address statements, type first.
void AppendAddressParams(const Address& a, storage::Params& params) {
  const int type =
      a.type() == user::v1::ADDRESS_TYPE_UNSPECIFIED ? user::v1::ADDRESS_TYPE_SHIPPING : a.type();
  for (std::string value :
       {absl::StrCat(type), a.label(), a.recipient_name(), a.line1(), a.line2(), a.city(),
        a.region(), a.postal_code(), a.country_code(), a.phone_number()}) {
    params.emplace_back(std::move(value));
  }
}

storage::QueryCallback ReplyWithAddress(Address* out, Finish finish) {
  return ReplyWithRow(out, &AddressFromRow, std::move(finish), "address not found");
}

}  // namespace

absl::Status ValidateAddressFields(const Address& address, const std::vector<std::string>& paths) {
  auto checked = [&](std::string_view path, auto check) {
    return MaskHas(paths, path) ? check() : absl::OkStatus();
  };
  for (const absl::Status& status : {
           checked("type",
                   [&] {
                     return user::v1::AddressType_IsValid(address.type())
                                ? absl::OkStatus()
                                : FieldError("address.type", "must be SHIPPING or BILLING");
                   }),
           checked("label", [&] { return CheckLength("address.label", address.label(), 50); }),
           checked("recipient_name",
                   [&] {
                     return CheckRequired("address.recipient_name", address.recipient_name(), 200);
                   }),
           checked("line1", [&] { return CheckRequired("address.line1", address.line1(), 200); }),
           checked("line2", [&] { return CheckLength("address.line2", address.line2(), 200); }),
           checked("city", [&] { return CheckRequired("address.city", address.city(), 100); }),
           checked("region", [&] { return CheckLength("address.region", address.region(), 100); }),
           checked("postal_code",
                   [&] { return CheckLength("address.postal_code", address.postal_code(), 20); }),
           checked("country_code",
                   [&] {
                     if (address.country_code().empty()) {
                       return FieldError("address.country_code", "is required");
                     }
                     return IsCountryCode(address.country_code())
                                ? absl::OkStatus()
                                : FieldError("address.country_code",
                                             "must be an upper-case ISO 3166-1 alpha-2 code");
                   }),
           checked("phone_number",
                   [&] { return CheckPhone("address.phone_number", address.phone_number()); }),
       }) {
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

void AddAddress(Services& services,
                Exchange<user::v1::AddAddressRequest, user::v1::AddAddressResponse> call) {
  const Address& address = call.request->address();
  const std::vector<std::string> every_path(std::begin(kAddressPaths), std::end(kAddressPaths));
  for (const absl::Status& status : {CheckUuid("user_id", call.request->user_id()),
                                     ValidateAddressFields(address, every_path)}) {
    if (!status.ok()) return std::move(call.finish)(status);
  }
  absl::StatusOr<RequestKey> key = KeyOf(*call.request);
  if (!key.ok()) return std::move(call.finish)(key.status());
  storage::Params params = {call.request->user_id()};
  AppendAddressParams(address, params);
  key->AppendTo(params);
  services.pool.Execute(q::kAddAddress, std::move(params), call.deadline,
                        ReplyWithAddress(call.response->mutable_address(), std::move(call.finish)));
}

void GetAddress(Services& services,
                Exchange<user::v1::GetAddressRequest, user::v1::GetAddressResponse> call) {
  const auto& r = *call.request;
  if (auto status = CheckIds(r.user_id(), r.address_id()); !status.ok()) {
    return std::move(call.finish)(status);
  }
  services.read_pool.Execute(
      q::kGetAddress, {r.user_id(), r.address_id()}, call.deadline,
      ReplyWithAddress(call.response->mutable_address(), std::move(call.finish)));
}

void ListAddresses(Services& services,
                   Exchange<user::v1::ListAddressesRequest, user::v1::ListAddressesResponse> call) {
  const auto& r = *call.request;
  if (auto status = CheckUuid("user_id", r.user_id()); !status.ok()) {
    return std::move(call.finish)(status);
  }
  if (!user::v1::AddressType_IsValid(r.type())) {
    return std::move(call.finish)(FieldError("type", "must be SHIPPING, BILLING or unspecified"));
  }
  services.read_pool.Execute(
      q::kListAddresses, {r.user_id(), absl::StrCat(static_cast<int>(r.type()))}, call.deadline,
      [response = call.response, finish = std::move(call.finish)](storage::Result rows) mutable {
        if (!rows.ok()) return std::move(finish)(rows.status());
        if (rows.empty()) return std::move(finish)(absl::NotFoundError("user not found"));
        for (int i = 0; i < rows.size(); ++i) {
          if (rows.IsNull(i, q::kAddressId)) continue;  // the user has none
          AddressFromRow(rows, i, response->add_addresses());
        }
        std::move(finish)(absl::OkStatus());
      });
}

void UpdateAddress(Services& services,
                   Exchange<user::v1::UpdateAddressRequest, user::v1::UpdateAddressResponse> call) {
  const auto& r = *call.request;
  if (auto status = CheckIds(r.user_id(), r.address_id()); !status.ok()) {
    return std::move(call.finish)(status);
  }
  absl::StatusOr<std::vector<std::string>> paths =
      ResolveMask(r.update_mask(), kAddressPaths, r.address());
  if (!paths.ok()) return std::move(call.finish)(paths.status());
  if (auto status = ValidateAddressFields(r.address(), *paths); !status.ok()) {
    return std::move(call.finish)(status);
  }
  if (MaskHas(*paths, "type") && r.address().type() == user::v1::ADDRESS_TYPE_UNSPECIFIED) {
    return std::move(call.finish)(FieldError("address.type", "must be SHIPPING or BILLING"));
  }
  storage::Params params = {r.user_id(), r.address_id(), MaskParam(*paths)};
  AppendAddressParams(r.address(), params);
  services.pool.Execute(q::kUpdateAddress, std::move(params), call.deadline,
                        ReplyWithAddress(call.response->mutable_address(), std::move(call.finish)));
}

void DeleteAddress(Services& services,
                   Exchange<user::v1::DeleteAddressRequest, user::v1::DeleteAddressResponse> call) {
  const auto& r = *call.request;
  if (auto status = CheckIds(r.user_id(), r.address_id()); !status.ok()) {
    return std::move(call.finish)(status);
  }
  absl::StatusOr<RequestKey> key = KeyOf(r);
  if (!key.ok()) return std::move(call.finish)(key.status());
  storage::Params params = {r.user_id(), r.address_id()};
  key->AppendTo(params);
  services.pool.Execute(q::kDeleteAddress, std::move(params), call.deadline,
                        ReplyEmpty(std::move(call.finish)));
}

void SetDefaultAddress(
    Services& services,
    Exchange<user::v1::SetDefaultAddressRequest, user::v1::SetDefaultAddressResponse> call) {
  const auto& r = *call.request;
  if (auto status = CheckIds(r.user_id(), r.address_id()); !status.ok()) {
    return std::move(call.finish)(status);
  }
  services.pool.Execute(q::kSetDefaultAddress, {r.user_id(), r.address_id()}, call.deadline,
                        ReplyWithAddress(call.response->mutable_address(), std::move(call.finish)));
}

}  // namespace usersvc::callbacks
