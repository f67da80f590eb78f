#include "callbacks/domain/page_tokens.h"

#include <sodium.h>

#include "callbacks/domain/validation.h"

namespace usersvc::callbacks {
namespace {

constexpr int kBase64 = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
constexpr size_t kMacBytes = crypto_auth_hmacsha256_BYTES;

absl::Status BadToken() { return FieldError("pagination.page_token", "invalid page token"); }

}  // namespace

PageTokens::PageTokens(std::string_view secret) {
  if (secret.empty()) {
    randombytes_buf(key_, sizeof key_);
  } else {
    crypto_generichash(key_, sizeof key_, reinterpret_cast<const unsigned char*>(secret.data()),
                       secret.size(), nullptr, 0);
  }
}

std::string PageTokens::Issue(const internal::v1::PageCursor& cursor) const {
  std::string signed_cursor = cursor.SerializeAsString();
  unsigned char mac[kMacBytes];
  crypto_auth_hmacsha256(mac, reinterpret_cast<const unsigned char*>(signed_cursor.data()),
                         signed_cursor.size(), key_);
  signed_cursor.append(reinterpret_cast<const char*>(mac), sizeof mac);
  std::string token(sodium_base64_ENCODED_LEN(signed_cursor.size(), kBase64), '\0');
  sodium_bin2base64(token.data(), token.size(),
                    reinterpret_cast<const unsigned char*>(signed_cursor.data()),
                    signed_cursor.size(), kBase64);
  token.resize(token.find('\0'));
  return token;
}

absl::StatusOr<internal::v1::PageCursor> PageTokens::Open(std::string_view token,
                                                          std::string_view arguments_digest) const {
  if (token.size() > 1024) return BadToken();
  std::string bytes(token.size(), '\0');
  size_t length = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(bytes.data()), bytes.size(), token.data(),
                        token.size(), nullptr, &length, &end, kBase64) != 0 ||
      end != token.data() + token.size() || length < kMacBytes) {
    return BadToken();
  }
  const size_t cursor_size = length - kMacBytes;
  if (crypto_auth_hmacsha256_verify(
          reinterpret_cast<const unsigned char*>(bytes.data() + cursor_size),
          reinterpret_cast<const unsigned char*>(bytes.data()), cursor_size, key_) != 0) {
    return BadToken();
  }
  internal::v1::PageCursor cursor;
  if (!cursor.ParseFromArray(bytes.data(), static_cast<int>(cursor_size))) return BadToken();
  if (cursor.arguments_digest() != arguments_digest) {
    return FieldError("pagination.page_token", "was issued for a call with other arguments");
  }
  return cursor;
}

absl::StatusOr<int> PageSize(const common::v1::PaginationRequest& pagination) {
  if (pagination.page_size() < 0) {
    return FieldError("pagination.page_size", "must not be negative");
  }
  if (pagination.page_size() == 0) return 20;
  return std::min(pagination.page_size(), kMaxPageSize);
}

}  // namespace usersvc::callbacks
