// The six address RPCs and their invariants.
#include <set>

#include <catch2/catch.hpp>

#include "test/support/fixtures.h"

namespace usersvc::test {
namespace {

using user::v1::Address;

Address NewAddress(user::v1::AddressType type, const std::string& label) {
  Address address;
  address.set_type(type);
  address.set_label(label);
  address.set_recipient_name("Ada Lovelace");
  address.set_line1("12 St James's Square");
  address.set_city("London");
  address.set_postal_code("SW1Y 4JH");
  address.set_country_code("GB");
  address.set_phone_number("+442071234567");
  return address;
}

grpc::Status Add(Stub& stub, const std::string& user_id, const Address& address, Address* out) {
  user::v1::AddAddressRequest request;
  request.set_user_id(user_id);
  *request.mutable_address() = address;
  user::v1::AddAddressResponse response;
  grpc::Status status = Call(stub, &Stub::AddAddress, request, &response);
  if (out != nullptr) *out = response.address();
  return status;
}

Address MustAdd(Stub& stub, const std::string& user_id, const Address& address) {
  Address added;
  grpc::Status status = Add(stub, user_id, address, &added);
  INFO(status.error_message());
  REQUIRE(status.ok());
  return added;
}

std::vector<Address> List(Stub& stub, const std::string& user_id,
                          user::v1::AddressType type = user::v1::ADDRESS_TYPE_UNSPECIFIED) {
  user::v1::ListAddressesRequest request;
  request.set_user_id(user_id);
  request.set_type(type);
  user::v1::ListAddressesResponse response;
  REQUIRE(Call(stub, &Stub::ListAddresses, request, &response).ok());
  return {response.addresses().begin(), response.addresses().end()};
}

std::vector<std::string> Labels(const std::vector<Address>& addresses) {
  std::vector<std::string> labels;
  for (const auto& a : addresses) labels.push_back(a.label() + (a.is_default() ? "*" : ""));
  return labels;
}

TEST_CASE(
    "The first address of each type is its default, and the list puts defaults first, then "
    "newest") {
  ServerProcess server;
  auto stub = server.stub();
  TestUser who = CreateTestUser(*stub);
  const std::string& id = who.user.id();
  Address home = MustAdd(*stub, id, NewAddress(user::v1::ADDRESS_TYPE_UNSPECIFIED, "home"));
  CHECK(home.type() == user::v1::ADDRESS_TYPE_SHIPPING);  // UNSPECIFIED adds as SHIPPING
  CHECK(home.is_default());
  CHECK(home.user_id() == id);
  CHECK(home.country_code() == "GB");
  CHECK(home.created_at().seconds() > 0);
  MustAdd(*stub, id, NewAddress(user::v1::ADDRESS_TYPE_SHIPPING, "office"));
  MustAdd(*stub, id, NewAddress(user::v1::ADDRESS_TYPE_BILLING, "bank"));
  MustAdd(*stub, id, NewAddress(user::v1::ADDRESS_TYPE_SHIPPING, "cabin"));

  CHECK(Labels(List(*stub, id)) == std::vector<std::string>{"bank*", "home*", "cabin", "office"});
  CHECK(Labels(List(*stub, id, user::v1::ADDRESS_TYPE_SHIPPING)) ==
        std::vector<std::string>{"home*", "cabin", "office"});
  BlockingDb db;
  CHECK(EventPayloads(db, id, "user.address_added").size() == 4);

  user::v1::GetAddressRequest get;
  get.set_user_id(id);
  get.set_address_id(home.id());
  user::v1::GetAddressResponse got;
  REQUIRE(Call(*stub, &Stub::GetAddress, get, &got).ok());
  CHECK(got.address().SerializeAsString() == home.SerializeAsString());
}

TEST_CASE("Another user's address is NOT_FOUND for every address call") {
  ServerProcess server;
  auto stub = server.stub();
  TestUser owner = CreateTestUser(*stub);
  TestUser other = CreateTestUser(*stub);
  Address address =
      MustAdd(*stub, owner.user.id(), NewAddress(user::v1::ADDRESS_TYPE_SHIPPING, "a"));

  user::v1::GetAddressRequest get;
  get.set_user_id(other.user.id());
  get.set_address_id(address.id());
  user::v1::GetAddressResponse got;
  CHECK(Call(*stub, &Stub::GetAddress, get, &got).error_code() == grpc::StatusCode::NOT_FOUND);

  user::v1::UpdateAddressRequest update;
  update.set_user_id(other.user.id());
  update.set_address_id(address.id());
  update.mutable_address()->set_city("Paris");
  user::v1::UpdateAddressResponse updated;
  CHECK(Call(*stub, &Stub::UpdateAddress, update, &updated).error_code() ==
        grpc::StatusCode::NOT_FOUND);

  user::v1::SetDefaultAddressRequest set_default;
  set_default.set_user_id(other.user.id());
  set_default.set_address_id(address.id());
  user::v1::SetDefaultAddressResponse defaulted;
  CHECK(Call(*stub, &Stub::SetDefaultAddress, set_default, &defaulted).error_code() ==
        grpc::StatusCode::NOT_FOUND);

  user::v1::DeleteAddressRequest remove;
  remove.set_user_id(other.user.id());
  remove.set_address_id(address.id());
  user::v1::DeleteAddressResponse removed;
  CHECK(Call(*stub, &Stub::DeleteAddress, remove, &removed).error_code() ==
        grpc::StatusCode::NOT_FOUND);
  CHECK(List(*stub, owner.user.id()).size() == 1);
}

TEST_CASE("Addresses of an unknown user are NOT_FOUND, malformed IDs are INVALID_ARGUMENT") {
  ServerProcess server;
  auto stub = server.stub();
  const std::string nobody = "00000000-0000-4000-8000-000000000000";
  CHECK(
      Add(*stub, nobody, NewAddress(user::v1::ADDRESS_TYPE_SHIPPING, "x"), nullptr).error_code() ==
      grpc::StatusCode::NOT_FOUND);
  user::v1::ListAddressesRequest list;
  list.set_user_id(nobody);
  user::v1::ListAddressesResponse listed;
  CHECK(Call(*stub, &Stub::ListAddresses, list, &listed).error_code() ==
        grpc::StatusCode::NOT_FOUND);
  user::v1::GetAddressRequest get;
  get.set_user_id(nobody);
  get.set_address_id("nope");
  user::v1::GetAddressResponse got;
  grpc::Status status = Call(*stub, &Stub::GetAddress, get, &got);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(status.error_message().rfind("address_id: ", 0) == 0);
}

TEST_CASE("AddAddress validates every field with its path") {
  ServerProcess server;
  auto stub = server.stub();
  TestUser who = CreateTestUser(*stub);
  struct Case {
    const char* path;
    void (*spoil)(Address&);
  };
  const Case cases[] = {
      {"address.country_code", [](Address& a) { a.set_country_code("XX"); }},
      {"address.country_code", [](Address& a) { a.set_country_code("gb"); }},
      {"address.country_code", [](Address& a) { a.set_country_code(""); }},
      {"address.recipient_name", [](Address& a) { a.set_recipient_name(""); }},
      {"address.line1", [](Address& a) { a.set_line1(std::string(201, 'l')); }},
      {"address.city", [](Address& a) { a.set_city(""); }},
      {"address.label", [](Address& a) { a.set_label(std::string(51, 'l')); }},
      {"address.postal_code", [](Address& a) { a.set_postal_code(std::string(21, '1')); }},
      {"address.phone_number", [](Address& a) { a.set_phone_number("0207 123"); }},
      {"address.type", [](Address& a) { a.set_type(static_cast<user::v1::AddressType>(7)); }},
  };
  for (const Case& c : cases) {
    Address address = NewAddress(user::v1::ADDRESS_TYPE_SHIPPING, "x");
    c.spoil(address);
    grpc::Status status = Add(*stub, who.user.id(), address, nullptr);
    INFO(c.path << " " << status.error_message());
    CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(status.error_message().rfind(std::string(c.path) + ": ", 0) == 0);
  }
  CHECK(List(*stub, who.user.id()).empty());
}

TEST_CASE("A user has at most 20 addresses") {
  ServerProcess server;
  auto stub = server.stub();
  TestUser who = CreateTestUser(*stub);
  for (int i = 0; i < 20; ++i) {
    MustAdd(*stub, who.user.id(), NewAddress(user::v1::ADDRESS_TYPE_SHIPPING, std::to_string(i)));
  }
  grpc::Status status =
      Add(*stub, who.user.id(), NewAddress(user::v1::ADDRESS_TYPE_BILLING, "21st"), nullptr);
  CHECK(status.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(List(*stub, who.user.id()).size() == 20);
}

TEST_CASE("Deleting a default makes the newest remaining address of its type the default") {
  ServerProcess server;
  auto stub = server.stub();
  TestUser who = CreateTestUser(*stub);
  const std::string& id = who.user.id();
  Address first = MustAdd(*stub, id, NewAddress(user::v1::ADDRESS_TYPE_SHIPPING, "first"));
  MustAdd(*stub, id, NewAddress(user::v1::ADDRESS_TYPE_SHIPPING, "second"));
  MustAdd(*stub, id, NewAddress(user::v1::ADDRESS_TYPE_SHIPPING, "third"));
  MustAdd(*stub, id, NewAddress(user::v1::ADDRESS_TYPE_BILLING, "billing"));

  user::v1::DeleteAddressRequest remove;
  remove.set_user_id(id);
  remove.set_address_id(first.id());
  user::v1::DeleteAddressResponse removed;
  REQUIRE(Call(*stub, &Stub::DeleteAddress, remove, &removed).ok());
  CHECK(Labels(List(*stub, id)) == std::vector<std::string>{"billing*", "third*", "second"});
  CHECK(Call(*stub, &Stub::DeleteAddress, remove, &removed).error_code() ==
        grpc::StatusCode::NOT_FOUND);
  BlockingDb db;
  CHECK(EventPayloads(db, id, "user.address_deleted") ==
        std::vector<std::string>{R"({"address_id": ")" + first.id() + R"("})"});
}

TEST_CASE("SetDefaultAddress moves the default atomically and is idempotent") {
  ServerProcess server;
  auto stub = server.stub();
  TestUser who = CreateTestUser(*stub);
  const std::string& id = who.user.id();
  MustAdd(*stub, id, NewAddress(user::v1::ADDRESS_TYPE_SHIPPING, "old"));
  Address next = MustAdd(*stub, id, NewAddress(user::v1::ADDRESS_TYPE_SHIPPING, "new"));
  user::v1::SetDefaultAddressRequest request;
  request.set_user_id(id);
  request.set_address_id(next.id());
  user::v1::SetDefaultAddressResponse response;
  REQUIRE(Call(*stub, &Stub::SetDefaultAddress, request, &response).ok());
  CHECK(response.address().is_default());
  REQUIRE(Call(*stub, &Stub::SetDefaultAddress, request, &response).ok());
  CHECK(Labels(List(*stub, id)) == std::vector<std::string>{"new*", "old"});
  BlockingDb db;
  CHECK(EventPayloads(db, id, "user.default_address_changed") ==
        std::vector<std::string>{R"({"type": "SHIPPING", "address_id": ")" + next.id() + R"("})"});
}

TEST_CASE("Concurrent SetDefaultAddress and AddAddress always leave exactly one default per type") {
  ServerProcess server;
  auto stub = server.stub();
  TestUser who = CreateTestUser(*stub);
  const std::string& id = who.user.id();
  std::vector<Address> addresses;
  for (int i = 0; i < 6; ++i) {
    addresses.push_back(
        MustAdd(*stub, id, NewAddress(user::v1::ADDRESS_TYPE_SHIPPING, std::to_string(i))));
  }
  struct Pending {
    grpc::ClientContext context;
    user::v1::SetDefaultAddressResponse set_response;
    user::v1::AddAddressResponse add_response;
    grpc::Status status;
    std::unique_ptr<grpc::ClientAsyncResponseReader<user::v1::SetDefaultAddressResponse>> set;
    std::unique_ptr<grpc::ClientAsyncResponseReader<user::v1::AddAddressResponse>> add;
  };
  grpc::CompletionQueue cq;
  std::vector<std::unique_ptr<Pending>> calls;
  for (int round = 0; round < 5; ++round) {
    for (const Address& address : addresses) {
      auto call = std::make_unique<Pending>();
      call->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
      user::v1::SetDefaultAddressRequest request;
      request.set_user_id(id);
      request.set_address_id(address.id());
      call->set = stub->AsyncSetDefaultAddress(&call->context, request, &cq);
      call->set->Finish(&call->set_response, &call->status, call.get());
      calls.push_back(std::move(call));
    }
    auto call = std::make_unique<Pending>();
    call->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    user::v1::AddAddressRequest request;
    request.set_user_id(id);
    *request.mutable_address() = NewAddress(user::v1::ADDRESS_TYPE_BILLING, "b");
    call->add = stub->AsyncAddAddress(&call->context, request, &cq);
    call->add->Finish(&call->add_response, &call->status, call.get());
    calls.push_back(std::move(call));
  }
  for (size_t i = 0; i < calls.size(); ++i) {
    void* tag = nullptr;
    bool ok = false;
    REQUIRE(cq.Next(&tag, &ok));
    CHECK(static_cast<Pending*>(tag)->status.ok());
  }
  BlockingDb db;
  CHECK(db.Scalar("SELECT count(*) FROM addresses WHERE user_id = $1::uuid AND type = 1"
                  " AND is_default",
                  {id}) == "1");
  CHECK(db.Scalar("SELECT count(*) FROM addresses WHERE user_id = $1::uuid AND type = 2"
                  " AND is_default",
                  {id}) == "1");
}

TEST_CASE("UpdateAddress changes the masked fields, and a change of type moves the default") {
  ServerProcess server;
  auto stub = server.stub();
  TestUser who = CreateTestUser(*stub);
  const std::string& id = who.user.id();
  Address shipping = MustAdd(*stub, id, NewAddress(user::v1::ADDRESS_TYPE_SHIPPING, "ship"));
  MustAdd(*stub, id, NewAddress(user::v1::ADDRESS_TYPE_SHIPPING, "other"));

  user::v1::UpdateAddressRequest request;
  request.set_user_id(id);
  request.set_address_id(shipping.id());
  request.mutable_address()->set_type(user::v1::ADDRESS_TYPE_BILLING);
  request.mutable_address()->set_city("Paris");
  request.mutable_address()->set_country_code("FR");
  request.mutable_address()->set_line1("ignored");
  request.mutable_update_mask()->add_paths("type");
  request.mutable_update_mask()->add_paths("city");
  request.mutable_update_mask()->add_paths("country_code");
  user::v1::UpdateAddressResponse response;
  REQUIRE(Call(*stub, &Stub::UpdateAddress, request, &response).ok());
  CHECK(response.address().type() == user::v1::ADDRESS_TYPE_BILLING);
  CHECK(response.address().city() == "Paris");
  CHECK(response.address().line1() == shipping.line1());
  CHECK(response.address().is_default());  // the first billing address
  CHECK(Labels(List(*stub, id, user::v1::ADDRESS_TYPE_SHIPPING)) ==
        std::vector<std::string>{"other*"});
  BlockingDb db;
  CHECK(
      EventPayloads(db, id, "user.address_updated") ==
      std::vector<std::string>{R"({"changed": ["type", "city", "country_code"], "address_id": ")" +
                               shipping.id() + R"("})"});

  request.mutable_update_mask()->add_paths("is_default");
  grpc::Status status = Call(*stub, &Stub::UpdateAddress, request, &response);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(status.error_message().rfind("update_mask: ", 0) == 0);
  request.clear_update_mask();
  request.mutable_update_mask()->add_paths("city");
  request.mutable_address()->set_city("");
  status = Call(*stub, &Stub::UpdateAddress, request, &response);
  CHECK(status.error_message().rfind("address.city: ", 0) == 0);
}

}  // namespace
}  // namespace usersvc::test
