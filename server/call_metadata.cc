#include "server/call_metadata.h"

#include <absl/random/random.h>
#include <absl/strings/ascii.h>

namespace usersvc::server {
namespace {

std::string_view Find(const ClientMetadata& metadata, std::string_view key) {
  auto it = metadata.find(grpc::string_ref(key.data(), key.size()));
  if (it == metadata.end()) return {};
  return std::string_view(it->second.data(), it->second.size());
}

bool IsLowerHex(std::string_view text) {
  for (char c : text) {
    if (!absl::ascii_isdigit(c) && (c < 'a' || c > 'f')) return false;
  }
  return true;
}

}  // namespace

std::string RequestIdOf(const ClientMetadata& metadata) {
  const std::string_view given = Find(metadata, "x-request-id");
  // Logged verbatim, so only short tokens of safe characters are kept.
  bool usable = !given.empty() && given.size() <= 128;
  for (char c : given) {
    usable = usable && (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == ':');
  }
  if (usable) return std::string(given);
  // A version 4 UUID, as Envoy generates them: 122 random bits, written out by hand because
  // StrFormat showed up in the profile of every call.
  static thread_local absl::BitGen random;
  uint64_t bits[2] = {absl::Uniform<uint64_t>(random), absl::Uniform<uint64_t>(random)};
  bits[0] = (bits[0] & ~uint64_t{0xf000}) | 0x4000;                      // version 4
  bits[1] = (bits[1] & ~(uint64_t{0xc} << 60)) | (uint64_t{0x8} << 60);  // variant 10
  static constexpr char kHex[] = "0123456789abcdef";
  std::string uuid(36, '-');
  int digit = 0;
  for (size_t i = 0; i < uuid.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) continue;
    const uint64_t word = bits[digit / 16];
    uuid[i] = kHex[(word >> (60 - 4 * (digit % 16))) & 0xf];
    ++digit;
  }
  return uuid;
}

std::string TraceIdOf(const ClientMetadata& metadata) {
  const std::string_view header = Find(metadata, "traceparent");
  if (header.size() < 55 || header[2] != '-' || header[35] != '-' || header[52] != '-') return "";
  const std::string_view version = header.substr(0, 2);
  const std::string_view trace_id = header.substr(3, 32);
  if (!IsLowerHex(version) || version == "ff" || !IsLowerHex(trace_id) ||
      trace_id == std::string(32, '0') || !IsLowerHex(header.substr(36, 16))) {
    return "";
  }
  return std::string(trace_id);
}

}  // namespace usersvc::server
