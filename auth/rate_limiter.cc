#include "auth/rate_limiter.h"

#include <algorithm>

#include <absl/hash/hash.h>
#include <absl/strings/numbers.h>
#include <absl/strings/str_split.h>

namespace usersvc::auth {

absl::StatusOr<RateLimit> ParseRateLimit(std::string_view text) {
  std::vector<std::string> parts = absl::StrSplit(absl::string_view(text.data(), text.size()), ':');
  RateLimit limit;
  if (parts.size() > 2 || !absl::SimpleAtod(parts[0], &limit.per_second) ||
      !(limit.per_second >= 0) ||
      (parts.size() == 2 && (!absl::SimpleAtod(parts[1], &limit.burst) || !(limit.burst >= 1)))) {
    return absl::InvalidArgumentError(
        "--rate_limit: requests per second per caller, optionally \":\" and a burst of at least "
        "1, e.g. 200:400 (0: off)");
  }
  if (parts.size() == 1) limit.burst = std::max(1.0, limit.per_second);
  return limit;
}

RateLimiter::RateLimiter(RateLimit limit) : limit_(limit) {}

double RateLimiter::Refill(Bucket& bucket, absl::Time now) const {
  const double elapsed = std::max(0.0, absl::ToDoubleSeconds(now - bucket.refilled));
  bucket.tokens = std::min(limit_.burst, bucket.tokens + elapsed * limit_.per_second);
  bucket.refilled = now;
  return bucket.tokens;
}

void RateLimiter::Sweep(Shard& shard, absl::Time now) {
  absl::erase_if(shard.buckets,
                 [&](auto& entry) { return Refill(entry.second, now) >= limit_.burst; });
  // Still full of callers all in the middle of a burst: forgetting them errs towards admitting.
  if (shard.buckets.size() > kMaxCallersPerShard / 2) shard.buckets.clear();
}

std::optional<absl::Duration> RateLimiter::Take(std::string_view caller, absl::Time now) {
  if (limit_.per_second <= 0) return std::nullopt;
  const absl::string_view key(caller.data(), caller.size());
  Shard& shard = shards_[absl::HashOf(key) % kShards];
  std::lock_guard lock(shard.mutex);
  auto it = shard.buckets.find(key);
  if (it == shard.buckets.end()) {
    if (shard.buckets.size() >= kMaxCallersPerShard) Sweep(shard, now);
    it = shard.buckets.emplace(std::string(caller), Bucket{limit_.burst, now}).first;
  }
  Bucket& bucket = it->second;
  if (Refill(bucket, now) >= 1) {
    bucket.tokens -= 1;
    return std::nullopt;
  }
  return absl::Seconds((1 - bucket.tokens) / limit_.per_second);
}

}  // namespace usersvc::auth
