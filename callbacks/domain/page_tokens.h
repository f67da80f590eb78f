#pragma once

#include <string>
#include <string_view>

#include <absl/status/statusor.h>

#include "common/v1/common.pb.h"
#include "usersvc/internal/v1/page_cursor.pb.h"

namespace usersvc::callbacks {

/// Page tokens: a PageCursor signed with HMAC-SHA256, URL-safe base64. Opaque to clients and
/// tamper-proof; each is bound to the arguments of the call that produced it.
class PageTokens {
 public:
  /// `secret` may be any string (it is hashed into the key). Empty: a random key, so tokens do
  /// not survive a restart and do not work across replicas.
  explicit PageTokens(std::string_view secret);

  std::string Issue(const internal::v1::PageCursor& cursor) const;
  /// The cursor in `token`, if this server signed it for a call with `arguments_digest`;
  /// INVALID_ARGUMENT on "pagination.page_token" otherwise.
  absl::StatusOr<internal::v1::PageCursor> Open(std::string_view token,
                                                std::string_view arguments_digest) const;

 private:
  unsigned char key_[32];
};

/// The largest page the contract allows.
inline constexpr int kMaxPageSize = 100;

/// The page size a request asks for: 0 is 20, more than 100 is 100, negative is INVALID_ARGUMENT.
absl::StatusOr<int> PageSize(const common::v1::PaginationRequest& pagination);

}  // namespace usersvc::callbacks
