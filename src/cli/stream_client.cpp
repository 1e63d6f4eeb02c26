#include "cli/stream_client.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "api/http_body.hpp"
#include "api/stream.hpp"
#include "util/fd.hpp"

namespace twinbox::cli {

namespace {

constexpr size_t kChunk = size_t{256} * 1024;
constexpr size_t kMaxCollected = size_t{64} << 20;

Result<size_t> read_fd(int fd, char* buf, size_t len) {
  for (;;) {
    ssize_t n = ::read(fd, buf, len);
    if (n >= 0) return static_cast<size_t>(n);
    if (errno == EINTR) continue;
    return make_error(ErrorCode::Io, std::string("read the request body: ") + strerror(errno));
  }
}

// The rest of a regular file, or nullopt-like -1 for a stream whose length is unknown.
int64_t remaining_regular(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return -1;
  off_t pos = ::lseek(fd, 0, SEEK_CUR);
  if (pos < 0) pos = 0;
  return st.st_size > pos ? static_cast<int64_t>(st.st_size - pos) : 0;
}

// Sends the body. A write error means the daemon stopped reading (or vanished); an error
// reading the source sets *local, so it is not hidden behind the daemon's view of a cut body.
Status send_body(int sock, const RequestBody& body, int64_t length, bool* local) {
  if (body.fd < 0) return write_all(sock, body.data);
  std::vector<char> buf(kChunk);
  auto next = [&](size_t want) -> Result<size_t> {
    auto n = read_fd(body.fd, buf.data(), want);
    if (!n) *local = true;
    return n;
  };
  if (length >= 0) {
    auto left = static_cast<uint64_t>(length);
    while (left > 0) {
      TRY_ASSIGN(size_t n, next(static_cast<size_t>(std::min<uint64_t>(left, buf.size()))));
      if (n == 0) {
        *local = true;
        return make_error(ErrorCode::Io, "the file shrank while it was being sent");
      }
      TRY(write_all(sock, std::string_view(buf.data(), n)));
      left -= n;
    }
    return {};
  }
  for (;;) {
    TRY_ASSIGN(size_t n, next(buf.size()));
    char size_line[32];
    std::snprintf(size_line, sizeof size_line, "%zx\r\n", n);
    if (n == 0) return write_all(sock, "0\r\n\r\n");
    TRY(write_all(sock, size_line));
    TRY(write_all(sock, std::string_view(buf.data(), n)));
    TRY(write_all(sock, "\r\n"));
  }
}

// Hands the payload to the sink as it arrives.
Status deliver(api::Stream& s, const api::http::Framing& f, const Sink& sink) {
  using api::http::BodyKind;
  auto more = [&s](const char* what) -> Status {
    TRY_ASSIGN(size_t n, s.fill());
    if (n == 0) return make_error(ErrorCode::Io, std::string("connection closed inside ") + what);
    return {};
  };
  auto& buf = s.buffer();
  switch (f.kind) {
    case BodyKind::None:
      return {};
    case BodyKind::Length: {
      uint64_t left = f.length;
      while (left > 0) {
        if (buf.empty()) TRY(more("the answer"));
        size_t n = static_cast<size_t>(std::min<uint64_t>(left, buf.size()));
        TRY(sink(std::string_view(buf.data(), n)));
        buf.erase(0, n);
        left -= n;
      }
      return {};
    }
    case BodyKind::Chunked: {
      api::http::ChunkedDecoder dec;
      std::string payload;
      while (!dec.done()) {
        if (buf.empty()) TRY(more("the chunked answer"));
        TRY_ASSIGN(size_t used, dec.feed(buf, &payload));
        buf.erase(0, used);
        if (!payload.empty()) TRY(sink(payload));
        payload.clear();
      }
      return {};
    }
    case BodyKind::UntilClose:
      for (;;) {
        if (!buf.empty()) TRY(sink(buf));
        buf.clear();
        TRY_ASSIGN(size_t n, s.fill());
        if (n == 0) return {};
      }
  }
  return {};
}

}  // namespace

Result<CallResult> call(const std::string& socket_path, const std::string& method,
                        const std::string& target, const RequestBody& body, const Sink& sink) {
  std::string what = method + " " + target;
  auto fd = connect_unix(socket_path);
  if (!fd)
    return fd.error().context("twinboxd is not answering on " + socket_path +
                              " (is it running? start it with scripts/run)");
  api::Stream s(std::move(fd).value());

  int64_t length =
      body.fd >= 0 ? remaining_regular(body.fd) : static_cast<int64_t>(body.data.size());
  std::string head = method + " " + target +
                     " HTTP/1.1\r\nHost: twinbox\r\nUser-Agent: twinbox-cli\r\n"
                     "Connection: close\r\n";
  if (!body.content_type.empty()) head += "Content-Type: " + body.content_type + "\r\n";
  if (length >= 0) {
    // Even an empty POST says so: Docker's API refuses length-less POSTs from some clients.
    if (length > 0 || method != "GET") head += "Content-Length: " + std::to_string(length) + "\r\n";
  } else {
    head += "Transfer-Encoding: chunked\r\n";
  }
  head += "\r\n";

  bool local_error = false;
  Status sent = write_all(s.fd(), head);
  if (sent) sent = send_body(s.fd(), body, length, &local_error);
  if (local_error) return sent.error();

  auto rh = api::read_response_head(s);
  while (rh.state == api::HeadRead<api::http::ResponseHead>::State::Ok && rh.head.status >= 100 &&
         rh.head.status < 200)
    rh = api::read_response_head(s);
  if (rh.state != api::HeadRead<api::http::ResponseHead>::State::Ok) {
    if (!sent) return sent.error().context(what + ": sending the request to twinboxd");
    return make_error(ErrorCode::Io, what + ": twinboxd gave no valid answer: " +
                                         (rh.error.empty() ? "connection closed" : rh.error));
  }
  auto framing = api::http::response_framing(method, rh.head);
  if (!framing) return framing.error().context(what);
  CallResult out;
  out.status = rh.head.status;
  out.headers = std::move(rh.head.headers);
  if (sink && out.status >= 200 && out.status < 300) {
    if (auto st = deliver(s, *framing, sink); !st) return st.error().context(what);
  } else {
    auto b = api::read_body(s, *framing, kMaxCollected);
    if (!b) return b.error().context(what);
    out.body = std::move(b).value();
  }
  return out;
}

}  // namespace twinbox::cli
