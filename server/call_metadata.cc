#include "server/call_metadata.h"

#include <absl/random/random.h>
#include <absl/strings/ascii.h>
#include <absl/strings/str_format.h>

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
  // A version 4 UUID, as Envoy generates them.
  static thread_local absl::BitGen random;
  const uint64_t high = absl::Uniform<uint64_t>(random);
  const uint64_t low = absl::Uniform<uint64_t>(random);
  return absl::StrFormat("%08x-%04x-4%03x-%04x-%012x", high >> 32, (high >> 16) & 0xffff,
                         high & 0x0fff, ((low >> 48) & 0x3fff) | 0x8000, low & 0xffffffffffff);
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
