#include "guest/connector.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>

namespace twinbox::guest {

namespace {

// An idle HTTP connection has nothing to read: readable means the engine closed it (EOF) or
// sent something unasked, either way it cannot carry the next request.
bool quiet(int fd) {
  pollfd p{fd, POLLIN | POLLRDHUP, 0};
  return ::poll(&p, 1, 0) == 0;
}

}  // namespace

Result<GuestConnector::Lease> GuestConnector::lease(bool reuse) {
  if (reuse) {
    std::lock_guard lock(pool_mu_);
    auto now = std::chrono::steady_clock::now();
    while (!idle_.empty()) {
      Idle last = std::move(idle_.back());
      idle_.pop_back();
      if (now - last.since <= kIdleFor && quiet(last.fd.get()))
        return Lease{std::move(last.fd), true};
    }
  }
  TRY_ASSIGN(Fd fd, connect());
  return Lease{std::move(fd), false};
}

void GuestConnector::keep(Fd fd) {
  if (!fd.valid()) return;
  timeval none{0, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &none, sizeof none);
  std::lock_guard lock(pool_mu_);
  auto now = std::chrono::steady_clock::now();
  std::erase_if(idle_, [&](const Idle& i) { return now - i.since > kIdleFor; });
  if (idle_.size() >= kMaxIdle) idle_.erase(idle_.begin());
  idle_.push_back(Idle{std::move(fd), now});
}

size_t GuestConnector::idle_count() {
  std::lock_guard lock(pool_mu_);
  return idle_.size();
}

}  // namespace twinbox::guest
