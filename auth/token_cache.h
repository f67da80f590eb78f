#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include <absl/container/flat_hash_map.h>
#include <absl/time/time.h>

#include "auth/jwt.h"

namespace usersvc::auth {

/// Tokens already verified, so that a caller reusing its token (a service token lives for
/// minutes) pays one signature check, not one per call: on this machine an ES256 check made a
/// GetUser four times as expensive (README, Performance). Keyed by the token's exact bytes, so a
/// token that differs in one byte is a miss and is verified in full; only verified tokens go
/// in. An entry counts only under the key-set generation it was verified with (a rotation that
/// drops a key drops what it signed) and only until its expiry, with the same leeway as
/// VerifyJwt. Bounded: a shard that fills up drops its expired entries, then everything.
class TokenCache {
 public:
  explicit TokenCache(absl::Duration leeway, size_t capacity = 16384);

  std::optional<VerifiedToken> Find(std::string_view token, uint64_t key_generation,
                                    absl::Time now);
  void Insert(std::string_view token, uint64_t key_generation, const VerifiedToken& verified);

 private:
  struct Entry {
    VerifiedToken verified;
    uint64_t key_generation;
  };
  // std::mutex rather than absl::Mutex, for ThreadSanitizer (README, Sanitizers).
  struct Shard {
    std::mutex mutex;
    absl::flat_hash_map<std::string, Entry> entries;  // guarded by mutex
  };
  static constexpr size_t kShards = 16;

  Shard& ShardOf(std::string_view token);

  const absl::Duration leeway_;
  const size_t capacity_per_shard_;
  std::array<Shard, kShards> shards_;
};

}  // namespace usersvc::auth
