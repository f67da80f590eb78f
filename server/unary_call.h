#pragma once

#include <atomic>
#include <chrono>
#include <string>

#include <absl/time/clock.h>
#include <absl/time/time.h>
#include <grpcpp/grpcpp.h>

#include "callbacks/exchange.h"
#include "callbacks/services.h"
#include "server/call_metadata.h"
#include "server/call_tracker.h"
#include "server/metrics.h"
#include "server/status_conversion.h"
#include "server/tag.h"
#include "storage/log.h"
#include "user/v1/user.grpc.pb.h"

namespace usersvc::server {

/// Every method of the contract is served through a call object.
using UserAsyncService = user::v1::UserService::AsyncService;

/// What every call object of one server shares.
struct CallEnvironment {
  UserAsyncService* service;
  callbacks::Services* services;
  CallTracker* tracker;
  Metrics* metrics;
};

/// Request and response types of a handler `void(Services&, Exchange<Request, Response>)`.
template <auto kHandler>
struct HandlerTraits;
template <typename Req, typename Resp,
          void (*kHandler)(callbacks::Services&, callbacks::Exchange<Req, Resp>)>
struct HandlerTraits<kHandler> {
  using Request = Req;
  using Response = Resp;
};

/// One in-flight unary RPC, generic over the generated `Request<Method>` member and the handler
/// from callbacks/. It asks for the next call of its kind before it handles its own, and deletes
/// itself once three things have let go of it: the thread that posted Finish (the handler's
/// `finish`, on a CQ, database or CPU thread), Finish's completion and AsyncNotifyWhenDone's.
template <auto kRequestMethod, auto kHandler>
class UnaryCall {
  using Request = typename HandlerTraits<kHandler>::Request;
  using Response = typename HandlerTraits<kHandler>::Response;

 public:
  /// Posts one call object that waits for the next request of this method on `cq`.
  static void Arm(CallEnvironment& env, grpc::ServerCompletionQueue* cq) { new UnaryCall(env, cq); }

 private:
  enum class State { kAwaitRequest, kAwaitHandler, kAwaitFinish };

  UnaryCall(CallEnvironment& env, grpc::ServerCompletionQueue* cq)
      : env_(env), metrics_(MethodMetrics(env)), cq_(cq), responder_(&context_) {
    state_ = State::kAwaitRequest;  // before posting: another thread may complete it at once
    context_.AsyncNotifyWhenDone(&done_tag_);
    (env_.service->*kRequestMethod)(&context_, &request_, &responder_, cq_, cq_, &request_tag_);
  }

  void OnRequest(bool ok) {
    if (!ok) {  // shutting down: no call arrived, so AsyncNotifyWhenDone will never report
      delete this;
      return;
    }
    // Counted before re-arming, so shutdown cannot close this queue while Arm posts to it.
    const bool draining = env_.tracker->Begin();
    // Re-arm first, so a call of this kind is always waiting. Once Server::Shutdown has begun
    // the new request fails at once (ok = false) on this still-live queue.
    Arm(env_, cq_);
    started_ = absl::Now();
    metrics_.started->Increment();
    request_id_ = RequestIdOf(context_.client_metadata());
    context_.AddTrailingMetadata("x-request-id", request_id_);
    state_ = State::kAwaitHandler;
    if (draining) {
      Finish(absl::UnavailableError("server is shutting down"));
      return;
    }
    kHandler(*env_.services, callbacks::Exchange<Request, Response>{
                                 &request_, &response_, Deadline(),
                                 [this](absl::Status status) { Finish(std::move(status)); }});
  }

  // Runs on whichever thread the handler finished on (CQ, database or CPU pool thread).
  void Finish(absl::Status status) {
    metrics_.Finished(status.code(), absl::Now() - started_);
    LogCall(status);
    state_ = State::kAwaitFinish;
    if (status.ok()) {
      responder_.Finish(response_, grpc::Status::OK, &finish_tag_);
    } else {
      responder_.FinishWithError(ToGrpcStatus(status), &finish_tag_);
    }
    // Finish serialises response_ on this thread, and its completion may already be running on a
    // CQ thread. Letting go only now orders every read of the call made here before its delete,
    // wherever that happens, through our own atomic (which ThreadSanitizer sees), not only
    // through gRPC's queue (which it cannot see into).
    Release();
  }

  void OnFinished(bool) { Release(); }
  void OnDone(bool) { Release(); }

  // The poster of Finish, Finish's completion and AsyncNotifyWhenDone each let go once; the last
  // one frees the call.
  void Release() {
    if (outstanding_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      env_.tracker->End();
      delete this;
    }
  }

  absl::Time Deadline() const {
    const auto deadline = context_.deadline();
    // No deadline is reported as a time_point near its maximum.
    if (deadline >= std::chrono::system_clock::now() + std::chrono::hours(24 * 365)) {
      return absl::InfiniteFuture();
    }
    return absl::FromChrono(deadline);
  }

  void LogCall(const absl::Status& status) const {
    const bool server_fault =
        status.code() == absl::StatusCode::kInternal || status.code() == absl::StatusCode::kUnknown;
    const LogLevel level = server_fault ? LogLevel::kWarning : LogLevel::kDebug;
    if (!LogEnabled(level)) return;
    Log(level, "call",
        {{"method", MethodName()},
         {"code", absl::StatusCodeToString(status.code())},
         {"duration_ms", absl::ToDoubleMilliseconds(absl::Now() - started_)},
         {"peer", context_.peer()},
         {"x-request-id", request_id_},
         {"trace_id", TraceIdOf(context_.client_metadata())}});
  }

  // "GetUserRequest" → "GetUser": every request message of the contract is named so.
  static std::string_view MethodName() {
    std::string_view name = Request::descriptor()->name();
    if (name.ends_with("Request")) name.remove_suffix(7);
    return name;
  }

  // One lookup per method for the whole process, not per call.
  static const Metrics::Method& MethodMetrics(CallEnvironment& env) {
    static const Metrics::Method& method =
        env.metrics->ForMethod(user::v1::UserService::service_full_name(), MethodName());
    return method;
  }

  CallEnvironment& env_;
  const Metrics::Method& metrics_;
  grpc::ServerCompletionQueue* cq_;
  grpc::ServerContext context_;
  Request request_;
  Response response_;
  grpc::ServerAsyncResponseWriter<Response> responder_;
  std::atomic<State> state_;
  std::atomic<int> outstanding_{3};
  absl::Time started_;
  std::string request_id_;
  MemberTag<UnaryCall, &UnaryCall::OnRequest> request_tag_{this};
  MemberTag<UnaryCall, &UnaryCall::OnFinished> finish_tag_{this};
  MemberTag<UnaryCall, &UnaryCall::OnDone> done_tag_{this};
};

}  // namespace usersvc::server
