#pragma once

#include <array>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include <absl/container/flat_hash_map.h>
#include <absl/status/statusor.h>
#include <absl/time/time.h>

namespace usersvc::auth {

/// Requests per second a caller may make, and how many it may make at once after a pause.
struct RateLimit {
  double per_second = 0;  // 0: no limit
  double burst = 0;
};

/// "RATE" or "RATE:BURST" (burst defaults to one second's worth), e.g. "200:400"; "0" is off.
absl::StatusOr<RateLimit> ParseRateLimit(std::string_view text);

/// A token bucket per caller, so that one caller's flood is refused while the others' calls go
/// through. Buckets live in shards with a lock each; a bucket that has filled up again holds no
/// information and is dropped when its shard grows, so memory follows the callers of the last
/// few seconds, not every caller ever seen.
class RateLimiter {
 public:
  explicit RateLimiter(RateLimit limit);

  /// Takes one request from `caller`'s bucket at `now`: nullopt if it may go ahead, else how long
  /// until it may try again.
  std::optional<absl::Duration> Take(std::string_view caller, absl::Time now);

 private:
  struct Bucket {
    double tokens;
    absl::Time refilled;
  };
  // std::mutex rather than absl::Mutex: Debian's abseil is not built with ThreadSanitizer, which
  // would then not see this lock (README, Sanitizers).
  struct Shard {
    std::mutex mutex;
    absl::flat_hash_map<std::string, Bucket> buckets;  // guarded by mutex
  };
  static constexpr size_t kShards = 16;
  static constexpr size_t kMaxCallersPerShard = 4096;

  /// `bucket`'s tokens at `now`.
  double Refill(Bucket& bucket, absl::Time now) const;
  /// Called with the shard's mutex held.
  void Sweep(Shard& shard, absl::Time now);

  const RateLimit limit_;
  std::array<Shard, kShards> shards_;
};

}  // namespace usersvc::auth
