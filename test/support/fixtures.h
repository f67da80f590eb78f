#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "test/support/server_process.h"
#include "test/support/test_database.h"
#include "user/v1/user.grpc.pb.h"

namespace usersvc::test {

/// A user created through CreateUser for a test, with the password it was given.
struct TestUser {
  user::v1::User user;
  std::string password;
};

using Stub = user::v1::UserService::Stub;

/// One unary call with a 10 s deadline: Call(stub, &Stub::GetUser, request, &response).
template <typename Request, typename Response>
grpc::Status Call(Stub& stub,
                  grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*),
                  const Request& request, Response* response) {
  return (stub.*method)(ContextWithDeadline(10).get(), request, response);
}

/// The call retried as a caller would after UNKNOWN or UNAVAILABLE while the service's pool
/// reconnects: every 100 ms, for up to 5 s, until another answer comes; that answer.
template <typename Request, typename Response>
grpc::Status CallWhileReconnecting(Stub& stub,
                                   grpc::Status (Stub::*method)(grpc::ClientContext*,
                                                                const Request&, Response*),
                                   const Request& request, Response* response) {
  grpc::Status status;
  for (int attempt = 0; attempt < 50; ++attempt) {
    status = Call(stub, method, request, response);
    if (status.error_code() != grpc::StatusCode::UNAVAILABLE &&
        status.error_code() != grpc::StatusCode::UNKNOWN) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return status;
}

/// Sends every request at once through `start` (a Stub::AsyncX member), waits for all of them,
/// and returns their statuses in request order; `responses`, when given, gets the replies.
template <typename Request, typename Response>
std::vector<grpc::Status> CallConcurrently(
    Stub& stub,
    std::unique_ptr<grpc::ClientAsyncResponseReader<Response>> (Stub::*start)(
        grpc::ClientContext*, const Request&, grpc::CompletionQueue*),
    const std::vector<Request>& requests, std::vector<Response>* responses = nullptr) {
  struct Pending {
    grpc::ClientContext context;
    Response response;
    grpc::Status status;
    std::unique_ptr<grpc::ClientAsyncResponseReader<Response>> reader;
  };
  grpc::CompletionQueue cq;
  std::vector<std::unique_ptr<Pending>> calls;
  for (const Request& request : requests) {
    auto call = std::make_unique<Pending>();
    call->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    call->reader = (stub.*start)(&call->context, request, &cq);
    call->reader->Finish(&call->response, &call->status, call.get());
    calls.push_back(std::move(call));
  }
  for (size_t i = 0; i < calls.size(); ++i) {
    void* tag = nullptr;
    bool ok = false;
    if (!cq.Next(&tag, &ok)) break;
  }
  std::vector<grpc::Status> statuses;
  for (auto& call : calls) {
    statuses.push_back(call->status);
    if (responses != nullptr) responses->push_back(call->response);
  }
  return statuses;
}

/// Creates a user with unique email and username; fails the test if CreateUser does not succeed.
TestUser CreateTestUser(user::v1::UserService::Stub& stub);

/// Outbox rows of one type for one user, oldest first, as their JSON payloads.
std::vector<std::string> EventPayloads(BlockingDb& db, const std::string& user_id,
                                       const std::string& event_type);

/// The raw token carried by the newest outbox event of `event_type` for the user.
std::string LatestToken(BlockingDb& db, const std::string& user_id, const std::string& event_type);

/// The password RPCs, each with a 10 s deadline.
inline grpc::Status ChangePassword(Stub& stub, const std::string& user_id,
                                   const std::string& current, const std::string& next) {
  user::v1::ChangePasswordRequest request;
  request.set_user_id(user_id);
  request.set_current_password(current);
  request.set_new_password(next);
  user::v1::ChangePasswordResponse response;
  return Call(stub, &Stub::ChangePassword, request, &response);
}

inline grpc::Status RequestReset(Stub& stub, const std::string& email) {
  user::v1::RequestPasswordResetRequest request;
  request.set_email(email);
  user::v1::RequestPasswordResetResponse response;
  return Call(stub, &Stub::RequestPasswordReset, request, &response);
}

inline grpc::Status Reset(Stub& stub, const std::string& token, const std::string& password) {
  user::v1::ResetPasswordRequest request;
  request.set_token(token);
  request.set_new_password(password);
  user::v1::ResetPasswordResponse response;
  return Call(stub, &Stub::ResetPassword, request, &response);
}

/// VerifyPassword with a 10 s deadline; `response`, when given, gets the reply.
inline grpc::Status SignIn(Stub& stub, const std::string& email, const std::string& password,
                           user::v1::VerifyPasswordResponse* response = nullptr) {
  user::v1::VerifyPasswordRequest request;
  request.set_email(email);
  request.set_password(password);
  user::v1::VerifyPasswordResponse ignored;
  return Call(stub, &Stub::VerifyPassword, request, response != nullptr ? response : &ignored);
}

/// A WatchUserEventsRequest, serialised, for the events of a user nobody has: for tests that
/// open the stream only to see how it is admitted, so that it stays quiet whatever other tests
/// write meanwhile (what a stream carries is the event tests' business; the tsan build, which
/// leaves those out, cannot serialise their Struct payloads).
inline std::string QuietWatchRequest() {
  user::v1::WatchUserEventsRequest quiet;
  quiet.set_user_id("00000000-0000-4000-8000-000000000000");
  return quiet.SerializeAsString();
}

/// The body of GET /metrics on 127.0.0.1:`port` (HTTP/1.0, read to the end).
std::string Scrape(int port);
/// The value of the series `name{labels}` (labels as Prometheus prints them, sorted), or -1.
double SeriesValue(const std::string& metrics, const std::string& series);

/// A server with /metrics, to read usersvc_argon2id_runs_total: what a caller made it spend on
/// password hashing.
struct MeteredServer {
  int metrics_port = FreePort();
  ServerProcess server{ServerProcess::Options{
      .args = {"--metrics_listen=127.0.0.1:" + std::to_string(metrics_port)}}};
  double Argon2idRuns() const {
    return SeriesValue(Scrape(metrics_port), "usersvc_argon2id_runs_total");
  }
};

}  // namespace usersvc::test
