#include "callbacks/domain/retry_info.h"

#include <cstdint>

#include <absl/strings/cord.h>

#include "google/rpc/error_details.pb.h"

namespace usersvc::callbacks {

absl::Status WithRetryDelay(absl::Status status, absl::Duration delay) {
  google::rpc::RetryInfo retry;
  const int64_t nanos = absl::ToInt64Nanoseconds(delay);
  retry.mutable_retry_delay()->set_seconds(nanos / 1'000'000'000);
  retry.mutable_retry_delay()->set_nanos(static_cast<int32_t>(nanos % 1'000'000'000));
  status.SetPayload("type.googleapis.com/google.rpc.RetryInfo",
                    absl::Cord(retry.SerializeAsString()));
  return status;
}

}  // namespace usersvc::callbacks
