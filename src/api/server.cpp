#include "api/server.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "api/responses.hpp"
#include "util/log.hpp"

namespace twinbox::api {

Status Server::start() {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0)
    return make_error(ErrorCode::Io, std::string("pipe: ") + std::strerror(errno));
  wake_read_.reset(p[0]);
  wake_write_.reset(p[1]);
  auto fd = listen_unix(path_, mode_, 64, gid_);
  if (!fd) return fd.error().context("listen on the API socket");
  listener_ = std::move(fd).value();
  started_ = true;
  acceptor_ = std::thread([this] { accept_loop(); });
  log::info("api", "listening on " + path_);
  return {};
}

void Server::accept_loop() {
  for (;;) {
    pollfd fds[2] = {{listener_.get(), POLLIN, 0}, {wake_read_.get(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) {
      log::error("api", std::string("poll on the listener: ") + std::strerror(errno));
      return;
    }
    if (fds[1].revents) return;
    if (!fds[0].revents) continue;
    int c = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) {
      if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED)
        log::warn("api", std::string("accept: ") + std::strerror(errno));
      continue;
    }
    std::lock_guard lock(mu_);
    auto conn = std::make_unique<Conn>();
    Conn* raw = conn.get();
    ++live_;
    conn->thread = std::thread([this, c, raw] { serve_connection(Fd(c), raw); });
    conns_.push_back(std::move(conn));
    reap(false);
  }
}

// Joins finished connection threads (all of them when `all`). Called with mu_ held unless all.
void Server::reap(bool all) {
  for (auto it = conns_.begin(); it != conns_.end();) {
    if (all || (*it)->done) {
      if ((*it)->thread.joinable()) (*it)->thread.join();
      it = conns_.erase(it);
    } else {
      ++it;
    }
  }
}

void Server::serve_connection(Fd fd, Conn* conn) {
  Stream client(std::move(fd));
  {
    TrackedFd tracked(&tracker_, client.fd());
    while (!stopping_) {
      client.set_cancel_fd(wake_read_.get());  // only an idle wait may be cancelled
      auto h = read_request_head(client);
      client.set_cancel_fd(-1);
      if (h.state == HeadRead<http::RequestHead>::State::Eof) break;
      if (h.state == HeadRead<http::RequestHead>::State::Bad) {
        if (h.status != 0) {
          log::warn("api", "refused a request: " + h.error);
          (void)write_all(client.fd(),
                          response_bytes(error_response(h.status, h.error), false, true, ""));
        }
        break;
      }
      auto start = std::chrono::steady_clock::now();
      auto out = dispatcher_.serve(client, h.head);
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now() - start)
                    .count();
      log::info("api", h.head.method + " " + h.head.path() + " -> " + out.backend + " " +
                           std::to_string(out.status) + " " + std::to_string(ms) + "ms" +
                           (out.reason.empty() ? "" : " (" + out.reason + ")"));
      if (!out.keep_alive) break;
    }
  }
  std::lock_guard lock(mu_);
  --live_;
  conn->done = true;
  cv_.notify_all();
}

void Server::stop(std::chrono::milliseconds grace) {
  if (!started_ || stopping_.exchange(true)) return;
  (void)!::write(wake_write_.get(), "x", 1);
  if (acceptor_.joinable()) acceptor_.join();
  listener_.reset();
  ::unlink(path_.c_str());
  std::unique_lock lock(mu_);
  if (!cv_.wait_for(lock, grace, [&] { return live_ == 0; })) {
    log::warn("api", "cutting " + std::to_string(live_) + " connection(s) still streaming");
    tracker_.cut_all();
  }
  cv_.wait(lock, [&] { return live_ == 0; });
  reap(true);
  log::info("api", "stopped");
}

}  // namespace twinbox::api
