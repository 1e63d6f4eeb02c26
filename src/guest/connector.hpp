#pragma once
// GuestConnector: the seam between twinboxd and one guest Docker engine. connect() returns a
// fresh stream connected to the engine's HTTP API (the same bytes as /var/run/docker.sock in the
// guest). Real VMs: a unix socket forwarded by ssh from the guest (see vm/ssh_tunnel). Tests: a
// fake engine on a unix socket. Contract: connect() MUST NOT block longer than a few seconds;
// it returns Unavailable while the engine is not reachable.
#include <string>

#include "util/fd.hpp"
#include "util/result.hpp"

namespace twinbox::guest {

class GuestConnector {
 public:
  virtual ~GuestConnector() = default;
  virtual Result<Fd> connect() = 0;
  // For diagnostics: where connect() goes ("unix:/path").
  virtual std::string describe() const = 0;
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
