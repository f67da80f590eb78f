#pragma once

namespace usersvc::server {

/// Everything this server posts to a completion queue is a Tag. `ok` is the queue's verdict: false
/// means the operation will not happen (call cancelled, alarm cancelled, server shutting down),
/// which is not a failure of ours.
class Tag {
 public:
  virtual void Proceed(bool ok) = 0;

 protected:
  ~Tag() = default;
};

/// The one place where a completion queue's void* becomes an object again.
inline Tag* TagFromCompletionQueue(void* tag) { return static_cast<Tag*>(tag); }

/// A Tag that calls a member function of its owner, so one object can await several operations.
template <typename Owner, void (Owner::*kMethod)(bool)>
class MemberTag final : public Tag {
 public:
  explicit MemberTag(Owner* owner) : owner_(owner) {}
  void Proceed(bool ok) override { (owner_->*kMethod)(ok); }

 private:
  Owner* owner_;
};

}  // namespace usersvc::server
