// WatchUserEvents: the outbox as a stream, clause by clause of its contract (protos/user/v1/
// user.proto): every change arrives, in id order, exactly once across a resume, also while
// transactions commit out of id order or the notification connection is lost; filters; tokens
// kept out; a slow reader bounded. Tests that delete from the outbox, hold its lock or flood it
// run on a cluster of their own, so that other tests' streams and outbox checks never see them.
#include <atomic>
#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <google/protobuf/util/json_util.h>
#include <catch2/catch.hpp>

#include "test/support/fixtures.h"
#include "test/support/private_cluster.h"

namespace usersvc::test {
namespace {

using user::v1::UserEvent;
using user::v1::WatchUserEventsRequest;

/// One open stream, read from the test's thread. The deadline bounds the whole stream: an event
/// that never comes fails the test when it passes, rather than hanging it.
class Watch {
 public:
  Watch(Stub& stub, const WatchUserEventsRequest& request, int deadline_seconds = 20) {
    context_.set_deadline(std::chrono::system_clock::now() +
                          std::chrono::seconds(deadline_seconds));
    reader_ = stub.WatchUserEvents(&context_, request);
  }
  ~Watch() {
    if (finished_) return;
    context_.TryCancel();
    Finish();
  }

  /// The next event; false when the stream ended (then status() says why).
  bool Next(UserEvent* event) { return reader_->Read(event); }
  /// The next `count` events (fewer if the stream ends first).
  std::vector<UserEvent> Take(size_t count) {
    std::vector<UserEvent> events;
    UserEvent event;
    while (events.size() < count && Next(&event)) events.push_back(event);
    return events;
  }
  /// Events until one of `type` arrives (that one included), or the stream ends.
  std::vector<UserEvent> Until(const std::string& type) {
    std::vector<UserEvent> events;
    UserEvent event;
    while (Next(&event)) {
      events.push_back(event);
      if (event.event_type() == type) break;
    }
    return events;
  }
  /// How the stream ended (reads first whatever is still on its way).
  grpc::Status Finish() {
    UserEvent ignored;
    while (reader_->Read(&ignored)) {
    }
    finished_ = true;
    return reader_->Finish();
  }
  void Cancel() { context_.TryCancel(); }

 private:
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<UserEvent>> reader_;
  bool finished_ = false;
};

WatchUserEventsRequest After(int64_t after_id, const std::string& user_id = "") {
  WatchUserEventsRequest request;
  request.set_after_id(after_id);
  request.set_user_id(user_id);
  return request;
}

/// The outbox's last id now (0 when empty).
int64_t LastEventId(BlockingDb& db) {
  return std::stoll(db.Scalar("SELECT coalesce(max(id), 0) FROM user_events"));
}

std::vector<int64_t> Ids(const std::vector<UserEvent>& events) {
  std::vector<int64_t> ids;
  for (const UserEvent& event : events) ids.push_back(event.id());
  return ids;
}

/// The outbox's ids for the user, oldest first.
std::vector<int64_t> StoredIds(BlockingDb& db, const std::string& user_id) {
  std::vector<int64_t> ids;
  for (const auto& row :
       db.Query("SELECT id FROM user_events WHERE user_id = $1::uuid ORDER BY id", {user_id})) {
    ids.push_back(std::stoll(row[0]));
  }
  return ids;
}

std::string PayloadJson(const UserEvent& event) {
  std::string json;
  REQUIRE(google::protobuf::util::MessageToJsonString(event.payload(), &json).ok());
  return json;
}

void UpdateFirstName(Stub& stub, const std::string& user_id, const std::string& name) {
  user::v1::UpdateUserRequest request;
  request.set_user_id(user_id);
  request.mutable_user()->set_first_name(name);
  request.mutable_update_mask()->add_paths("first_name");
  user::v1::UpdateUserResponse response;
  grpc::Status status = Call(stub, &Stub::UpdateUser, request, &response);
  INFO(status.error_message());
  REQUIRE(status.ok());
}

/// Sends a verification email; the token it wrote to the outbox.
std::string RequestVerification(Stub& stub, BlockingDb& db, const std::string& user_id) {
  user::v1::SendVerificationEmailRequest request;
  request.set_user_id(user_id);
  user::v1::SendVerificationEmailResponse response;
  REQUIRE(Call(stub, &Stub::SendVerificationEmail, request, &response).ok());
  return LatestToken(db, user_id, "user.email_verification_requested");
}

/// Every kind of change the outbox records, made to one user through the RPCs, ending with its
/// deletion.
void ChangeInEveryWay(Stub& stub, BlockingDb& db, const TestUser& who) {
  const std::string& id = who.user.id();
  UpdateFirstName(stub, id, "Grace");
  {
    user::v1::VerifyEmailRequest request;
    request.set_token(RequestVerification(stub, db, id));
    user::v1::VerifyEmailResponse response;
    REQUIRE(Call(stub, &Stub::VerifyEmail, request, &response).ok());
  }
  REQUIRE(ChangePassword(stub, id, who.password, "another correct horse 42").ok());
  REQUIRE(RequestReset(stub, who.user.email()).ok());
  REQUIRE(
      Reset(stub, LatestToken(db, id, "user.password_reset_requested"), "a third correct horse 43")
          .ok());
  user::v1::Address address;
  address.set_type(user::v1::ADDRESS_TYPE_SHIPPING);
  address.set_recipient_name("Grace Hopper");
  address.set_line1("1 Navy Way");
  address.set_city("Arlington");
  address.set_country_code("US");
  std::string address_ids[2];
  for (std::string& address_id : address_ids) {
    user::v1::AddAddressRequest request;
    request.set_user_id(id);
    *request.mutable_address() = address;
    user::v1::AddAddressResponse response;
    REQUIRE(Call(stub, &Stub::AddAddress, request, &response).ok());
    address_id = response.address().id();
  }
  {
    user::v1::UpdateAddressRequest request;
    request.set_user_id(id);
    request.set_address_id(address_ids[1]);
    request.mutable_address()->set_city("Alexandria");
    request.mutable_update_mask()->add_paths("city");
    user::v1::UpdateAddressResponse response;
    REQUIRE(Call(stub, &Stub::UpdateAddress, request, &response).ok());
  }
  {
    user::v1::SetDefaultAddressRequest request;
    request.set_user_id(id);
    request.set_address_id(address_ids[1]);
    user::v1::SetDefaultAddressResponse response;
    REQUIRE(Call(stub, &Stub::SetDefaultAddress, request, &response).ok());
  }
  {
    user::v1::DeleteAddressRequest request;
    request.set_user_id(id);
    request.set_address_id(address_ids[0]);
    user::v1::DeleteAddressResponse response;
    REQUIRE(Call(stub, &Stub::DeleteAddress, request, &response).ok());
  }
  {
    user::v1::UpdateUserPreferencesRequest request;
    request.set_user_id(id);
    request.mutable_preferences()->set_theme(user::v1::THEME_DARK);
    request.mutable_update_mask()->add_paths("theme");
    user::v1::UpdateUserPreferencesResponse response;
    REQUIRE(Call(stub, &Stub::UpdateUserPreferences, request, &response).ok());
  }
  {
    user::v1::DeactivateUserRequest request;
    request.set_user_id(id);
    user::v1::DeactivateUserResponse response;
    REQUIRE(Call(stub, &Stub::DeactivateUser, request, &response).ok());
  }
  {
    user::v1::ReactivateUserRequest request;
    request.set_user_id(id);
    user::v1::ReactivateUserResponse response;
    REQUIRE(Call(stub, &Stub::ReactivateUser, request, &response).ok());
  }
  {
    user::v1::DeleteUserRequest request;
    request.set_user_id(id);
    user::v1::DeleteUserResponse response;
    REQUIRE(Call(stub, &Stub::DeleteUser, request, &response).ok());
  }
}

TEST_CASE(
    "Event stream: WatchUserEvents sends every kind of change as it commits, in id order, no "
    "tokens") {
  ServerProcess server;
  auto stub = server.stub();
  BlockingDb db;
  CreateTestUser(*stub);  // so that the next user's first event is not the outbox's first
  TestUser who = CreateTestUser(*stub);
  const std::string& id = who.user.id();
  // From just before the user's first event: user.created is read from the table, the rest
  // arrive from the feed as they commit.
  Watch watch(*stub, After(StoredIds(db, id).front() - 1, id));
  ChangeInEveryWay(*stub, db, who);
  const std::vector<UserEvent> events = watch.Until("user.deleted");
  CHECK(Ids(events) == StoredIds(db, id));
  std::set<std::string> types;
  for (const UserEvent& event : events) {
    INFO(event.id() << " " << event.event_type());
    types.insert(event.event_type());
    CHECK(event.user_id() == id);
    CHECK(event.created_at().seconds() > 0);
    CHECK_FALSE(event.payload().fields().contains("token"));
    // The rest of the payload is the outbox's, key for key.
    CHECK(db.Scalar("SELECT ($1::jsonb = payload - 'token')::text FROM user_events WHERE id = $2",
                    {PayloadJson(event), std::to_string(event.id())}) == "true");
  }
  CHECK(types.size() == 14);  // every type of ../shared/proto-schemas/README.md
}

TEST_CASE(
    "Event stream: with --watch_include_tokens a stream keeps the raw tokens in the payload") {
  ServerProcess::Options options;
  options.args = {"--watch_include_tokens"};
  ServerProcess server(options);
  auto stub = server.stub();
  BlockingDb db;
  TestUser who = CreateTestUser(*stub);
  Watch watch(*stub, After(LastEventId(db), who.user.id()));
  const std::string token = RequestVerification(*stub, db, who.user.id());
  const std::vector<UserEvent> events = watch.Until("user.email_verification_requested");
  REQUIRE_FALSE(events.empty());
  CHECK(events.back().payload().fields().at("token").string_value() == token);
}

TEST_CASE(
    "Event stream: a stream with after_id 0 sends only what commits after it, then every change") {
  ServerProcess server;
  auto stub = server.stub();
  BlockingDb db;
  TestUser who = CreateTestUser(*stub);
  const int64_t created = StoredIds(db, who.user.id()).front();
  Watch watch(*stub, After(0, who.user.id()));
  // The stream stands at the outbox's end once its first read is back, which the client cannot
  // see: change the user until an event arrives (at most 100 times, 100 ms apart).
  std::atomic<bool> first_seen = false;
  std::atomic<int> failed_updates = 0;
  std::thread writer([&] {
    for (int i = 0; i < 100 && !first_seen; ++i) {
      user::v1::UpdateUserRequest request;
      request.set_user_id(who.user.id());
      request.mutable_user()->set_first_name("Before" + std::to_string(i));
      request.mutable_update_mask()->add_paths("first_name");
      user::v1::UpdateUserResponse response;
      if (!Call(*stub, &Stub::UpdateUser, request, &response).ok()) ++failed_updates;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  UserEvent first;
  const bool got_first = watch.Next(&first);
  first_seen = true;
  writer.join();
  CHECK(failed_updates == 0);
  REQUIRE(got_first);
  CHECK(first.event_type() == "user.updated");  // never the user.created before the stream
  CHECK(first.id() > created);
  // From there on, every change and nothing twice.
  UpdateFirstName(*stub, who.user.id(), "After");
  std::vector<int64_t> stored;
  for (int64_t id : StoredIds(db, who.user.id())) {
    if (id >= first.id()) stored.push_back(id);
  }
  std::vector<int64_t> seen = {first.id()};
  for (const UserEvent& event : watch.Take(stored.size() - 1)) seen.push_back(event.id());
  CHECK(seen == stored);
}

TEST_CASE("Event stream: a stream's filters keep to the event types and the user asked for") {
  ServerProcess server;
  auto stub = server.stub();
  BlockingDb db;
  const int64_t start = LastEventId(db);
  TestUser ada = CreateTestUser(*stub);
  TestUser bob = CreateTestUser(*stub);
  WatchUserEventsRequest updates = After(start);
  updates.add_event_types("user.updated");
  updates.add_event_types("user.deleted");
  Watch only_updates(*stub, updates);
  Watch only_bob(*stub, After(start, bob.user.id()));
  UpdateFirstName(*stub, ada.user.id(), "Ada2");
  UpdateFirstName(*stub, bob.user.id(), "Bob2");
  {
    user::v1::DeleteUserRequest request;
    request.set_user_id(bob.user.id());
    user::v1::DeleteUserResponse response;
    REQUIRE(Call(*stub, &Stub::DeleteUser, request, &response).ok());
  }

  // Other tests change users meanwhile: this stream sees theirs too, but only of its types.
  std::set<std::string> ours_seen;
  UserEvent event;
  while (ours_seen.size() < 3 && only_updates.Next(&event)) {
    INFO(event.id() << " " << event.event_type());
    CHECK((event.event_type() == "user.updated" || event.event_type() == "user.deleted"));
    if (event.user_id() == ada.user.id() || event.user_id() == bob.user.id()) {
      ours_seen.insert(event.user_id() + " " + event.event_type());
    }
  }
  CHECK(ours_seen.size() == 3);
  const std::vector<UserEvent> bobs = only_bob.Until("user.deleted");
  CHECK(Ids(bobs) == StoredIds(db, bob.user.id()));
}

TEST_CASE("Event stream: a stream refuses a filter it cannot serve with the field at fault") {
  ServerProcess server;
  auto stub = server.stub();
  BlockingDb db;
  struct Case {
    WatchUserEventsRequest request;
    grpc::StatusCode code;
    std::string message_start;
  };
  std::vector<Case> cases(4);
  cases[0].request.set_after_id(-1);
  cases[0].code = grpc::StatusCode::INVALID_ARGUMENT;
  cases[0].message_start = "after_id: ";
  cases[1].request.add_event_types("user.created");
  cases[1].request.add_event_types("user.renamed");
  cases[1].code = grpc::StatusCode::INVALID_ARGUMENT;
  cases[1].message_start = "event_types[1]: ";
  cases[2].request.set_user_id("not-a-uuid");
  cases[2].code = grpc::StatusCode::INVALID_ARGUMENT;
  cases[2].message_start = "user_id: ";
  // An id no event has yet: the caller has the wrong outbox (or the wrong database).
  cases[3].request.set_after_id(LastEventId(db) + 1'000'000);
  cases[3].code = grpc::StatusCode::OUT_OF_RANGE;
  cases[3].message_start = "after_id: ";
  for (const Case& one : cases) {
    INFO(one.request.ShortDebugString());
    Watch watch(*stub, one.request);
    const grpc::Status status = watch.Finish();
    CHECK(status.error_code() == one.code);
    CHECK(status.error_message().rfind(one.message_start, 0) == 0);
  }
}

TEST_CASE(
    "Event stream: a stream resumed after a cut misses nothing and repeats nothing, out of id "
    "order too") {
  PrivateCluster cluster;
  cluster.Start();
  ServerProcess::Options options;
  options.database_url = cluster.url();
  ServerProcess server(options);
  auto stub = server.stub();
  BlockingDb db(cluster.url());
  TestUser who = CreateTestUser(*stub);
  const std::string& id = who.user.id();
  const int64_t created = LastEventId(db);
  auto first = std::make_unique<Watch>(*stub, After(created, id));

  // A transaction takes the next id and holds it open; an RPC then commits the id after it.
  BlockingDb holder(cluster.url());
  holder.Query("BEGIN");
  const int64_t held = std::stoll(
      holder.Scalar("INSERT INTO user_events (event_type, user_id, payload)"
                    " VALUES ('user.updated', $1::uuid, '{\"changed\": [\"held\"]}') RETURNING id",
                    {id}));
  UpdateFirstName(*stub, id, "Later");
  // And a stream that starts catching up from the table while the id is held.
  Watch catching_up(*stub, After(created, id));
  // Time for a stream that went by commit order to send the later id first.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  holder.Query("COMMIT");
  const std::vector<UserEvent> caught_up = catching_up.Take(2);
  REQUIRE(caught_up.size() == 2);
  CHECK(caught_up[0].id() == held);
  CHECK(caught_up[1].id() > held);

  std::vector<UserEvent> got = first->Take(1);
  REQUIRE(got.size() == 1);
  CHECK(got[0].id() == held);  // the earlier id first, though it committed last
  first->Cancel();
  first.reset();

  // While no stream is open, more changes commit; the resumed stream has them all, once.
  UpdateFirstName(*stub, id, "Meanwhile");
  Watch resumed(*stub, After(got[0].id(), id));
  UpdateFirstName(*stub, id, "After");
  for (const UserEvent& event : resumed.Take(3)) got.push_back(event);
  std::vector<int64_t> stored = StoredIds(db, id);
  stored.erase(stored.begin());  // user.created, before the first stream
  CHECK(Ids(got) == stored);
}

TEST_CASE(
    "Event stream: events committed while the notification connection is down arrive once it is "
    "back") {
  PrivateCluster cluster;
  cluster.Start();
  ServerProcess::Options options;
  options.database_url = cluster.url();
  ServerProcess server(options);
  auto stub = server.stub();
  BlockingDb db(cluster.url());
  TestUser who = CreateTestUser(*stub);
  Watch watch(*stub, After(LastEventId(db), who.user.id()));
  UpdateFirstName(*stub, who.user.id(), "Before");
  REQUIRE(watch.Take(1).size() == 1);  // the stream is on the feed

  // The listening backend goes; the changes after it commit with nobody listening.
  CHECK(db.Scalar("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                  " WHERE application_name = 'usersvc-events'") == "1");
  for (int i = 0; i < 5; ++i) UpdateFirstName(*stub, who.user.id(), "During" + std::to_string(i));
  const std::vector<UserEvent> got = watch.Take(5);
  std::vector<int64_t> stored = StoredIds(db, who.user.id());
  CHECK(Ids(got) == std::vector<int64_t>(stored.end() - 5, stored.end()));
}

TEST_CASE(
    "Event stream: a reader too slow for its stream is ended RESOURCE_EXHAUSTED and resumes the "
    "rest") {
  PrivateCluster cluster;
  cluster.Start();
  ServerProcess::Options options;
  options.database_url = cluster.url();
  ServerProcess server(options);
  auto stub = server.stub();
  BlockingDb db(cluster.url());
  CreateTestUser(*stub);  // an event to start after (after_id 0 would mean "from now")
  const int64_t start = LastEventId(db);
  constexpr int kEvents = 100'000;  // about 15 MB of messages: more than gRPC's windows hold
  Watch slow(*stub, After(start), 120);
  // A stream that asks only for the marker after them: once it has that, the feed has offered
  // the slow stream every one of the 100,000, and the slow stream's queue must have overflowed.
  WatchUserEventsRequest marker_only = After(start);
  marker_only.add_event_types("user.deleted");
  Watch marker(*stub, marker_only, 120);
  db.Query(
      fmt::format("INSERT INTO user_events (event_type, user_id, payload)"
                  " SELECT 'user.updated', gen_random_uuid(),"
                  " jsonb_build_object('changed', jsonb_build_array('first_name'), 'n', n)"
                  " FROM generate_series(1, {}) n",
                  kEvents));
  db.Query(
      "INSERT INTO user_events (event_type, user_id, payload)"
      " VALUES ('user.deleted', gen_random_uuid(), '{}')");
  REQUIRE(marker.Take(1).size() == 1);
  std::vector<UserEvent> got;
  UserEvent event;
  while (slow.Next(&event)) got.push_back(event);
  const grpc::Status status = slow.Finish();
  CHECK(status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  REQUIRE(got.size() < static_cast<size_t>(kEvents));
  fmt::print(stderr, "figure: a reader that did not read got {} of {} events, then {}\n",
             got.size(), kEvents, status.error_message());
  // What it got has no gap, and a resume from its last id brings the rest, once each.
  Watch resumed(*stub, After(got.empty() ? start : got.back().id()), 120);
  std::vector<UserEvent> rest = resumed.Take(kEvents - got.size());
  got.insert(got.end(), rest.begin(), rest.end());
  REQUIRE(got.size() == static_cast<size_t>(kEvents));
  for (size_t i = 0; i < got.size(); ++i) {
    if (got[i].id() != start + 1 + static_cast<int64_t>(i)) {
      FAIL("event " << i << " has id " << got[i].id());
    }
  }
}

TEST_CASE(
    "Event stream: a stream cannot resume from before what the outbox still holds: OUT_OF_RANGE") {
  PrivateCluster cluster;
  cluster.Start();
  ServerProcess::Options options;
  options.database_url = cluster.url();
  ServerProcess server(options);
  auto stub = server.stub();
  BlockingDb db(cluster.url());
  TestUser first = CreateTestUser(*stub);  // the cluster's first event: after_id 0 means "now"
  TestUser ada = CreateTestUser(*stub);
  TestUser bob = CreateTestUser(*stub);
  const int64_t first_created = StoredIds(db, first.user.id()).front();
  const int64_t ada_created = StoredIds(db, ada.user.id()).front();
  const int64_t bob_created = StoredIds(db, bob.user.id()).front();
  // An operator purges the outbox up to Ada's event.
  db.Query("DELETE FROM user_events WHERE id <= $1", {std::to_string(ada_created)});
  {
    Watch watch(*stub, After(first_created));
    const grpc::Status status = watch.Finish();
    CHECK(status.error_code() == grpc::StatusCode::OUT_OF_RANGE);
    CHECK(status.error_message().rfind("after_id: ", 0) == 0);
  }
  // From the purge on, nothing is missing: the stream goes on.
  Watch watch(*stub, After(ada_created));
  UserEvent event;
  REQUIRE(watch.Next(&event));
  CHECK(event.id() == bob_created);
  // TRUNCATE counts too.
  db.Query("TRUNCATE user_events");
  Watch after_truncate(*stub, After(ada_created));
  CHECK(after_truncate.Finish().error_code() == grpc::StatusCode::OUT_OF_RANGE);
}

}  // namespace
}  // namespace usersvc::test
