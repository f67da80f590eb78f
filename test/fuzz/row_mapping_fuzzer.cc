// Row mapping: any text PostgreSQL could return in any column maps to a message without a crash,
// and the timestamps it builds are valid google.protobuf.Timestamps.
#include <fuzzer/FuzzedDataProvider.h>
#include <libpq-fe.h>

#include <cstdint>
#include <string>

#include "callbacks/domain/rows.h"
#include "storage/result.h"
#include "test/fuzz/expect.h"

namespace {

void ExpectValid(const google::protobuf::Timestamp& timestamp) {
  FUZZ_EXPECT(timestamp.nanos() >= 0 && timestamp.nanos() <= 999'999'999);
}

constexpr int kColumns = 16;  // more than any row the queries return

/// One row of `kColumns` text columns, each NULL or a string from `input`, as libpq would
/// hand it over.
usersvc::storage::Result RowFrom(FuzzedDataProvider& input) {
  PGresult* raw = PQmakeEmptyPGresult(nullptr, PGRES_TUPLES_OK);
  PGresAttDesc columns[kColumns] = {};
  std::string names[kColumns];
  for (int i = 0; i < kColumns; ++i) {
    names[i] = "c" + std::to_string(i);
    columns[i].name = names[i].data();
    columns[i].typid = 25;  // text
    columns[i].typlen = -1;
    columns[i].atttypmod = -1;
  }
  FUZZ_EXPECT(PQsetResultAttrs(raw, kColumns, columns) == 1);
  for (int i = 0; i < kColumns; ++i) {
    if (input.ConsumeBool()) {
      std::string value = input.ConsumeRandomLengthString(64);
      // PostgreSQL sends UTF-8 text (the database encoding); printable ASCII stands for it.
      for (char& c : value) c = static_cast<char>(' ' + static_cast<unsigned char>(c) % 95);
      FUZZ_EXPECT(PQsetvalue(raw, 0, i, value.data(), static_cast<int>(value.size())) == 1);
    } else {
      FUZZ_EXPECT(PQsetvalue(raw, 0, i, nullptr, -1) == 1);  // NULL
    }
  }
  return usersvc::storage::Result::Rows(usersvc::storage::PgResultPtr(raw));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider input(data, size);
  const usersvc::storage::Result rows = RowFrom(input);

  // Each row type reads the same columns afresh.
  auto read = [&rows]<typename Row>() {
    usersvc::storage::RowReader columns(rows, 0);
    return Row::Read(columns);
  };
  user::v1::User user;
  usersvc::callbacks::UserFromRow(read.operator()<usersvc::storage::UserRow>(), &user);
  ExpectValid(user.created_at());
  ExpectValid(user.updated_at());
  ExpectValid(user.deactivated_at());
  FUZZ_EXPECT(user::v1::UserRole_IsValid(user.role()));

  user::v1::Address address;
  usersvc::callbacks::AddressFromRow(read.operator()<usersvc::storage::AddressRow>(), &address);
  ExpectValid(address.created_at());
  FUZZ_EXPECT(user::v1::AddressType_IsValid(address.type()));

  user::v1::UserPreferences preferences;
  usersvc::callbacks::PreferencesFromRow(read.operator()<usersvc::storage::PreferencesRow>(),
                                         &preferences);
  ExpectValid(preferences.updated_at());
  FUZZ_EXPECT(user::v1::Theme_IsValid(preferences.theme()));

  std::string wire;
  FUZZ_EXPECT(user.SerializeToString(&wire) && address.SerializeToString(&wire) &&
              preferences.SerializeToString(&wire));
  return 0;
}
