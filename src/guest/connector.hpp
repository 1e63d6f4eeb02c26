#pragma once
// GuestConnector: the seam between twinboxd and one guest Docker engine. connect() returns a
// fresh stream connected to the engine's HTTP API (the same bytes as /var/run/docker.sock in the
// guest). Real VMs: a unix socket forwarded by ssh from the guest (see vm/ssh_tunnel). Tests: a
// fake engine on a unix socket. Contract: connect() MUST NOT block longer than a few seconds;
// it returns Unavailable while the engine is not reachable.
//
// Connections are also kept between requests (HTTP keep-alive): each new one is a new ssh
// channel into the guest, which costs about as much under TCG as a small answer (bench/api.sh).
// A user of lease() that read a whole answer, left nothing unread and was not told to close
// gives the connection back with keep().
#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "util/fd.hpp"
#include "util/result.hpp"

namespace twinbox::guest {

class GuestConnector {
 public:
  virtual ~GuestConnector() = default;
  virtual Result<Fd> connect() = 0;
  // For diagnostics: where connect() goes ("unix:/path").
  virtual std::string describe() const = 0;

  struct Lease {
    Fd fd;
    bool reused = false;  // kept from an earlier request: the engine may have closed it since
  };
  // With `reuse`, the most recently kept connection that is still open and quiet; else (or
  // without `reuse`) connect().
  Result<Lease> lease(bool reuse = true);
  // Keeps `fd` for a later lease(): at most kMaxIdle, each for at most kIdleFor. Its read
  // timeout is cleared (a lease may carry an endless stream).
  void keep(Fd fd);
  size_t idle_count();

  static constexpr size_t kMaxIdle = 8;
  static constexpr std::chrono::seconds kIdleFor{30};

 private:
  struct Idle {
    Fd fd;
    std::chrono::steady_clock::time_point since;
  };
  std::mutex pool_mu_;
  std::vector<Idle> idle_;  // oldest first
};

class UnixConnector final : public GuestConnector {
 public:
  explicit UnixConnector(std::string path) : path_(std::move(path)) {}
  Result<Fd> connect() override { return connect_unix(path_); }
  std::string describe() const override { return "unix:" + path_; }

 private:
  std::string path_;
};

}  // namespace twinbox::guest
