#include <string>

#include <catch2/catch.hpp>

#include "base/field_violation.h"
#include "callbacks/handlers/addresses.h"
#include "test/unit/handler_fixture.h"

namespace usersvc::test {
namespace {

using namespace user::v1;  // NOLINT: the request and response messages

AddAddressRequest NewAddress() {
  AddAddressRequest request;
  request.set_user_id(kUserId);
  Address& a = *request.mutable_address();
  a.set_recipient_name("Ann Lee");
  a.set_line1("1 Main St");
  a.set_city("Springfield");
  a.set_country_code("US");
  return request;
}

std::string FieldOf(const absl::Status& status) {
  return FieldViolationOf(status).value_or(FieldViolation{}).field;
}

TEST_CASE("AddAddress checks every field before it queries") {
  struct Case {
    void (*spoil)(Address&);
    const char* field;
  };
  const Case cases[] = {
      {[](Address& a) { a.clear_line1(); }, "address.line1"},
      {[](Address& a) { a.clear_recipient_name(); }, "address.recipient_name"},
      {[](Address& a) { a.set_city(std::string(101, 'c')); }, "address.city"},
      {[](Address& a) { a.set_country_code("us"); }, "address.country_code"},
      {[](Address& a) { a.set_type(static_cast<AddressType>(7)); }, "address.type"},
      {[](Address& a) { a.set_label(std::string(51, 'l')); }, "address.label"},
      {[](Address& a) { a.set_phone_number("12"); }, "address.phone_number"},
      // PostgreSQL's text cannot hold U+0000: refused, never cut short.
      {[](Address& a) { a.set_line2(std::string("Flat 2\0B", 8)); }, "address.line2"},
  };
  for (const Case& c : cases) {
    HandlerFixture fixture;
    AddAddressRequest request = NewAddress();
    c.spoil(*request.mutable_address());
    AddAddressResponse response;
    const absl::Status status = fixture.Call(&callbacks::AddAddress, request, response);
    INFO(status.ToString());
    CHECK(FieldOf(status) == c.field);
    CHECK(fixture.SentStatements().empty());
  }
}

TEST_CASE("AddAddress sends the fields in order, SHIPPING by default, and answers the row") {
  HandlerFixture fixture;
  fixture.store.Script("add_address", FakeStore::Rows({AddressColumns()}));
  AddAddressResponse response;
  REQUIRE(fixture.Call(&callbacks::AddAddress, NewAddress(), response).ok());
  const storage::Params params = fixture.store.LastParams("add_address");
  REQUIRE(params.size() == 13);
  CHECK(params[0] == kUserId);
  CHECK(params[1] == "1");  // SHIPPING
  CHECK(params[3] == "Ann Lee");
  CHECK(params[9] == "US");
  CHECK_FALSE(params[11].has_value());  // no request_id
  CHECK(response.address().id() == kAddressId);
  CHECK(response.address().is_default());

  fixture.store.Script(
      "add_address",
      FakeStore::Error({.sqlstate = "U0412", .message = "a user has at most 20 addresses"}));
  CHECK(fixture.Call(&callbacks::AddAddress, NewAddress(), response).code() ==
        absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("GetAddress checks both ids and answers NOT_FOUND for an address that is not there") {
  HandlerFixture fixture;
  GetAddressRequest request;
  request.set_user_id(kUserId);
  request.set_address_id("nope");
  GetAddressResponse response;
  CHECK(FieldOf(fixture.Call(&callbacks::GetAddress, request, response)) == "address_id");
  request.set_address_id(kAddressId);
  fixture.store.Script("get_address", FakeStore::Rows({}, storage::AddressRow::kColumns));
  const absl::Status missing = fixture.Call(&callbacks::GetAddress, request, response);
  CHECK(missing.code() == absl::StatusCode::kNotFound);
  CHECK(missing.message() == "address not found");
  fixture.store.Script("get_address", FakeStore::Rows({AddressColumns()}));
  REQUIRE(fixture.Call(&callbacks::GetAddress, request, response).ok());
  CHECK(response.address().city() == "Springfield");
}

TEST_CASE("ListAddresses tells a user without addresses from one that does not exist") {
  HandlerFixture fixture;
  ListAddressesRequest request;
  request.set_user_id(kUserId);
  ListAddressesResponse response;
  request.set_type(static_cast<AddressType>(9));
  CHECK(FieldOf(fixture.Call(&callbacks::ListAddresses, request, response)) == "type");
  request.set_type(ADDRESS_TYPE_BILLING);

  fixture.store.Script("list_addresses", FakeStore::Rows({}, storage::AddressRow::kColumns));
  CHECK(fixture.Call(&callbacks::ListAddresses, request, response).code() ==
        absl::StatusCode::kNotFound);
  CHECK(fixture.store.LastParams("list_addresses")[1] == "2");

  fixture.store.Script("list_addresses",
                       FakeStore::Rows({Nulls(storage::AddressRow::kColumns)}));  // the LEFT JOIN
  REQUIRE(fixture.Call(&callbacks::ListAddresses, request, response).ok());
  CHECK(response.addresses_size() == 0);

  fixture.store.Script("list_addresses",
                       FakeStore::Rows({AddressColumns(), AddressColumns(kRequestId)}));
  ListAddressesResponse two;
  REQUIRE(fixture.Call(&callbacks::ListAddresses, request, two).ok());
  REQUIRE(two.addresses_size() == 2);
  CHECK(two.addresses(1).id() == kRequestId);
}

TEST_CASE("UpdateAddress sends the masked fields as one change and refuses an unspecified type") {
  HandlerFixture fixture;
  UpdateAddressRequest request;
  request.set_user_id(kUserId);
  request.set_address_id(kAddressId);
  request.mutable_update_mask()->add_paths("type");
  UpdateAddressResponse response;
  const absl::Status unspecified = fixture.Call(&callbacks::UpdateAddress, request, response);
  CHECK(FieldOf(unspecified) == "address.type");
  CHECK(fixture.SentStatements().empty());

  request.mutable_update_mask()->add_paths("city");
  request.mutable_address()->set_type(ADDRESS_TYPE_BILLING);
  request.mutable_address()->set_city("Paris");
  request.mutable_address()->set_line1("");  // outside the mask: not checked
  fixture.store.Script("update_address", FakeStore::Rows({AddressColumns()}));
  REQUIRE(fixture.Call(&callbacks::UpdateAddress, request, response).ok());
  CHECK(fixture.store.LastParams("update_address") ==
        storage::Params{kUserId, kAddressId, R"({"city":"Paris","type":2})"});

  request.mutable_update_mask()->add_paths("is_default");
  CHECK(FieldOf(fixture.Call(&callbacks::UpdateAddress, request, response)) == "update_mask");
  request.mutable_update_mask()->clear_paths();
  request.mutable_update_mask()->add_paths("line1");
  CHECK(FieldOf(fixture.Call(&callbacks::UpdateAddress, request, response)) == "address.line1");
}

TEST_CASE("DeleteAddress and SetDefaultAddress pass the database's answer on") {
  HandlerFixture fixture;
  DeleteAddressRequest removal;
  removal.set_user_id(kUserId);
  removal.set_address_id(kAddressId);
  DeleteAddressResponse removed;
  fixture.store.Script("delete_address",
                       FakeStore::Error({.sqlstate = "U0404", .message = "address not found"}));
  CHECK(fixture.Call(&callbacks::DeleteAddress, removal, removed).code() ==
        absl::StatusCode::kNotFound);
  fixture.store.Script("delete_address", FakeStore::Rows({AddressColumns()}));
  CHECK(fixture.Call(&callbacks::DeleteAddress, removal, removed).ok());

  SetDefaultAddressRequest choice;
  choice.set_user_id(kUserId);
  choice.set_address_id(kAddressId);
  SetDefaultAddressResponse chosen;
  fixture.store.Script("set_default_address", FakeStore::Rows({AddressColumns()}));
  REQUIRE(fixture.Call(&callbacks::SetDefaultAddress, choice, chosen).ok());
  CHECK(chosen.address().id() == kAddressId);
  choice.set_user_id("");
  CHECK(FieldOf(fixture.Call(&callbacks::SetDefaultAddress, choice, chosen)) == "user_id");
}

}  // namespace
}  // namespace usersvc::test
