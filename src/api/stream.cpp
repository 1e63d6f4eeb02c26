#include "api/stream.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace twinbox::api {

namespace {
constexpr size_t kReadChunk = size_t{64} * 1024;
}

void Stream::set_read_timeout(std::chrono::milliseconds t) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(t.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((t.count() % 1000) * 1000);
  ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

Result<size_t> Stream::fill() {
  if (cancel_fd_ >= 0) {
    pollfd fds[2] = {{fd_.get(), POLLIN, 0}, {cancel_fd_, POLLIN, 0}};
    while (::poll(fds, 2, -1) < 0) {
      if (errno != EINTR) return make_error(ErrorCode::Io, std::string("poll: ") + strerror(errno));
    }
    if (fds[0].revents == 0 && fds[1].revents != 0)
      return make_error(ErrorCode::Unavailable, "twinboxd is shutting down");
  }
  char tmp[kReadChunk];
  for (;;) {
    ssize_t n = ::read(fd_.get(), tmp, sizeof tmp);
    if (n >= 0) {
      buf_.append(tmp, static_cast<size_t>(n));
      return static_cast<size_t>(n);
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
      return make_error(ErrorCode::Timeout, "read timed out");
    return make_error(ErrorCode::Io, std::string("read: ") + strerror(errno));
  }
}

template <class T, class Parse>
static HeadRead<T> read_head(Stream& s, Parse parse) {
  HeadRead<T> out;
  size_t scanned = 0;
  for (;;) {
    auto& buf = s.buffer();
    bool maybe_complete = http::find_head_end(buf, scanned).has_value();
    scanned = buf.size();
    if (maybe_complete || buf.size() > http::kMaxHeadBytes) {
      auto p = parse(buf);
      if (p.state == http::ParseState::Complete) {
        buf.erase(0, p.consumed);
        out.state = HeadRead<T>::State::Ok;
        out.head = std::move(p.head);
        return out;
      }
      if (p.state == http::ParseState::Error) {
        out.status = p.status;
        out.error = std::move(p.error);
        return out;
      }
    }
    auto n = s.fill();
    if (!n) {
      out.error = n.error().message;
      return out;
    }
    if (*n == 0) {
      bool idle = buf.find_first_not_of("\r\n") == std::string::npos;
      if (idle)
        out.state = HeadRead<T>::State::Eof;
      else
        out.error = "connection closed in the middle of a head";
      return out;
    }
  }
}

HeadRead<http::RequestHead> read_request_head(Stream& s) {
  return read_head<http::RequestHead>(
      s, [](std::string_view b) { return http::parse_request_head(b); });
}

HeadRead<http::ResponseHead> read_response_head(Stream& s) {
  return read_head<http::ResponseHead>(
      s, [](std::string_view b) { return http::parse_response_head(b); });
}

namespace {

// Sends `n` buffered bytes on (and to `decoded`), then drops them from the buffer.
Status pass_on(Stream& from, size_t n, int to_fd, std::string* decoded, size_t max_decoded) {
  std::string_view out(from.buffer().data(), n);
  if (to_fd >= 0) {
    if (auto st = write_all(to_fd, out); !st) return st.error().context("forward body");
  }
  if (decoded) {
    decoded->append(out);
    if (decoded->size() > max_decoded)
      return make_error(ErrorCode::InvalidArgument,
                        "body larger than " + std::to_string(max_decoded) + " bytes");
  }
  from.buffer().erase(0, n);
  return {};
}

// Ensures the buffer has bytes; error at EOF (the body was cut short).
Status need_bytes(Stream& from, const char* what) {
  if (!from.buffer().empty()) return {};
  TRY_ASSIGN(size_t n, from.fill());
  if (n == 0) return make_error(ErrorCode::Io, std::string("connection closed inside ") + what);
  return {};
}

Status copy_chunked(Stream& from, int to_fd, std::string* decoded, size_t max_decoded) {
  http::ChunkedDecoder dec;
  std::string payload;
  while (!dec.done()) {
    TRY(need_bytes(from, "a chunked body"));
    TRY_ASSIGN(size_t used, dec.feed(from.buffer(), decoded ? &payload : nullptr));
    if (decoded) {
      decoded->append(payload);
      payload.clear();
      if (decoded->size() > max_decoded)
        return make_error(ErrorCode::InvalidArgument,
                          "body larger than " + std::to_string(max_decoded) + " bytes");
    }
    TRY(pass_on(from, used, to_fd, nullptr, 0));
  }
  return {};
}

}  // namespace

Status copy_body(Stream& from, int to_fd, const http::Framing& framing, std::string* decoded,
                 size_t max_decoded) {
  switch (framing.kind) {
    case http::BodyKind::None:
      return {};
    case http::BodyKind::Length: {
      uint64_t remaining = framing.length;
      while (remaining > 0) {
        TRY(need_bytes(from, "a body"));
        size_t n = static_cast<size_t>(std::min<uint64_t>(remaining, from.buffer().size()));
        TRY(pass_on(from, n, to_fd, decoded, max_decoded));
        remaining -= n;
      }
      return {};
    }
    case http::BodyKind::Chunked:
      return copy_chunked(from, to_fd, decoded, max_decoded);
    case http::BodyKind::UntilClose:
      for (;;) {
        TRY(pass_on(from, from.buffer().size(), to_fd, decoded, max_decoded));
        TRY_ASSIGN(size_t n, from.fill());
        if (n == 0) return {};
      }
  }
  return {};
}

Status save_body(Stream& from, int to_fd, const http::Framing& framing, uint64_t max_bytes) {
  auto too_large = [&] {
    return make_error(ErrorCode::InvalidArgument,
                      "body larger than " + std::to_string(max_bytes) + " bytes");
  };
  if (framing.kind == http::BodyKind::Length && framing.length > max_bytes) return too_large();
  if (framing.kind != http::BodyKind::Chunked) return copy_body(from, to_fd, framing);
  http::ChunkedDecoder dec;
  std::string payload;
  uint64_t total = 0;
  while (!dec.done()) {
    TRY(need_bytes(from, "a chunked body"));
    TRY_ASSIGN(size_t used, dec.feed(from.buffer(), &payload));
    total += payload.size();
    if (total > max_bytes) return too_large();
    if (auto st = write_all(to_fd, payload); !st) return st.error().context("save body");
    payload.clear();
    from.buffer().erase(0, used);
  }
  return {};
}

Result<std::string> read_body(Stream& from, const http::Framing& framing, size_t max_bytes) {
  std::string out;
  TRY(copy_body(from, -1, framing, &out, max_bytes));
  return out;
}

void FdTracker::add(int fd) {
  std::lock_guard lock(mu_);
  fds_.insert(fd);
  if (cut_) ::shutdown(fd, SHUT_RDWR);
}

void FdTracker::remove(int fd) {
  std::lock_guard lock(mu_);
  fds_.erase(fd);
}

void FdTracker::cut_all() {
  std::lock_guard lock(mu_);
  cut_ = true;
  for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
}

}  // namespace twinbox::api
