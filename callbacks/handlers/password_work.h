#pragma once

#include <memory>
#include <utility>

#include "callbacks/handlers/exchange.h"
#include "callbacks/handlers/replies.h"
#include "callbacks/handlers/services.h"

/// What the handlers that hash or check passwords share: argon2id runs on the CPU pool, whose
/// queue is bounded, and is skipped for a caller who no longer waits.
namespace usersvc::callbacks {

inline absl::Status HashingQueueFull() {
  return absl::ResourceExhaustedError("server overloaded: password hashing queue full");
}

inline absl::Status DeadlineExceeded() {
  return absl::DeadlineExceededError("deadline exceeded before the password could be hashed");
}

inline absl::Status HashingOutOfMemory() {
  return absl::ResourceExhaustedError("server overloaded: no memory for password hashing");
}

/// Runs `work` on the CPU pool, or ends the call RESOURCE_EXHAUSTED when the pool is full.
/// `finish` is shared with `work`, which owns ending the call once it runs.
template <typename Work>
void OnCpuPool(Services& services, std::shared_ptr<Finish> finish, Work work) {
  if (!services.cpu.Submit(std::move(work), [finish] { std::move (*finish)(ShuttingDown()); })) {
    std::move (*finish)(HashingQueueFull());
  }
}

}  // namespace usersvc::callbacks
