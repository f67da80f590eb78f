#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "storage/params.h"
#include "storage/query.h"
#include "storage/rows.h"

/// The statements on users. Each parameter struct lists its fields in `$n` order.
namespace usersvc::storage::queries {

/// Inserts the user and its user.created event in one statement. No row: the request_id was
/// used already (ON CONFLICT DO NOTHING).
struct InsertUserParams {
  std::string_view email;  // normalised
  std::string_view username;
  std::string_view password_hash;
  std::string_view first_name;
  std::string_view last_name;
  std::string_view phone_number;
  int32_t role = 0;
  std::optional<std::string_view> request_id;
  std::optional<ByteaText> fingerprint;

  auto Fields() const {
    return std::tie(email, username, password_hash, first_name, last_name, phone_number, role,
                    request_id, fingerprint);
  }
};
extern const Query<InsertUserParams, UserRow> kInsertUser;

/// The user a request_id created, with the fingerprint and password hash of that call.
struct RequestIdParams {
  std::string_view request_id;
  auto Fields() const { return std::tie(request_id); }
};
extern const Query<RequestIdParams, CreatedUserRow> kSelectUserByRequestId;

/// The users among `keys`, in no particular order (callbacks/domain/user_lookups.h batches them).
struct UserKeysParams {
  TextArray keys;
  auto Fields() const { return std::tie(keys); }
};
extern const Query<UserKeysParams, UserRow> kSelectUsersByIds;
extern const Query<UserKeysParams, UserRow> kSelectUsersByEmails;

/// The changes that a repeat would apply twice or answer differently take a RequestKey last
/// (storage/params.h): a repeat of a key answers what its first call did without applying
/// anything (migration 0006).
///
/// UpdateUser: `changes` is a JSON object of the columns to set (kUserFields in
/// callbacks/handlers/users.cc builds it from the update mask); the user after the change. U0409
/// when `expected_version` (0: any) is not the stored one.
struct UpdateUserParams {
  std::string_view id;
  std::string_view changes;  // jsonb
  int64_t expected_version = 0;
  RequestKey key;

  auto Fields() const { return std::tie(id, changes, expected_version, key); }
};
extern const Query<UpdateUserParams, UserRow> kUpdateUser;

/// Deletes the user (addresses, preferences and tokens cascade) and writes user.deleted; U0404
/// when there was no such user.
struct DeleteUserParams {
  std::string_view id;
  RequestKey key;
  auto Fields() const { return std::tie(id, key); }
};
extern const Query<DeleteUserParams, DoneRow> kDeleteUser;

/// DeactivateUser (active false) and ReactivateUser (true); the user after the change.
struct SetUserActiveParams {
  std::string_view id;
  bool active = false;
  std::string_view reason;
  auto Fields() const { return std::tie(id, active, reason); }
};
extern const Query<SetUserActiveParams, UserRow> kSetUserActive;

}  // namespace usersvc::storage::queries
