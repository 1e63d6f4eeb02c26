#pragma once
// The channel from twinboxd to a guest engine (the choice and its cost: src/vm/README.md).
// One `ssh` process per VM, authenticated both ways by keys twinboxd generates:
//   -L <run_dir>/<vm>-engine.sock -> guest /var/run/docker.sock   (twinboxd -> engine)
//   -R 127.0.0.1:P -> host 127.0.0.1:P for each configured port   (guest -> host loopback,
//      so an image named 127.0.0.1:5000/... pulls from the registry on the host's loopback)
// The guest's sshd is reached through a slirp hostfwd on 127.0.0.1; without the client key no
// local user gets further than the ssh handshake, and the engine socket lives in a 0700 dir.
#include <sys/types.h>

#include <mutex>
#include <string>
#include <vector>

#include "util/result.hpp"

namespace twinbox::vm {

struct SshKeys {
  std::string client_key;   // private key path; .pub beside it
  std::string host_key;     // the guest's host key (private), .pub beside it
  std::string known_hosts;  // pins host_key under the alias below
  std::string host_alias;   // "twinbox-<vm>"
};

// Creates whichever keys are missing (ssh-keygen, ed25519) and (re)writes known_hosts.
Status ensure_ssh_keys(const SshKeys& keys);

// The ssh command line for the tunnel. Pure.
std::vector<std::string> ssh_tunnel_argv(const SshKeys& keys, int ssh_port,
                                         const std::string& local_engine_socket,
                                         const std::vector<int>& host_loopback_ports);

class SshTunnel {
 public:
  // `pid_path` records the ssh process's pid: an ssh left by a twinboxd that was killed
  // outlives it, still connected (and holding the guest's -R ports); the next start ends it.
  SshTunnel(SshKeys keys, std::string engine_socket, std::string log_path, std::string pid_path,
            std::vector<int> loopback_ports)
      : keys_(std::move(keys)),
        engine_socket_(std::move(engine_socket)),
        log_path_(std::move(log_path)),
        pid_path_(std::move(pid_path)),
        loopback_ports_(std::move(loopback_ports)) {}
  ~SshTunnel() { stop(); }

  // Ends our previous ssh, or the one the pid file names when it is an ssh of this channel
  // (its command line names our engine socket), then starts a new one.
  Status start(int ssh_port);
  // True while the ssh process lives. Reaps it (and forgets it) once it has exited.
  bool alive();
  void stop();
  // Tail of the ssh log, for error messages.
  std::string log_tail() const;

 private:
  SshKeys keys_;
  std::string engine_socket_, log_path_, pid_path_;
  std::vector<int> loopback_ports_;
  // The VM's supervising thread starts and checks the channel while a shutdown on another
  // thread stops it.
  std::mutex mu_;
  pid_t pid_ = -1;
  void stop_locked();
};

}  // namespace twinbox::vm
