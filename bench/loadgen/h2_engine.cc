#include "bench/loadgen/h2_engine.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>
#include <unordered_map>

#include <absl/time/clock.h>
#include <fmt/format.h>
#include <nghttp2/nghttp2.h>

namespace usersvc::bench {
namespace {

nghttp2_nv Header(std::string_view name, std::string_view value) {
  // nghttp2 copies neither: the strings live in the Load for its whole run.
  return {reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
          reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(), value.size(),
          NGHTTP2_NV_FLAG_NONE};
}

/// One call in flight.
struct Stream {
  const std::string* frame;  // the 5-byte gRPC prefix and the message
  size_t offset = 0;
  absl::Time sent;
  int http_status = 0;
  int grpc_status = -1;
  std::string grpc_message;
};

class Load;

/// One TCP connection and its nghttp2 client session.
struct Connection {
  Load* load = nullptr;
  int fd = -1;
  nghttp2_session* session = nullptr;
  std::unordered_map<int32_t, std::unique_ptr<Stream>> streams;  // the calls in flight
  int quota = 0;       // calls this connection keeps in flight
  std::string output;  // frames nghttp2 produced that the socket has not taken yet
  bool want_write = false;
  bool broken = false;
};

class Load {
 public:
  explicit Load(const H2Run& run) : run_(run) {
    for (const std::string& body : run_.bodies) {
      std::string frame(5, '\0');
      const uint32_t length = htonl(static_cast<uint32_t>(body.size()));
      std::memcpy(frame.data() + 1, &length, 4);
      frames_.push_back(frame + body);
    }
    authority_ = fmt::format("{}:{}", run_.host, run_.port);
    timeout_ = fmt::format("{}m", absl::ToInt64Milliseconds(run_.timeout));
  }

  Report Run() {
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    const int connections = std::max(1, run_.connections);
    connections_.resize(connections);
    for (int i = 0; i < connections; ++i) {
      Connection& connection = connections_[i];
      connection.load = this;
      connection.quota = run_.concurrency / connections + (i < run_.concurrency % connections);
      Open(connection);
    }
    started_ = absl::Now();
    for (Connection& connection : connections_) Fill(connection);
    epoll_event events[64];
    while (pending_ > 0 || (!Done() && AnyConnectionUsable())) {
      for (Connection& connection : connections_) Flush(connection);
      const int n = epoll_wait(epoll_, events, 64, 100);
      for (int i = 0; i < n; ++i) {
        auto* connection = static_cast<Connection*>(events[i].data.ptr);
        if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) Receive(*connection);
        // EPOLLOUT needs nothing here: every turn flushes every connection.
      }
      if (absl::Now() > started_ + run_.duration + run_.timeout + absl::Seconds(5) &&
          run_.duration > absl::ZeroDuration()) {
        break;  // the server stopped answering: give up on what is left
      }
    }
    report_.SetTotal(absl::ToInt64Nanoseconds(absl::Now() - started_));
    for (Connection& connection : connections_) Close(connection);
    close(epoll_);
    return std::move(report_);
  }

 private:
  static ssize_t ReadBody(nghttp2_session*, int32_t, uint8_t* buffer, size_t length,
                          uint32_t* flags, nghttp2_data_source* source, void*) {
    auto* stream = static_cast<Stream*>(source->ptr);
    const size_t chunk = std::min(length, stream->frame->size() - stream->offset);
    std::memcpy(buffer, stream->frame->data() + stream->offset, chunk);
    stream->offset += chunk;
    if (stream->offset == stream->frame->size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(chunk);
  }

  static int OnHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                      size_t name_length, const uint8_t* value, size_t value_length, uint8_t,
                      void* user_data) {
    auto* connection = static_cast<Connection*>(user_data);
    auto found = connection->streams.find(frame->hd.stream_id);
    if (found == connection->streams.end()) return 0;
    Stream* stream = found->second.get();
    const std::string_view key(reinterpret_cast<const char*>(name), name_length);
    const std::string_view text(reinterpret_cast<const char*>(value), value_length);
    if (key == ":status") {
      std::from_chars(text.data(), text.data() + text.size(), stream->http_status);
    } else if (key == "grpc-status") {
      std::from_chars(text.data(), text.data() + text.size(), stream->grpc_status);
    } else if (key == "grpc-message") {
      stream->grpc_message = text;
    }
    return 0;
  }

  static int OnStreamClose(nghttp2_session*, int32_t stream_id, uint32_t error_code,
                           void* user_data) {
    auto* connection = static_cast<Connection*>(user_data);
    auto found = connection->streams.find(stream_id);
    if (found == connection->streams.end()) return 0;
    std::unique_ptr<Stream> stream = std::move(found->second);
    connection->streams.erase(found);
    grpc::Status status;
    if (stream->grpc_status >= 0) {
      status =
          grpc::Status(static_cast<grpc::StatusCode>(stream->grpc_status), stream->grpc_message);
    } else {
      status = grpc::Status(grpc::StatusCode::UNAVAILABLE,
                            fmt::format("stream closed without grpc-status (HTTP {}, error {})",
                                        stream->http_status, error_code));
    }
    connection->load->Finished(*connection, *stream, status);
    return 0;
  }

  void Open(Connection& connection) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(run_.port));
    inet_pton(AF_INET, run_.host.c_str(), &address.sin_addr);
    connection.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    setsockopt(connection.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    // Connected while still blocking: a loopback connect is immediate, and a refused one is an
    // answer worth having before the run starts.
    if (connect(connection.fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      connection.broken = true;
      return;
    }
    fcntl(connection.fd, F_SETFL, fcntl(connection.fd, F_GETFL) | O_NONBLOCK);
    nghttp2_session_callbacks* callbacks;
    nghttp2_session_callbacks_new(&callbacks);
    nghttp2_session_callbacks_set_on_header_callback(callbacks, OnHeader);
    nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, OnStreamClose);
    nghttp2_session_client_new(&connection.session, callbacks, &connection);
    nghttp2_session_callbacks_del(callbacks);
    // Windows large enough that flow control never paces a benchmark.
    const nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, (1u << 30)},
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
    };
    nghttp2_submit_settings(connection.session, NGHTTP2_FLAG_NONE, settings, 2);
    nghttp2_session_set_local_window_size(connection.session, NGHTTP2_FLAG_NONE, 0, (1 << 30));
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.ptr = &connection;
    epoll_ctl(epoll_, EPOLL_CTL_ADD, connection.fd, &event);
  }

  void Close(Connection& connection) {
    if (connection.session != nullptr) nghttp2_session_del(connection.session);
    if (connection.fd >= 0) close(connection.fd);
    connection.session = nullptr;
    connection.fd = -1;
  }

  bool Done() const {
    if (run_.limit > 0 && issued_ >= run_.limit) return true;
    return run_.duration > absl::ZeroDuration() && absl::Now() >= started_ + run_.duration;
  }

  bool AnyConnectionUsable() const {
    for (const Connection& connection : connections_) {
      if (!connection.broken) return true;
    }
    return false;
  }

  void Fill(Connection& connection) {
    auto in_flight = [&] { return static_cast<int>(connection.streams.size()); };
    while (!connection.broken && in_flight() < connection.quota && !Done()) Send(connection);
    if (connection.broken) {
      // Every call this connection would have made fails at once, as a gRPC client's would.
      for (int i = 0; i < connection.quota && !Done(); ++i) {
        ++issued_;
        report_.Record(0, grpc::Status(grpc::StatusCode::UNAVAILABLE, "connection failed"));
      }
    }
  }

  void Send(Connection& connection) {
    auto stream = std::make_unique<Stream>();
    stream->frame = &frames_[issued_ % frames_.size()];
    stream->sent = absl::Now();
    std::vector<nghttp2_nv> headers = {
        Header(":method", "POST"),
        Header(":scheme", "http"),
        Header(":path", run_.path),
        Header(":authority", authority_),
        Header("content-type", "application/grpc"),
        Header("te", "trailers"),
        Header("grpc-timeout", timeout_),
    };
    for (const auto& [key, value] : run_.metadata) headers.push_back(Header(key, value));
    nghttp2_data_provider body{};
    body.source.ptr = stream.get();
    body.read_callback = ReadBody;
    const int32_t id = nghttp2_submit_request(connection.session, nullptr, headers.data(),
                                              headers.size(), &body, nullptr);
    if (id < 0) return Break(connection);
    connection.streams.emplace(id, std::move(stream));
    ++issued_;
    ++pending_;
  }

  void Finished(Connection& connection, const Stream& stream, const grpc::Status& status) {
    report_.Record(absl::ToInt64Nanoseconds(absl::Now() - stream.sent), status);
    --pending_;
    if (!connection.broken) Fill(connection);
  }

  void Receive(Connection& connection) {
    uint8_t buffer[64 * 1024];
    while (true) {
      const ssize_t n = recv(connection.fd, buffer, sizeof buffer, 0);
      if (n > 0) {
        if (nghttp2_session_mem_recv(connection.session, buffer, static_cast<size_t>(n)) < 0) {
          return Break(connection);
        }
        if (static_cast<size_t>(n) < sizeof buffer)
          return;  // drained; epoll says when there is more
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      return Break(connection);  // closed by the server, or failed
    }
  }

  // Everything nghttp2 has to send goes out in one send() per turn of the loop, not one per frame.
  void Flush(Connection& connection) {
    if (connection.broken || connection.session == nullptr) return;
    while (true) {
      const uint8_t* data = nullptr;
      const ssize_t produced = nghttp2_session_mem_send(connection.session, &data);
      if (produced < 0) return Break(connection);
      if (produced == 0) break;
      connection.output.append(reinterpret_cast<const char*>(data), static_cast<size_t>(produced));
    }
    if (!connection.output.empty()) {
      const ssize_t written =
          send(connection.fd, connection.output.data(), connection.output.size(), MSG_NOSIGNAL);
      if (written < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return Break(connection);
      if (written > 0) connection.output.erase(0, static_cast<size_t>(written));
    }
    const bool want_write = !connection.output.empty();
    if (want_write == connection.want_write) return;
    epoll_event event{};
    event.events = EPOLLIN | (want_write ? EPOLLOUT : 0u);
    event.data.ptr = &connection;
    epoll_ctl(epoll_, EPOLL_CTL_MOD, connection.fd, &event);
    connection.want_write = want_write;
  }

  void Break(Connection& connection) {
    if (connection.broken) return;
    connection.broken = true;
    epoll_ctl(epoll_, EPOLL_CTL_DEL, connection.fd, nullptr);
    for (auto& [id, stream] : connection.streams) {
      report_.Record(absl::ToInt64Nanoseconds(absl::Now() - stream->sent),
                     grpc::Status(grpc::StatusCode::UNAVAILABLE, "connection lost"));
      --pending_;
    }
    connection.streams.clear();
  }

  const H2Run& run_;
  std::vector<std::string> frames_;
  std::string authority_;
  std::string timeout_;
  std::vector<Connection> connections_;
  int epoll_ = -1;
  absl::Time started_;
  int64_t issued_ = 0;
  int64_t pending_ = 0;
  Report report_;
};

}  // namespace

Report RunH2(const H2Run& run) { return Load(run).Run(); }

}  // namespace usersvc::bench
