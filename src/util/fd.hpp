#pragma once
// Move-only owner of a POSIX file descriptor, and the blocking socket helpers every module uses.
#include <string>
#include <string_view>
#include <utility>

#include "util/result.hpp"

namespace twinbox {

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  ~Fd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

// Connects a stream socket to a unix socket path. NotFound/Unavailable when nobody listens.
Result<Fd> connect_unix(const std::string& path);
// Binds and listens on a unix socket path with the given mode (the path is replaced if stale).
// `gid` >= 0: the socket's group (chown before chmod, so it is never open to the wrong group).
Result<Fd> listen_unix(const std::string& path, unsigned mode, int backlog = 64, int gid = -1);
// Writes all of `data` (retrying on EINTR/short writes). MSG_NOSIGNAL on sockets.
Status write_all(int fd, std::string_view data);
// One read; returns bytes read (0 at EOF).
Result<size_t> read_some(int fd, char* buf, size_t len);
// Reads until EOF.
Result<std::string> read_to_eof(int fd);
// A free TCP port on 127.0.0.1 at the time of asking (the caller binds it soon after).
Result<int> pick_free_loopback_port();

}  // namespace twinbox
