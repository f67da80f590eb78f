#include "test/support/raw_http2.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

#include <catch2/catch.hpp>

namespace usersvc::test {
namespace {

std::string HpackLiteral(const std::string& name, const std::string& value) {
  return std::string(1, '\0') + static_cast<char>(name.size()) + name +
         static_cast<char>(value.size()) + value;
}

}  // namespace

RawHttp2Connection::RawHttp2Connection(int port) {
  fd_ = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(port));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(connect(fd_, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0);
}

RawHttp2Connection::~RawHttp2Connection() { close(fd_); }

void RawHttp2Connection::Send(const std::string& bytes) {
  REQUIRE(write(fd_, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
}

std::vector<Http2Frame> RawHttp2Connection::ReadStream(uint32_t stream, double seconds,
                                                       bool* ended) {
  std::vector<Http2Frame> frames;
  *ended = false;
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < until) {
    while (buffer_.size() >= 9) {
      const auto byte = [&](size_t i) { return static_cast<uint8_t>(buffer_[i]); };
      const size_t length = (byte(0) << 16) | (byte(1) << 8) | byte(2);
      if (buffer_.size() < 9 + length) break;
      Http2Frame frame;
      frame.type = byte(3);
      frame.flags = byte(4);
      frame.stream = ((byte(5) & 0x7fu) << 24) | (byte(6) << 16) | (byte(7) << 8) | byte(8);
      frame.payload = buffer_.substr(9, length);
      buffer_.erase(0, 9 + length);
      if (frame.type == 0x7) {  // GOAWAY: the connection is over
        frames.push_back(frame);
        *ended = true;
        return frames;
      }
      if (frame.stream != stream) continue;
      frames.push_back(frame);
      if (frame.ends_stream() || frame.type == 0x3) {
        *ended = true;
        return frames;
      }
    }
    pollfd readable{fd_, POLLIN, 0};
    if (poll(&readable, 1, 100) <= 0) continue;
    char chunk[4096];
    const ssize_t n = read(fd_, chunk, sizeof chunk);
    if (n <= 0) {  // closed
      *ended = true;
      return frames;
    }
    buffer_.append(chunk, static_cast<size_t>(n));
  }
  return frames;
}

std::string Http2FrameBytes(uint8_t type, uint8_t flags, uint32_t stream,
                            const std::string& payload) {
  std::string frame;
  const size_t n = payload.size();
  frame += {static_cast<char>(n >> 16), static_cast<char>(n >> 8), static_cast<char>(n)};
  frame += {static_cast<char>(type), static_cast<char>(flags)};
  frame += {static_cast<char>(stream >> 24), static_cast<char>(stream >> 16),
            static_cast<char>(stream >> 8), static_cast<char>(stream)};
  return frame + payload;
}

std::string Http2Preface() {
  return std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") + Http2FrameBytes(0x4, 0, 0, "");
}

std::string GrpcRequestHeaders(uint32_t stream, const std::string& path) {
  const std::string block = HpackLiteral(":method", "POST") + HpackLiteral(":scheme", "http") +
                            HpackLiteral(":path", path) + HpackLiteral(":authority", "localhost") +
                            HpackLiteral("content-type", "application/grpc") +
                            HpackLiteral("te", "trailers");
  return Http2FrameBytes(0x1, 0x4, stream, block);
}

std::string GrpcMessage(const std::string& message) {
  const size_t n = message.size();
  return std::string(1, '\0') +
         std::string{static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                     static_cast<char>(n >> 8), static_cast<char>(n)} +
         message;
}

}  // namespace usersvc::test
