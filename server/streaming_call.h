#pragma once

#include <atomic>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include <absl/time/clock.h>
#include <grpcpp/grpcpp.h>

#include "callbacks/handlers/services.h"
#include "callbacks/handlers/stream.h"
#include "server/call_common.h"
#include "server/call_metadata.h"
#include "server/status_conversion.h"
#include "server/tag.h"

namespace usersvc::server {

/// Request and response types of a handler `void(Services&, StreamExchange<Request, Response>)`.
template <auto kHandler>
struct StreamHandlerTraits;
template <typename Req, typename Resp,
          void (*kHandler)(callbacks::Services&, callbacks::StreamExchange<Req, Resp>)>
struct StreamHandlerTraits<kHandler> {
  using Request = Req;
  using Response = Resp;
};

/// Messages one call may have queued behind its write in flight; a reader that falls further
/// behind is ended with RESOURCE_EXHAUSTED rather than buffered without bound.
inline constexpr size_t kMaxQueuedStreamMessages = 64;

/// One in-flight server-streaming RPC, generic like UnaryCall over the generated
/// `Request<Method>` member and a handler from callbacks/. The handler gets a StreamWriter it may
/// keep and write to from any thread; the call writes one message at a time, in order, and ends
/// when the handler finishes it, the client goes away or the server stops. It deletes itself
/// once Finish's completion and AsyncNotifyWhenDone's have both come back.
template <auto kRequestMethod, auto kHandler>
class ServerStreamingCall {
  using Request = typename StreamHandlerTraits<kHandler>::Request;
  using Response = typename StreamHandlerTraits<kHandler>::Response;

 public:
  static void Arm(CallEnvironment& env, const MethodInfo& method, grpc::ServerCompletionQueue* cq) {
    new ServerStreamingCall(env, method, cq);
  }

 private:
  /// The part of the call a handler holds. Every write and the Finish are posted under mutex_,
  /// and the call takes mutex_ once its Finish has completed, so no writing thread can still be
  /// posting when the call is freed (and ThreadSanitizer sees that order).
  class Writer final : public callbacks::StreamWriter<Response> {
   public:
    explicit Writer(ServerStreamingCall* call) : call_(call) {}

    bool Write(Response message) override {
      std::lock_guard lock(mutex_);
      if (ending_) return false;
      if (queue_.size() >= max_queued_) {
        queue_.clear();
        EndLocked(absl::ResourceExhaustedError("the client reads too slowly for this stream"));
        return false;
      }
      queue_.push_back(std::move(message));
      PumpLocked();
      return true;
    }

    void Finish(absl::Status status) override {
      std::lock_guard lock(mutex_);
      EndLocked(std::move(status));
    }

    void SetMaxQueued(size_t messages) override {
      std::lock_guard lock(mutex_);
      max_queued_ = messages;
    }

    void WhenDrained(absl::AnyInvocable<void()> then) override {
      {
        std::lock_guard lock(mutex_);
        if (ending_) return;
        if (writing_ || !queue_.empty()) {
          when_drained_ = std::move(then);
          return;
        }
      }
      then();
    }

    // The call's side, on its completion queue's thread.
    /// Lets the call post: until then (the request is still being set up) nothing is sent.
    void Open() {
      std::lock_guard lock(mutex_);
      open_ = true;
      PumpLocked();
    }
    void OnWritten(bool ok) {
      absl::AnyInvocable<void()> drained;
      {
        std::lock_guard lock(mutex_);
        writing_ = false;
        if (!ok) {  // the stream is broken: the client went away or the call was cancelled
          queue_.clear();
          EndLocked(absl::CancelledError("the client went away"));
        }
        PumpLocked();
        if (!writing_ && queue_.empty() && !ending_)
          drained = std::exchange(when_drained_, nullptr);
      }
      if (drained) drained();
    }
    /// AsyncNotifyWhenDone: cancelled (client gone, deadline, server shutdown) or complete.
    void OnCallDone() {
      std::lock_guard lock(mutex_);
      if (ending_) return;
      queue_.clear();
      EndLocked(absl::CancelledError("the call was cancelled"));
    }
    /// After Finish's completion: the call is about to go, nothing may post to it any more.
    void Close() {
      std::lock_guard lock(mutex_);
      call_ = nullptr;
    }

   private:
    void EndLocked(absl::Status status) {
      if (ending_) return;
      ending_ = true;
      when_drained_ = nullptr;  // whoever paced itself on it stops here
      final_status_ = std::move(status);
      PumpLocked();
    }
    void PumpLocked() {
      if (!open_ || writing_ || finish_posted_ || call_ == nullptr) return;
      if (!queue_.empty()) {
        writing_ = true;
        call_->PostWrite(queue_.front());  // serialised now: the message need not outlive this
        queue_.pop_front();
        return;
      }
      if (ending_) {
        finish_posted_ = true;
        call_->PostFinish(final_status_);
      }
    }

    std::mutex mutex_;
    ServerStreamingCall* call_;  // guarded; null once the call may be freed
    std::deque<Response> queue_;
    size_t max_queued_ = kMaxQueuedStreamMessages;
    absl::AnyInvocable<void()> when_drained_;  // run once queue_ empties
    absl::Status final_status_;
    bool open_ = false;
    bool writing_ = false;
    bool ending_ = false;
    bool finish_posted_ = false;
  };

  ServerStreamingCall(CallEnvironment& env, const MethodInfo& method,
                      grpc::ServerCompletionQueue* cq)
      : env_(env),
        method_(method),
        cq_(cq),
        responder_(&context_),
        writer_(std::make_shared<Writer>(this)) {
    context_.AsyncNotifyWhenDone(&done_tag_);
    (AsyncServiceOf<kRequestMethod>(method_)->*kRequestMethod)(&context_, &request_, &responder_,
                                                               cq_, cq_, &request_tag_);
  }

  void OnRequest(bool ok) {
    if (!ok) {  // shutting down: no call arrived, so AsyncNotifyWhenDone will never report
      delete this;
      return;
    }
    const bool refuse = env_.tracker->Begin() && !method_.answers_while_draining;
    Arm(env_, method_, cq_);
    started_ = absl::Now();
    method_.metrics->started->Increment();
    request_id_ = RequestIdOf(context_.client_metadata());
    context_.AddTrailingMetadata("x-request-id", request_id_);
    writer_->Open();
    if (refuse) {
      writer_->Finish(absl::UnavailableError("server is shutting down"));
      return;
    }
    bool privileged = false;
    if (absl::Status admitted = env_.access->Admit(context_, method_.access, &privileged);
        !admitted.ok()) {
      writer_->Finish(std::move(admitted));
      return;
    }
    kHandler(*env_.services, callbacks::StreamExchange<Request, Response>{
                                 &request_, writer_, DeadlineOf(context_), privileged});
  }

  // Under the writer's lock, on whichever thread wrote or ended the stream.
  void PostWrite(const Response& message) { responder_.Write(message, &write_tag_); }
  void PostFinish(const absl::Status& status) {
    method_.metrics->Finished(status.code(), absl::Now() - started_);
    LogCall(method_, context_, status, started_, request_id_);
    responder_.Finish(ToGrpcStatus(status), &finish_tag_);
  }

  void OnWritten(bool ok) { writer_->OnWritten(ok); }
  void OnFinished(bool) {
    writer_->Close();
    Release();
  }
  void OnDone(bool) {
    writer_->OnCallDone();
    Release();
  }

  // Finish's completion and AsyncNotifyWhenDone each let go once; the last one frees the call.
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
  grpc::ServerAsyncWriter<Response> responder_;
  const std::shared_ptr<Writer> writer_;
  std::atomic<int> outstanding_{2};
  absl::Time started_;
  std::string request_id_;
  MemberTag<ServerStreamingCall, &ServerStreamingCall::OnRequest> request_tag_{this};
  MemberTag<ServerStreamingCall, &ServerStreamingCall::OnWritten> write_tag_{this};
  MemberTag<ServerStreamingCall, &ServerStreamingCall::OnFinished> finish_tag_{this};
  MemberTag<ServerStreamingCall, &ServerStreamingCall::OnDone> done_tag_{this};
};

}  // namespace usersvc::server
