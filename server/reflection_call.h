#pragma once

#include <atomic>
#include <string>
#include <vector>

#include <absl/time/clock.h>
#include <grpcpp/grpcpp.h>

#include "server/call_common.h"
#include "server/reflection.h"
#include "server/tag.h"

namespace usersvc::server {

/// One server-reflection stream (grpc.reflection v1 or v1alpha, which share their messages'
/// shape): read a request, answer it from the descriptors linked into this binary, read the next,
/// until the client closes its side. One operation in flight at a time, all on the call's own
/// completion queue thread, so it needs no lock; it deletes itself once Finish's completion and
/// AsyncNotifyWhenDone's have both come back.
template <auto kRequestMethod, typename Request, typename Response>
class ReflectionCall {
 public:
  static void Arm(CallEnvironment& env, const MethodInfo& method, grpc::ServerCompletionQueue* cq) {
    new ReflectionCall(env, method, cq);
  }

 private:
  ReflectionCall(CallEnvironment& env, const MethodInfo& method, grpc::ServerCompletionQueue* cq)
      : env_(env), method_(method), cq_(cq), stream_(&context_) {
    context_.AsyncNotifyWhenDone(&done_tag_);
    (AsyncServiceOf<kRequestMethod>(method_)->*kRequestMethod)(&context_, &stream_, cq_, cq_,
                                                               &request_tag_);
  }

  void OnRequest(bool ok) {
    if (!ok) {
      delete this;
      return;
    }
    const bool draining = env_.tracker->Begin();
    Arm(env_, method_, cq_);
    started_ = absl::Now();
    method_.metrics->started->Increment();
    if (draining) return Finish(absl::UnavailableError("server is shutting down"));
    if (absl::Status admitted = env_.access->Admit(context_, method_.access); !admitted.ok()) {
      return Finish(admitted);
    }
    stream_.Read(&request_, &read_tag_);
  }

  void OnRead(bool ok) {
    if (!ok) return Finish(absl::OkStatus());  // the client closed its side (or went away)
    response_.Clear();
    AnswerReflection(*env_.service_names, request_, &response_);
    stream_.Write(response_, &write_tag_);
  }

  void OnWritten(bool ok) {
    if (!ok) return Finish(absl::CancelledError("the client went away"));
    stream_.Read(&request_, &read_tag_);
  }

  void Finish(const absl::Status& status) {
    method_.metrics->Finished(status.code(), absl::Now() - started_);
    LogCall(method_, context_, status, started_, "");
    stream_.Finish(
        grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message())),
        &finish_tag_);
  }

  void OnFinished(bool) { Release(); }
  void OnDone(bool) { Release(); }
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
  grpc::ServerAsyncReaderWriter<Response, Request> stream_;
  Request request_;
  Response response_;
  std::atomic<int> outstanding_{2};
  absl::Time started_;
  MemberTag<ReflectionCall, &ReflectionCall::OnRequest> request_tag_{this};
  MemberTag<ReflectionCall, &ReflectionCall::OnRead> read_tag_{this};
  MemberTag<ReflectionCall, &ReflectionCall::OnWritten> write_tag_{this};
  MemberTag<ReflectionCall, &ReflectionCall::OnFinished> finish_tag_{this};
  MemberTag<ReflectionCall, &ReflectionCall::OnDone> done_tag_{this};
};

}  // namespace usersvc::server
