#include "auth/token_cache.h"

#include <absl/hash/hash.h>

namespace usersvc::auth {

TokenCache::TokenCache(absl::Duration leeway, size_t capacity)
    : leeway_(leeway), capacity_per_shard_(std::max<size_t>(1, capacity / kShards)) {}

TokenCache::Shard& TokenCache::ShardOf(std::string_view token) {
  return shards_[absl::HashOf(absl::string_view(token.data(), token.size())) % kShards];
}

std::optional<VerifiedToken> TokenCache::Find(std::string_view token, uint64_t key_generation,
                                              absl::Time now) {
  Shard& shard = ShardOf(token);
  std::lock_guard lock(shard.mutex);
  auto it = shard.entries.find(absl::string_view(token.data(), token.size()));
  if (it == shard.entries.end()) return std::nullopt;
  if (it->second.key_generation != key_generation || now > it->second.verified.expires + leeway_) {
    shard.entries.erase(it);
    return std::nullopt;
  }
  return it->second.verified;
}

void TokenCache::Insert(std::string_view token, uint64_t key_generation,
                        const VerifiedToken& verified) {
  Shard& shard = ShardOf(token);
  std::lock_guard lock(shard.mutex);
  if (shard.entries.size() >= capacity_per_shard_) {
    const absl::Time now = absl::Now();
    absl::erase_if(shard.entries, [&](const auto& entry) {
      return entry.second.key_generation != key_generation ||
             now > entry.second.verified.expires + leeway_;
    });
    if (shard.entries.size() >= capacity_per_shard_) shard.entries.clear();
  }
  shard.entries.insert_or_assign(std::string(token), Entry{verified, key_generation});
}

}  // namespace usersvc::auth
