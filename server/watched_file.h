#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <absl/functional/any_invocable.h>
#include <absl/status/status.h>
#include <absl/status/statusor.h>
#include <absl/time/time.h>

namespace usersvc::server {

/// A configuration file that is read again whenever it changes (a key rotation rewrites the JWKS;
/// Kubernetes swaps a mounted ConfigMap's symlink), without a restart. A thread of its own looks
/// at the file's inode, size and modification time once per `interval`, so no call ever waits for
/// the disk. A new content that does not load is logged and the previous one stays in force.
class WatchedFile {
 public:
  /// Reads `path` and hands its content to `load`, which parses and installs it (an error, and no
  /// watching, if either fails); then keeps watching on a thread named `thread_name`.
  /// `on_failure` runs on the watching thread each time a changed file does not load.
  static absl::StatusOr<std::unique_ptr<WatchedFile>> Watch(
      std::string path, std::string thread_name,
      absl::AnyInvocable<absl::Status(const std::string& content)> load,
      absl::AnyInvocable<void()> on_failure, absl::Duration interval = absl::Seconds(1));
  ~WatchedFile();

 private:
  struct Stamp {
    ino_t inode = 0;
    off_t size = -1;
    timespec modified{};
    bool operator==(const Stamp& other) const;
  };

  WatchedFile(std::string path, absl::AnyInvocable<absl::Status(const std::string&)> load,
              absl::AnyInvocable<void()> on_failure, absl::Duration interval);
  /// Loads the file if its stamp differs from the last one loaded.
  absl::Status LoadIfChanged();
  void Run(const std::string& thread_name);

  const std::string path_;
  absl::AnyInvocable<absl::Status(const std::string&)> load_;
  absl::AnyInvocable<void()> on_failure_;
  const absl::Duration interval_;
  Stamp loaded_;  // only on the watching thread, once started
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mutex_
  std::thread thread_;
};

}  // namespace usersvc::server
