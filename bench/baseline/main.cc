// usersvc-baseline: the ceiling bench/run measures usersvc against. A bare async completion-queue
// server on the same protos and Debian's gRPC, no database: GetUser, GetUserByEmail and
// HealthCheck answer constant responses of the size usersvc's have, on one CQ thread per core,
// the smallest CQ server that could do the job (greeter_async_server's shape).
//
//   usersvc-baseline --listen=127.0.0.1:50061 [--cq_threads=N]
#include <signal.h>

#include <memory>
#include <thread>
#include <vector>

#include <absl/flags/flag.h>
#include <absl/flags/parse.h>
#include <grpcpp/grpcpp.h>

#include "user/v1/user.grpc.pb.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50061", "address to listen on");
ABSL_FLAG(int, cq_threads, static_cast<int>(std::thread::hardware_concurrency()),
          "completion queues, one thread each");

namespace {

using user::v1::UserService;

/// A user as usersvc returns one from the seeded database.
user::v1::User SampleUser() {
  user::v1::User user;
  user.set_id("00000000-0000-0000-0000-00000000002a");
  user.set_email("user42@example.com");
  user.set_username("user42");
  user.set_first_name("Alice");
  user.set_last_name("Martin");
  user.set_role(user::v1::USER_ROLE_CUSTOMER);
  user.set_is_active(true);
  user.mutable_created_at()->set_seconds(1'764'000'000);
  user.mutable_updated_at()->set_seconds(1'764'000'000);
  user.set_version(1);
  return user;
}

class Tag {
 public:
  virtual void Proceed(bool ok) = 0;

 protected:
  ~Tag() = default;
};

/// One pending call of one method: wait for a request, answer the constant, go.
template <typename Request, typename Response, auto kRequestMethod>
class Call final : public Tag {
 public:
  Call(UserService::AsyncService* service, grpc::ServerCompletionQueue* cq,
       const Response* response)
      : service_(service), cq_(cq), response_(response), writer_(&context_) {
    (service_->*kRequestMethod)(&context_, &request_, &writer_, cq_, cq_, this);
  }

  void Proceed(bool ok) override {
    if (!ok || finishing_) {
      delete this;
      return;
    }
    new Call(service_, cq_, response_);
    finishing_ = true;
    writer_.Finish(*response_, grpc::Status::OK, this);
  }

 private:
  UserService::AsyncService* service_;
  grpc::ServerCompletionQueue* cq_;
  const Response* response_;
  grpc::ServerContext context_;
  Request request_;
  grpc::ServerAsyncResponseWriter<Response> writer_;
  bool finishing_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  user::v1::GetUserResponse get_user;
  *get_user.mutable_user() = SampleUser();
  user::v1::GetUserByEmailResponse get_user_by_email;
  *get_user_by_email.mutable_user() = SampleUser();
  user::v1::HealthCheckResponse health;
  health.set_status(user::v1::HEALTH_STATUS_HEALTHY);
  health.set_version("0.1.0");
  health.mutable_uptime()->set_seconds(60);
  user::v1::ComponentHealth& database = (*health.mutable_components())["database"];
  database.set_status(user::v1::HEALTH_STATUS_HEALTHY);
  database.set_message("ok");
  database.mutable_latency()->set_nanos(250'000);

  UserService::AsyncService service;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(absl::GetFlag(FLAGS_listen), grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::vector<std::unique_ptr<grpc::ServerCompletionQueue>> cqs;
  for (int i = 0; i < std::max(1, absl::GetFlag(FLAGS_cq_threads)); ++i) {
    cqs.push_back(builder.AddCompletionQueue());
  }
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) return 1;

  std::vector<std::thread> threads;
  for (auto& cq : cqs) {
    for (int i = 0; i < 64; ++i) {
      new Call<user::v1::GetUserRequest, user::v1::GetUserResponse,
               &UserService::AsyncService::RequestGetUser>(&service, cq.get(), &get_user);
      new Call<user::v1::GetUserByEmailRequest, user::v1::GetUserByEmailResponse,
               &UserService::AsyncService::RequestGetUserByEmail>(&service, cq.get(),
                                                                  &get_user_by_email);
      new Call<user::v1::HealthCheckRequest, user::v1::HealthCheckResponse,
               &UserService::AsyncService::RequestHealthCheck>(&service, cq.get(), &health);
    }
    threads.emplace_back([raw = cq.get()] {
      void* tag = nullptr;
      bool ok = false;
      while (raw->Next(&tag, &ok)) static_cast<Tag*>(tag)->Proceed(ok);
    });
  }
  int received = 0;
  sigwait(&signals, &received);
  server->Shutdown();
  for (auto& cq : cqs) cq->Shutdown();
  for (auto& thread : threads) thread.join();
  return 0;
}
