#include "vm/ssh_tunnel.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "util/fs.hpp"
#include "util/strings.hpp"
#include "util/subprocess.hpp"

namespace twinbox::vm {

// Generates into a temporary name and renames, so a crash never leaves half a key pair.
static Status ensure_key(const std::string& path, const std::string& comment) {
  if (fs::exists(path) && fs::exists(path + ".pub")) return {};
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  ::unlink(tmp.c_str());
  ::unlink((tmp + ".pub").c_str());
  auto r = run_checked({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", tmp});
  if (!r) return r.error().context("generate ssh key " + path);
  if (::rename((tmp + ".pub").c_str(), (path + ".pub").c_str()) != 0 ||
      ::rename(tmp.c_str(), path.c_str()) != 0)
    return make_error(ErrorCode::Io, "install ssh key " + path);
  return {};
}

Status ensure_ssh_keys(const SshKeys& keys) {
  // Both VMs share the client key and boot concurrently.
  static std::mutex mu;
  std::lock_guard lock(mu);
  TRY(fs::make_dirs(fs::dirname(keys.client_key), 0700));
  TRY(ensure_key(keys.client_key, "twinboxd"));
  TRY(ensure_key(keys.host_key, keys.host_alias));
  TRY_ASSIGN(std::string pub, fs::read_file(keys.host_key + ".pub"));
  // "ssh-ed25519 AAAA... comment" -> "<alias> ssh-ed25519 AAAA..."
  auto parts = split(std::string(trim(pub)), ' ');
  if (parts.size() < 2)
    return make_error(ErrorCode::Internal, "unreadable host key " + keys.host_key + ".pub");
  return fs::write_file_atomic(keys.known_hosts,
                               keys.host_alias + " " + parts[0] + " " + parts[1] + "\n", 0600);
}

std::vector<std::string> ssh_tunnel_argv(const SshKeys& keys, int ssh_port,
                                         const std::string& local_engine_socket,
                                         const std::vector<int>& host_loopback_ports) {
  std::vector<std::string> argv = {
      "ssh",
      "-F",
      "/dev/null",
      "-N",
      "-T",
      "-i",
      keys.client_key,
      "-o",
      "IdentitiesOnly=yes",
      "-o",
      "BatchMode=yes",
      "-o",
      "UserKnownHostsFile=" + keys.known_hosts,
      "-o",
      "StrictHostKeyChecking=yes",
      "-o",
      "HostKeyAlias=" + keys.host_alias,
      "-o",
      "ExitOnForwardFailure=yes",
      "-o",
      "ServerAliveInterval=5",
      "-o",
      "ServerAliveCountMax=6",
      "-o",
      "ConnectTimeout=10",
      "-o",
      "StreamLocalBindUnlink=yes",
      "-o",
      "StreamLocalBindMask=0177",
      "-o",
      "LogLevel=ERROR",
      "-p",
      std::to_string(ssh_port),
      "-L",
      local_engine_socket + ":/var/run/docker.sock",
  };
  for (int p : host_loopback_ports) {
    argv.push_back("-R");
    argv.push_back("127.0.0.1:" + std::to_string(p) + ":127.0.0.1:" + std::to_string(p));
  }
  argv.push_back("root@127.0.0.1");
  return argv;
}

// The ssh of this channel that an earlier twinboxd started (the pid file names it), if it
// still runs: not our child, so it is ended by signal and watched in /proc.
static void end_predecessor(const std::string& pid_path, const std::string& engine_socket) {
  auto text = fs::read_file(pid_path);
  if (!text) return;
  pid_t pid = static_cast<pid_t>(std::atol(text->c_str()));
  if (pid <= 1 || pid == ::getpid()) return;
  std::string proc = "/proc/" + std::to_string(pid);
  auto cmdline = fs::read_file(proc + "/cmdline");
  if (!cmdline || !starts_with(*cmdline, std::string("ssh") + '\0') ||
      cmdline->find(engine_socket + ":") == std::string::npos)
    return;
  ::kill(pid, SIGTERM);
  for (int i = 0; i < 100 && fs::exists(proc + "/cmdline"); ++i) {
    auto stat = fs::read_file(proc + "/stat");  // a zombie waits for its new parent to reap it
    if (!stat || stat->find(") Z ") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

Status SshTunnel::start(int ssh_port) {
  std::lock_guard lock(mu_);
  stop_locked();
  end_predecessor(pid_path_, engine_socket_);
  auto pid =
      spawn_logged(ssh_tunnel_argv(keys_, ssh_port, engine_socket_, loopback_ports_), log_path_);
  if (!pid) return pid.error().context("start ssh tunnel");
  pid_ = *pid;
  if (auto st = fs::write_file_atomic(pid_path_, std::to_string(pid_) + "\n", 0600); !st)
    return st.error().context("record the ssh tunnel's pid");
  return {};
}

bool SshTunnel::alive() {
  std::lock_guard lock(mu_);
  if (pid_ <= 0) return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == 0) return true;
  pid_ = -1;
  return false;
}

void SshTunnel::stop() {
  std::lock_guard lock(mu_);
  stop_locked();
}

void SshTunnel::stop_locked() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 50; ++i) {
    if (::waitpid(pid_, nullptr, WNOHANG) != 0) {
      pid_ = -1;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  ::unlink(pid_path_.c_str());
  ::unlink(engine_socket_.c_str());
}

std::string SshTunnel::log_tail() const {
  auto text = fs::read_file(log_path_);
  return text ? tail_lines(*text, 5) : std::string();
}

}  // namespace twinbox::vm
