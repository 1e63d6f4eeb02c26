#pragma once
// A socket with a read buffer, and the body copying the proxy is made of. Bytes read past what
// a step needed stay in buffer() for the next step: a pipelined request, or raw bytes that
// follow a 101 head.
#include <chrono>
#include <mutex>
#include <set>
#include <string>

#include "api/http.hpp"
#include "api/http_body.hpp"
#include "util/fd.hpp"
#include "util/result.hpp"

namespace twinbox::api {

class Stream {
 public:
  explicit Stream(Fd fd) : fd_(std::move(fd)) {}
  int fd() const { return fd_.get(); }
  std::string& buffer() { return buf_; }
  // Hands the socket over (to keep it for another request); the Stream is done with it.
  Fd release_fd() { return std::move(fd_); }

  // Reads once into the buffer; 0 at EOF. With a cancel fd set, a readable cancel fd while
  // the socket is quiet ends the wait with Unavailable ("shutting down").
  Result<size_t> fill();
  void set_cancel_fd(int fd) { cancel_fd_ = fd; }
  // Bounds each read (SO_RCVTIMEO); Timeout when exceeded. 0 = no limit.
  void set_read_timeout(std::chrono::milliseconds t);

 private:
  Fd fd_;
  std::string buf_;
  int cancel_fd_ = -1;
};

// Reading a head: Ok, or Eof before any byte (a client that closed between requests), or Bad
// with the status to answer (400/431, or 0 when the peer vanished mid-head).
template <class T>
struct HeadRead {
  enum class State { Ok, Eof, Bad } state = State::Bad;
  T head;
  int status = 0;
  std::string error;
};

HeadRead<http::RequestHead> read_request_head(Stream& s);
HeadRead<http::ResponseHead> read_response_head(Stream& s);

// Moves one body from `from` to `to_fd` as framed (to_fd -1 discards it). Bytes go out as they
// arrive; nothing is buffered beyond one read. When `decoded` is not null it also receives the
// payload (chunked framing removed), up to `max_decoded` bytes (more is an error).
Status copy_body(Stream& from, int to_fd, const http::Framing& framing,
                 std::string* decoded = nullptr, size_t max_decoded = 0);

// Writes one body's payload (framing removed) to `to_fd` as it arrives, for uploads twinboxd
// keeps (archives). InvalidArgument beyond `max_bytes`.
Status save_body(Stream& from, int to_fd, const http::Framing& framing, uint64_t max_bytes);

// Reads a whole body into memory, for the small bodies twinbox inspects (create, fan-out
// answers). InvalidArgument beyond `max_bytes`.
Result<std::string> read_body(Stream& from, const http::Framing& framing, size_t max_bytes);

// Every socket a server is using, so stop() can cut the streams that outlive its grace period
// (shutdown(2) wakes the threads blocked on them; the owners still close them).
class FdTracker {
 public:
  void add(int fd);
  void remove(int fd);
  // shutdown(SHUT_RDWR) on every tracked socket; later add()s are shut down at once.
  void cut_all();

 private:
  std::mutex mu_;
  std::set<int> fds_;
  bool cut_ = false;
};

// Removes a tracked fd when the scope ends (before the Fd owning it closes).
class TrackedFd {
 public:
  TrackedFd(FdTracker* t, int fd) : t_(t), fd_(fd) {
    if (t_) t_->add(fd_);
  }
  ~TrackedFd() {
    if (t_) t_->remove(fd_);
  }
  TrackedFd(const TrackedFd&) = delete;
  TrackedFd& operator=(const TrackedFd&) = delete;

 private:
  FdTracker* t_;
  int fd_;
};

}  // namespace twinbox::api
