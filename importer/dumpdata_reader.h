#pragma once

#include <cstdint>
#include <istream>
#include <map>
#include <optional>
#include <string>

#include <absl/functional/function_ref.h>
#include <absl/status/status.h>

/// The users in the JSON that Django's `manage.py dumpdata` writes, read one object at a time, so
/// that a dump of millions of users takes the memory of one.
namespace usersvc::importer {

/// Where each of our fields is in the dumped objects' "fields": Django's auth.user names by
/// default; a custom user model may name them otherwise (import-django --field ours=theirs).
struct FieldNames {
  std::map<std::string, std::string> of = {
      {"email", "email"},
      {"username", "username"},
      {"first_name", "first_name"},
      {"last_name", "last_name"},
      {"is_active", "is_active"},
      {"date_joined", "date_joined"},
      {"password", "password"},
      {"role", "role"},
      {"is_email_verified", "is_email_verified"},
      {"phone_number", "phone_number"},
      {"is_staff", "is_staff"},
      {"is_superuser", "is_superuser"},
  };
  /// Takes "ours=theirs"; an error for a field of ours that does not exist.
  absl::Status Rename(std::string_view mapping);
};

/// One dumped user, as written: checking it is the importer's. A field the object lacks (or holds
/// as null) is empty or nullopt.
struct DumpedUser {
  int64_t position = 0;  // 1-based, among the objects of the user model: for the summary
  std::string pk;        // as text: an integer or a UUID
  std::string email;
  std::string username;
  std::string first_name;
  std::string last_name;
  std::string password;  // Django's encoded hash
  std::string phone_number;
  std::string date_joined;  // ISO 8601, as DjangoJSONEncoder writes it
  std::optional<bool> is_active;
  std::optional<bool> is_email_verified;
  std::optional<bool> is_staff;
  std::optional<bool> is_superuser;
  std::optional<std::string> role;  // a number or a name, as text
  /// Why the object cannot be read as a user (a field of the wrong JSON type); empty if it can.
  std::string malformed;
};

/// Calls `each` for every object of `model` ("auth.user") in the dump, in order; objects of other
/// models are passed over. An error only when the input is not a dumpdata array of objects.
absl::Status ReadDumpdata(std::istream& input, const FieldNames& names, std::string_view model,
                          absl::FunctionRef<void(DumpedUser)> each);

}  // namespace usersvc::importer
