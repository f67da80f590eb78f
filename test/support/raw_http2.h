#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace usersvc::test {

/// One HTTP/2 frame as read off the wire.
struct Http2Frame {
  uint8_t type = 0;  // 0 DATA, 1 HEADERS, 3 RST_STREAM, 4 SETTINGS, 7 GOAWAY, ...
  uint8_t flags = 0;
  uint32_t stream = 0;
  std::string payload;

  bool ends_stream() const { return (type == 0 || type == 1) && (flags & 0x1) != 0; }
};

/// A plain TCP connection to a loopback port, for writing HTTP/2 by hand: what a broken or
/// hostile client would send, and what a server answers frame by frame.
class RawHttp2Connection {
 public:
  explicit RawHttp2Connection(int port);
  ~RawHttp2Connection();
  RawHttp2Connection(const RawHttp2Connection&) = delete;
  RawHttp2Connection& operator=(const RawHttp2Connection&) = delete;

  void Send(const std::string& bytes);

  /// Frames of `stream` (and connection-level GOAWAYs) until the server ends that stream
  /// (END_STREAM or RST_STREAM) or the connection, or `seconds` pass. `ended` says whether it did.
  std::vector<Http2Frame> ReadStream(uint32_t stream, double seconds, bool* ended);

 private:
  int fd_ = -1;
  std::string buffer_;
};

/// A frame: 9-byte header and `payload`.
std::string Http2FrameBytes(uint8_t type, uint8_t flags, uint32_t stream,
                            const std::string& payload);

/// The client connection preface and an empty SETTINGS frame.
std::string Http2Preface();

/// A HEADERS frame (END_HEADERS) for a gRPC call of `path` on `stream`. The header block uses
/// HPACK literals without indexing or Huffman coding, which every decoder takes.
std::string GrpcRequestHeaders(uint32_t stream, const std::string& path);

/// One length-prefixed gRPC message (uncompressed) carrying `message`.
std::string GrpcMessage(const std::string& message);

}  // namespace usersvc::test
