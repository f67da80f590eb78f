#include "server/watched_file.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "base/log.h"
#include "storage/thread_name.h"

namespace usersvc::server {

bool WatchedFile::Stamp::operator==(const Stamp& other) const {
  return inode == other.inode && size == other.size && modified.tv_sec == other.modified.tv_sec &&
         modified.tv_nsec == other.modified.tv_nsec;
}

WatchedFile::WatchedFile(std::string path,
                         absl::AnyInvocable<absl::Status(const std::string&)> load,
                         absl::AnyInvocable<void()> on_failure, absl::Duration interval)
    : path_(std::move(path)),
      load_(std::move(load)),
      on_failure_(std::move(on_failure)),
      interval_(interval) {}

absl::StatusOr<std::unique_ptr<WatchedFile>> WatchedFile::Watch(
    std::string path, std::string thread_name,
    absl::AnyInvocable<absl::Status(const std::string&)> load,
    absl::AnyInvocable<void()> on_failure, absl::Duration interval) {
  std::unique_ptr<WatchedFile> file(
      new WatchedFile(std::move(path), std::move(load), std::move(on_failure), interval));
  if (absl::Status loaded = file->LoadIfChanged(); !loaded.ok()) return loaded;
  file->thread_ = std::thread(
      [file = file.get(), thread_name = std::move(thread_name)] { file->Run(thread_name); });
  return file;
}

WatchedFile::~WatchedFile() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

absl::Status WatchedFile::LoadIfChanged() {
  struct stat info {};
  if (stat(path_.c_str(), &info) != 0) {
    return absl::NotFoundError("cannot read " + path_);
  }
  const Stamp stamp{info.st_ino, info.st_size, info.st_mtim};
  if (stamp == loaded_) return absl::OkStatus();
  std::ifstream in(path_, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  if (!in) return absl::NotFoundError("cannot read " + path_);
  if (absl::Status loaded = load_(content.str()); !loaded.ok()) {
    // The stamp is kept anyway: the same bad content is reported once, not every second.
    loaded_ = stamp;
    return absl::InvalidArgumentError(path_ + ": " + std::string(loaded.message()));
  }
  loaded_ = stamp;
  return absl::OkStatus();
}

void WatchedFile::Run(const std::string& thread_name) {
  NameThisThread(thread_name);
  std::unique_lock lock(mutex_);
  while (
      !wake_.wait_for(lock, absl::ToChronoNanoseconds(interval_), [this] { return stopping_; })) {
    lock.unlock();
    const Stamp before = loaded_;
    absl::Status status = LoadIfChanged();
    if (!status.ok()) {
      Log(LogLevel::kError, "configuration file not reloaded; the previous content stays",
          {{"error", status.message()}});
      if (on_failure_) on_failure_();
    } else if (!(loaded_ == before)) {
      Log(LogLevel::kInfo, "configuration file reloaded", {{"path", path_}});
    }
    lock.lock();
  }
}

}  // namespace usersvc::server
