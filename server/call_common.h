#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <absl/status/status.h>
#include <absl/time/time.h>
#include <grpcpp/grpcpp.h>

#include "callbacks/handlers/services.h"
#include "server/access_control.h"
#include "server/call_tracker.h"
#include "server/metrics.h"

namespace usersvc::server {

/// What every call object of one server shares.
struct CallEnvironment {
  callbacks::Services* services;
  CallTracker* tracker;
  /// Who may call what; every call asks it before its handler runs.
  AccessControl* access;
  /// Every service this server answers, by full name (for server reflection).
  const std::vector<std::string>* service_names;
};

/// What every call of one registered method shares: the generated AsyncService it is requested
/// from, its names (from the service descriptor) and its metric series.
struct MethodInfo {
  grpc::Service* service;
  std::string service_name;
  std::string method_name;
  const Metrics::Method* metrics;
  /// Health checks are answered during a drain (with NOT_SERVING), so balancers hear of it;
  /// every other call is then refused with UNAVAILABLE.
  bool answers_while_draining = false;
  MethodAccess access;
  /// The answer waits until this long after the call began, whatever the handler did: for an RPC
  /// whose timing must not tell its cases apart (RequestPasswordReset: account or none).
  absl::Duration answer_no_sooner_than = absl::ZeroDuration();
  /// The same for error answers only (VerifyPassword: a wrong password must not answer sooner
  /// for an unknown email than for an account whose imported hash is slow to check).
  absl::Duration error_no_sooner_than = absl::ZeroDuration();
};

/// The class of a generated `Request<Method>` member function: the AsyncService to call it on.
template <typename MemberPointer>
struct ServiceOfRequest;
template <typename Service, typename Signature>
struct ServiceOfRequest<Signature Service::*> {
  using Type = Service;
};
template <auto kRequestMethod>
auto* AsyncServiceOf(const MethodInfo& method) {
  // The one cast from the registration's base pointer: the table in server/server.cc pairs each
  // Request method with the AsyncService it belongs to.
  return static_cast<typename ServiceOfRequest<decltype(kRequestMethod)>::Type*>(method.service);
}

/// The caller's deadline, or absl::InfiniteFuture() when it set none.
absl::Time DeadlineOf(const grpc::ServerContext& context);

/// One line per call at debug level; server faults (INTERNAL, UNKNOWN) at warning.
void LogCall(const MethodInfo& method, const grpc::ServerContext& context,
             const absl::Status& status, absl::Time started, std::string_view request_id);

}  // namespace usersvc::server
