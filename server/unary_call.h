#pragma once

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>

#include <absl/time/clock.h>
#include <grpcpp/alarm.h>
#include <grpcpp/grpcpp.h>

#include "callbacks/handlers/exchange.h"
#include "callbacks/handlers/services.h"
#include "server/call_common.h"
#include "server/call_metadata.h"
#include "server/status_conversion.h"
#include "server/tag.h"

namespace usersvc::server {

/// Request and response types of a handler `void(Services&, Exchange<Request, Response>)`.
template <auto kHandler>
struct UnaryHandlerTraits;
template <typename Req, typename Resp,
          void (*kHandler)(callbacks::Services&, callbacks::Exchange<Req, Resp>)>
struct UnaryHandlerTraits<kHandler> {
  using Request = Req;
  using Response = Resp;
};

/// One in-flight unary RPC, generic over the generated `Request<Method>` member and the handler
/// from callbacks/. It asks for the next call of its kind before it handles its own, and deletes
/// itself once two things have let go of it: the thread that posted Finish (the handler's
/// `finish`, on a CQ, database or CPU thread) and Finish's completion (three for a method that
/// answers no sooner than a set time: the alarm's completion too). It does not ask for
/// AsyncNotifyWhenDone: nothing of a unary call acts on a cancellation (the handler's query runs
/// to its end either way), and that completion would cost every call one more trip through the
/// queue.
template <auto kRequestMethod, auto kHandler>
class UnaryCall {
  using Request = typename UnaryHandlerTraits<kHandler>::Request;
  using Response = typename UnaryHandlerTraits<kHandler>::Response;

 public:
  /// Posts one call object that waits for the next request of this method on `cq`.
  static void Arm(CallEnvironment& env, const MethodInfo& method, grpc::ServerCompletionQueue* cq) {
    new UnaryCall(env, method, cq);
  }

 private:
  enum class State { kAwaitRequest, kAwaitHandler, kAwaitFinish };

  UnaryCall(CallEnvironment& env, const MethodInfo& method, grpc::ServerCompletionQueue* cq)
      : env_(env), method_(method), cq_(cq), responder_(&context_) {
    state_ = State::kAwaitRequest;  // before posting: another thread may complete it at once
    (AsyncServiceOf<kRequestMethod>(method_)->*kRequestMethod)(&context_, &request_, &responder_,
                                                               cq_, cq_, &request_tag_);
  }

  void OnRequest(bool ok) {
    if (!ok) {  // shutting down: no call arrived
      delete this;
      return;
    }
    // Counted before re-arming, so shutdown cannot close this queue while Arm posts to it.
    const bool refuse = env_.tracker->Begin() && !method_.answers_while_draining;
    // Re-arm first, so a call of this kind is always waiting. Once Server::Shutdown has begun
    // the new request fails at once (ok = false) on this still-live queue.
    Arm(env_, method_, cq_);
    started_ = absl::Now();
    method_.metrics->started->Increment();
    request_id_ = RequestIdOf(context_.client_metadata());
    context_.AddTrailingMetadata("x-request-id", request_id_);
    state_ = State::kAwaitHandler;
    if (refuse) {
      Finish(absl::UnavailableError("server is shutting down"));
      return;
    }
    if (absl::Status admitted = env_.access->Admit(context_, method_.access); !admitted.ok()) {
      Finish(std::move(admitted));
      return;
    }
    kHandler(*env_.services,
             callbacks::Exchange<Request, Response>{
                 &request_, &response_, DeadlineOf(context_),
                 callbacks::Finish([this](absl::Status status) { Finish(std::move(status)); })});
  }

  // Runs on whichever thread the handler finished on (CQ, database or CPU pool thread).
  void Finish(absl::Status status) {
    const absl::Duration floor =
        status.ok() ? method_.answer_no_sooner_than
                    : std::max(method_.answer_no_sooner_than, method_.error_no_sooner_than);
    if (floor > absl::ZeroDuration()) {
      const absl::Time earliest = started_ + floor;
      if (absl::Now() < earliest) {
        padded_status_ = std::move(status);
        padding_ = std::make_unique<grpc::Alarm>();
        // The alarm's completion holds the call too (OnPadded answers and lets go), and this
        // thread lets go only once Set has returned. The status is published through our own
        // atomic as well as the alarm's queue, which ThreadSanitizer cannot see into.
        outstanding_.fetch_add(1, std::memory_order_relaxed);
        padded_.store(true, std::memory_order_release);
        padding_->Set(cq_, absl::ToChronoTime(earliest), &padding_tag_);
        Release();
        return;
      }
    }
    Answer(std::move(status));
  }

  void OnPadded(bool) {
    if (!padded_.load(std::memory_order_acquire)) return;  // never: only Finish sets the alarm
    Answer(std::move(padded_status_));
  }

  void Answer(absl::Status status) {
    method_.metrics->Finished(status.code(), absl::Now() - started_);
    LogCall(method_, context_, status, started_, request_id_);
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

  // The poster of Finish and Finish's completion each let go once; the second frees the call.
  void Release() {
    if (outstanding_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      env_.tracker->End();
      delete this;
    }
  }

  CallEnvironment& env_;
  const MethodInfo& method_;
  grpc::ServerCompletionQueue* cq_;
  grpc::ServerContext context_;
  Request request_;
  Response response_;
  grpc::ServerAsyncResponseWriter<Response> responder_;
  std::atomic<State> state_;
  std::atomic<int> outstanding_{2};
  absl::Time started_;
  std::string request_id_;
  MemberTag<UnaryCall, &UnaryCall::OnRequest> request_tag_{this};
  MemberTag<UnaryCall, &UnaryCall::OnFinished> finish_tag_{this};
  // Only for methods that answer no sooner than a set time (see MethodInfo).
  std::unique_ptr<grpc::Alarm> padding_;
  absl::Status padded_status_;
  std::atomic<bool> padded_{false};
  MemberTag<UnaryCall, &UnaryCall::OnPadded> padding_tag_{this};
};

}  // namespace usersvc::server
