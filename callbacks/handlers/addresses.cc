#include "callbacks/handlers/addresses.h"

#include <absl/strings/str_cat.h>

#include "callbacks/domain/field_mask.h"
#include "callbacks/domain/iso_codes.h"
#include "callbacks/domain/request_key.h"
#include "callbacks/domain/rows.h"
#include "callbacks/domain/validation.h"
#include "callbacks/handlers/replies.h"
#include "storage/queries/addresses.h"

namespace usersvc::callbacks {
namespace {

namespace q = storage::queries;
using user::v1::Address;

absl::Status CheckIds(std::string_view user_id, std::string_view address_id) {
  if (auto status = CheckUuid("user_id", user_id); !status.ok()) return status;
  return CheckUuid("address_id", address_id);
}

absl::Status CheckRequired(std::string_view field, std::string_view value, size_t max_chars) {
  if (value.empty()) return FieldError(field, "is required");
  return CheckLength(field, value, max_chars);
}

auto ReplyWithAddress(Address* out, Finish finish) {
  return ReplyWithRow(out, &AddressFromRow, std::move(finish), "address not found");
}

}  // namespace

// An address's fields: what AddAddress checks, and what UpdateAddress's mask may name.
constexpr MutableField<Address> kAddressFields[] = {
    {"type",
     [](std::string_view f, Address& a) {
       return user::v1::AddressType_IsValid(a.type())
                  ? absl::OkStatus()
                  : FieldError(f, "must be SHIPPING or BILLING");
     }},
    {"label", [](std::string_view f, Address& a) { return CheckLength(f, a.label(), 50); }},
    {"recipient_name",
     [](std::string_view f, Address& a) { return CheckRequired(f, a.recipient_name(), 200); }},
    {"line1", [](std::string_view f, Address& a) { return CheckRequired(f, a.line1(), 200); }},
    {"line2", [](std::string_view f, Address& a) { return CheckLength(f, a.line2(), 200); }},
    {"city", [](std::string_view f, Address& a) { return CheckRequired(f, a.city(), 100); }},
    {"region", [](std::string_view f, Address& a) { return CheckLength(f, a.region(), 100); }},
    {"postal_code",
     [](std::string_view f, Address& a) { return CheckLength(f, a.postal_code(), 20); }},
    {"country_code",
     [](std::string_view f, Address& a) {
       if (a.country_code().empty()) return FieldError(f, "is required");
       return IsCountryCode(a.country_code())
                  ? absl::OkStatus()
                  : FieldError(f, "must be an upper-case ISO 3166-1 alpha-2 code");
     }},
    {"phone_number",
     [](std::string_view f, Address& a) { return CheckPhone(f, a.phone_number()); }},
};

absl::Status ValidateAddressFields(const Address& address, const std::vector<std::string>& paths) {
  Address values = address;
  for (const MutableField<Address>& field : kAddressFields) {
    if (!MaskHas(paths, field.path)) continue;
    if (auto status = field.check("address." + std::string(field.path), values); !status.ok()) {
      return status;
    }
  }
  return absl::OkStatus();
}

void AddAddress(Services& services,
                Exchange<user::v1::AddAddressRequest, user::v1::AddAddressResponse> call) {
  const Address& a = call.request->address();
  std::vector<std::string> every_path;
  for (const MutableField<Address>& field : kAddressFields) every_path.emplace_back(field.path);
  for (const absl::Status& status :
       {CheckUuid("user_id", call.request->user_id()), ValidateAddressFields(a, every_path)}) {
    if (!status.ok()) return std::move(call.finish)(status);
  }
  absl::StatusOr<RequestKey> key = KeyOf(*call.request);
  if (!key.ok()) return std::move(call.finish)(key.status());
  services.pool.Run(
      q::kAddAddress,
      {.user_id = call.request->user_id(),
       .type = a.type() == user::v1::ADDRESS_TYPE_UNSPECIFIED ? user::v1::ADDRESS_TYPE_SHIPPING
                                                              : a.type(),
       .label = a.label(),
       .recipient_name = a.recipient_name(),
       .line1 = a.line1(),
       .line2 = a.line2(),
       .city = a.city(),
       .region = a.region(),
       .postal_code = a.postal_code(),
       .country_code = a.country_code(),
       .phone_number = a.phone_number(),
       .key = *std::move(key)},
      call.deadline, ReplyWithAddress(call.response->mutable_address(), std::move(call.finish)));
}

void GetAddress(Services& services,
                Exchange<user::v1::GetAddressRequest, user::v1::GetAddressResponse> call) {
  const auto& r = *call.request;
  if (auto status = CheckIds(r.user_id(), r.address_id()); !status.ok()) {
    return std::move(call.finish)(status);
  }
  services.read_pool.Run(
      q::kGetAddress, {.user_id = r.user_id(), .address_id = r.address_id()}, call.deadline,
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
  services.read_pool.Run(
      q::kListAddresses, {.user_id = r.user_id(), .type = r.type()}, call.deadline,
      [response = call.response,
       finish = std::move(call.finish)](storage::Rows<storage::ListedAddressRow> rows) mutable {
        if (!rows.ok()) return std::move(finish)(rows.status());
        if (rows.empty()) return std::move(finish)(absl::NotFoundError("user not found"));
        for (int i = 0; i < rows.size(); ++i) {
          const storage::ListedAddressRow listed = rows[i];
          if (listed.address) AddressFromRow(*listed.address, response->add_addresses());
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
  absl::StatusOr<Change> change =
      ResolveChange<Address>(r.update_mask(), kAddressFields, "address.", r.address());
  if (!change.ok()) return std::move(call.finish)(change.status());
  if (MaskHas(change->paths, "type") && r.address().type() == user::v1::ADDRESS_TYPE_UNSPECIFIED) {
    return std::move(call.finish)(FieldError("address.type", "must be SHIPPING or BILLING"));
  }
  services.pool.Run(
      q::kUpdateAddress,
      {.user_id = r.user_id(), .address_id = r.address_id(), .changes = change->object},
      call.deadline, ReplyWithAddress(call.response->mutable_address(), std::move(call.finish)));
}

void DeleteAddress(Services& services,
                   Exchange<user::v1::DeleteAddressRequest, user::v1::DeleteAddressResponse> call) {
  const auto& r = *call.request;
  if (auto status = CheckIds(r.user_id(), r.address_id()); !status.ok()) {
    return std::move(call.finish)(status);
  }
  absl::StatusOr<RequestKey> key = KeyOf(r);
  if (!key.ok()) return std::move(call.finish)(key.status());
  services.pool.Run(q::kDeleteAddress,
                    {.user_id = r.user_id(), .address_id = r.address_id(), .key = *std::move(key)},
                    call.deadline, ReplyEmpty(std::move(call.finish)));
}

void SetDefaultAddress(
    Services& services,
    Exchange<user::v1::SetDefaultAddressRequest, user::v1::SetDefaultAddressResponse> call) {
  const auto& r = *call.request;
  if (auto status = CheckIds(r.user_id(), r.address_id()); !status.ok()) {
    return std::move(call.finish)(status);
  }
  services.pool.Run(q::kSetDefaultAddress, {.user_id = r.user_id(), .address_id = r.address_id()},
                    call.deadline,
                    ReplyWithAddress(call.response->mutable_address(), std::move(call.finish)));
}

}  // namespace usersvc::callbacks
