#include "util/fd.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace twinbox {

void Fd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

static std::string errstr() { return std::strerror(errno); }

static Result<sockaddr_un> unix_addr(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) {
    return make_error(ErrorCode::InvalidArgument,
                      "unix socket path too long (" + std::to_string(path.size()) +
                          " bytes, limit " + std::to_string(sizeof(addr.sun_path) - 1) +
                          "): " + path + "; use a shorter state directory");
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return addr;
}

Result<Fd> connect_unix(const std::string& path) {
  TRY_ASSIGN(sockaddr_un addr, unix_addr(path));
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return make_error(ErrorCode::Io, "socket: " + errstr());
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    int e = errno;
    auto code = (e == ENOENT || e == ECONNREFUSED) ? ErrorCode::Unavailable : ErrorCode::Io;
    return make_error(code, "connect to " + path + ": " + std::strerror(e));
  }
  return fd;
}

Result<Fd> listen_unix(const std::string& path, unsigned mode, int backlog, int gid) {
  TRY_ASSIGN(sockaddr_un addr, unix_addr(path));
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return make_error(ErrorCode::Io, "socket: " + errstr());
  ::unlink(path.c_str());
  // Bind under a restrictive umask so the socket is never briefly wider than `mode`.
  mode_t old = ::umask(0177);
  int rc = ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  int e = errno;
  ::umask(old);
  if (rc != 0) return make_error(ErrorCode::Io, "bind " + path + ": " + std::strerror(e));
  if (gid >= 0 && ::chown(path.c_str(), static_cast<uid_t>(-1), static_cast<gid_t>(gid)) != 0)
    return make_error(ErrorCode::Io, "chgrp " + std::to_string(gid) + " " + path + ": " + errstr());
  if (::chmod(path.c_str(), mode) != 0)
    return make_error(ErrorCode::Io, "chmod " + path + ": " + errstr());
  if (::listen(fd.get(), backlog) != 0)
    return make_error(ErrorCode::Io, "listen " + path + ": " + errstr());
  return fd;
}

Status write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == ENOTSOCK) n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error(ErrorCode::Io, std::string("write: ") + errstr());
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

Result<size_t> read_some(int fd, char* buf, size_t len) {
  for (;;) {
    ssize_t n = ::read(fd, buf, len);
    if (n >= 0) return static_cast<size_t>(n);
    if (errno == EINTR) continue;
    return make_error(ErrorCode::Io, std::string("read: ") + errstr());
  }
}

Result<std::string> read_to_eof(int fd) {
  std::string out;
  char buf[65536];
  for (;;) {
    TRY_ASSIGN(size_t n, read_some(fd, buf, sizeof buf));
    if (n == 0) return out;
    out.append(buf, n);
  }
}

Result<int> pick_free_loopback_port() {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return make_error(ErrorCode::Io, "socket: " + errstr());
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
    return make_error(ErrorCode::Io, "bind 127.0.0.1:0: " + errstr());
  socklen_t len = sizeof a;
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0)
    return make_error(ErrorCode::Io, "getsockname: " + errstr());
  return static_cast<int>(ntohs(a.sin_port));
}

}  // namespace twinbox
