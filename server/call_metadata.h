#pragma once

#include <map>
#include <string>
#include <string_view>

#include <grpcpp/support/string_ref.h>

namespace usersvc::server {

using ClientMetadata = std::multimap<grpc::string_ref, grpc::string_ref>;

/// The caller's `x-request-id` (as Envoy sets it), or a new random one when it sent none or one
/// that is not a short printable token. The call logs it and returns it in trailing metadata.
std::string RequestIdOf(const ClientMetadata& metadata);

/// The trace id of a W3C `traceparent` header ("00-<32 hex>-<16 hex>-<2 hex>"), or "" when there
/// is none or it is malformed (including the all-zero id the spec forbids).
std::string TraceIdOf(const ClientMetadata& metadata);

}  // namespace usersvc::server
