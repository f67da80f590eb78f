// argon2id is not a lever for attackers, and a reset token dies with what it was issued for:
// made-up reset tokens are refused without a hash, changes whose callers gave up are not
// hashed, RequestPasswordReset does the same work and takes the same time for any address, and a
// password or email change voids outstanding reset tokens.
#include <algorithm>
#include <mutex>
#include <thread>

#include <catch2/catch.hpp>

#include "test/support/fixtures.h"

namespace usersvc::test {
namespace {

double Percentile(std::vector<double> values, double fraction) {
  std::sort(values.begin(), values.end());
  return values[static_cast<size_t>(fraction * static_cast<double>(values.size() - 1))];
}

}  // namespace

TEST_CASE("ResetPassword looks a token up before hashing: made-up tokens cost no argon2id") {
  MeteredServer metered;
  auto stub = metered.server.stub();
  const double before = metered.Argon2idRuns();
  REQUIRE(before >= 0);
  for (int i = 0; i < 50; ++i) {
    // Well-formed (43 URL-safe base64 characters) but issued by nobody.
    const std::string token = std::string(42, 'A') + static_cast<char>('A' + i % 26);
    const grpc::Status status = Reset(*stub, token, "a-new-password-1");
    CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(status.error_message() == "token: invalid or expired");
  }
  CHECK(metered.Argon2idRuns() == before);
}

TEST_CASE("A password change whose caller's deadline passed in the queue is not hashed") {
  MeteredServer metered;
  auto stub = metered.server.stub();
  TestUser who = CreateTestUser(*stub);
  const double before = metered.Argon2idRuns();
  // 40 changes at once, each worth two argon2id runs (verify, then hash), on a CPU pool of two
  // threads, with a deadline of 100 ms: most wait in the queue past their deadline, and those
  // are answered without being computed.
  constexpr int kCalls = 40;
  std::vector<std::thread> callers;
  std::atomic<int> answered = 0;
  for (int i = 0; i < kCalls; ++i) {
    callers.emplace_back([&, i] {
      user::v1::ChangePasswordRequest request;
      request.set_user_id(who.user.id());
      request.set_current_password(who.password);
      request.set_new_password("another-password-" + std::to_string(i));
      user::v1::ChangePasswordResponse response;
      stub->ChangePassword(ContextWithDeadline(0.1).get(), request, &response);
      ++answered;
    });
  }
  for (auto& caller : callers) caller.join();
  CHECK(answered == kCalls);
  // Whatever was still queued has been dropped by now; nothing runs late.
  std::this_thread::sleep_for(std::chrono::seconds(3));
  const double runs = metered.Argon2idRuns() - before;
  INFO("argon2id runs for " << kCalls << " changes: " << runs);
  CHECK(runs < kCalls);  // without the deadline check: 2 per call, 80
}

TEST_CASE("A password change or an email change voids outstanding reset tokens") {
  ServerProcess server;
  auto stub = server.stub();
  BlockingDb db;
  TestUser who = CreateTestUser(*stub);
  REQUIRE(RequestReset(*stub, who.user.email()).ok());
  const std::string before_change = LatestToken(db, who.user.id(), "user.password_reset_requested");

  REQUIRE(ChangePassword(*stub, who.user.id(), who.password, "a-changed-password-1").ok());
  CHECK(Reset(*stub, before_change, "a-reset-password-1").error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);

  REQUIRE(RequestReset(*stub, who.user.email()).ok());
  const std::string before_move = LatestToken(db, who.user.id(), "user.password_reset_requested");
  REQUIRE(before_move != before_change);
  user::v1::UpdateUserRequest update;
  update.set_user_id(who.user.id());
  update.mutable_user()->set_email("moved." + who.user.email());
  update.mutable_update_mask()->add_paths("email");
  user::v1::UpdateUserResponse updated;
  REQUIRE(Call(*stub, &Stub::UpdateUser, update, &updated).ok());
  CHECK(Reset(*stub, before_move, "a-reset-password-2").error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  // A token issued after the move works.
  REQUIRE(RequestReset(*stub, "moved." + who.user.email()).ok());
  CHECK(Reset(*stub, LatestToken(db, who.user.id(), "user.password_reset_requested"),
              "a-reset-password-3")
            .ok());
}

TEST_CASE("RequestPasswordReset does the same work and takes the same time for any address") {
  ServerProcess server;
  auto stub = server.stub();
  BlockingDb db;
  TestUser who = CreateTestUser(*stub);
  const std::string unknown = "nobody." + who.user.email();
  const std::string digests =
      "SELECT count(*) FROM password_reset_requests"
      " WHERE email_digest = usersvc_reset_request_digest($1)";
  // Warm both paths (plans, connections), then alternate, so drift hits both alike.
  for (int i = 0; i < 20; ++i) {
    REQUIRE(RequestReset(*stub, i % 2 ? unknown : who.user.email()).ok());
  }
  // Four callers, each alternating between the two addresses: 150 calls for each.
  std::vector<double> known_ms, unknown_ms;
  std::mutex mutex;
  std::vector<std::thread> callers;
  for (int t = 0; t < 4; ++t) {
    callers.emplace_back([&, t] {
      auto caller_stub = user::v1::UserService::NewStub(server.channel());
      for (int i = 0; i < 75; ++i) {
        const bool known = (i + t) % 2 == 0;
        const absl::Time start = absl::Now();
        const bool ok = RequestReset(*caller_stub, known ? who.user.email() : unknown).ok();
        const double took = absl::ToDoubleMilliseconds(absl::Now() - start);
        std::lock_guard lock(mutex);
        CHECK(ok);
        (known ? known_ms : unknown_ms).push_back(took);
      }
    });
  }
  for (auto& caller : callers) caller.join();
  // The same kind of database work: each request wrote its row, for the known address as for
  // the unknown one (and only the known one got a token).
  CHECK(db.Scalar(digests, {who.user.email()}) == "160");
  CHECK(db.Scalar(digests, {unknown}) == "160");
  // And neither answers sooner than the service's set time for this RPC (20 ms).
  CHECK(*std::min_element(known_ms.begin(), known_ms.end()) >= 20);
  CHECK(*std::min_element(unknown_ms.begin(), unknown_ms.end()) >= 20);
  const double known_median = Percentile(known_ms, 0.5);
  const double unknown_median = Percentile(unknown_ms, 0.5);
  const double known_p90 = Percentile(known_ms, 0.9);
  const double unknown_p90 = Percentile(unknown_ms, 0.9);
  INFO("median known " << known_median << " ms, unknown " << unknown_median << " ms; p90 known "
                       << known_p90 << " ms, unknown " << unknown_p90 << " ms");
  // An oracle worth exploiting shows as a shift of the whole distribution (a hash, a round trip,
  // a commit that waits for the disk on one path only); noise moves single calls.
  CHECK(known_median / unknown_median < 1.05);
  CHECK(unknown_median / known_median < 1.05);
  CHECK(known_p90 / unknown_p90 < 1.2);
  CHECK(unknown_p90 / known_p90 < 1.2);
}

}  // namespace usersvc::test
