#include "daemon/process.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <thread>

#include "util/fs.hpp"
#include "util/strings.hpp"

namespace twinbox::daemon {

Result<int> secure_state_dir(const std::string& state_dir, const std::string& socket_path,
                             const std::string& socket_group) {
  TRY(fs::check_private_path(socket_path));
  int gid = -1;
  if (!socket_group.empty()) {
    unsigned n = 0;
    auto [p, ec] =
        std::from_chars(socket_group.data(), socket_group.data() + socket_group.size(), n);
    if (ec == std::errc() && p == socket_group.data() + socket_group.size()) {
      gid = static_cast<int>(n);
    } else if (const struct group* g = ::getgrnam(socket_group.c_str())) {
      gid = static_cast<int>(g->gr_gid);
    } else {
      return make_error(ErrorCode::InvalidArgument, "--socket-group: no group '" + socket_group +
                                                        "' (create it with `groupadd " +
                                                        socket_group + "` first)");
    }
  }
  if (gid >= 0 && ::chown(state_dir.c_str(), static_cast<uid_t>(-1), static_cast<gid_t>(gid)) != 0)
    return make_error(ErrorCode::Io,
                      "chgrp " + socket_group + " " + state_dir + ": " + std::strerror(errno));
  if (::chmod(state_dir.c_str(), gid >= 0 ? 0710 : 0700) != 0)
    return make_error(ErrorCode::Io, "chmod " + state_dir + ": " + std::strerror(errno));
  return gid;
}

Result<Fd> lock_pid_file(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd.valid())
    return make_error(ErrorCode::Io, "open pid file " + path + ": " + std::strerror(errno));
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    auto other = fs::read_file(path);
    return make_error(ErrorCode::Conflict,
                      "another twinboxd (pid " + std::string(trim(other ? *other : "?")) +
                          ") uses this state directory; stop it with `twinbox down` or pick "
                          "another --state-dir");
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd.get(), 0) != 0 || ::pwrite(fd.get(), pid.data(), pid.size(), 0) < 0)
    return make_error(ErrorCode::Io, "write pid file " + path + ": " + std::strerror(errno));
  return fd;
}

// Zombie QEMU system emulators that are our children and were daemonized (another session):
// orphans re-parented to us, the subreaper, that nobody else waits for. A QEMU in our own
// session is one libvirt runs directly and waits for itself (the capability probe's `-daemonize`
// parent); reaping it made libvirt's start fail with "unable to wait for process: No child
// processes".
static void reap_qemu_zombies() {
  DIR* d = ::opendir("/proc");
  if (!d) return;
  pid_t self = ::getpid();
  pid_t session = ::getsid(0);
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    auto stat = fs::read_file(std::string("/proc/") + e->d_name + "/stat");
    if (!stat) continue;
    // "pid (comm) S ppid ..." — comm may contain spaces, so parse from the last ')'.
    auto open = stat->find('(');
    auto close = stat->rfind(')');
    if (open == std::string::npos || close == std::string::npos || close + 4 > stat->size())
      continue;
    std::string comm = stat->substr(open + 1, close - open - 1);
    char state = (*stat)[close + 2];
    auto fields = split(stat->substr(close + 4), ' ');
    // After the state: ppid, pgrp, session.
    if (state != 'Z' || fields.size() < 3 || std::atoi(fields[0].c_str()) != self) continue;
    if (!starts_with(comm, "qemu-system") || std::atoi(fields[2].c_str()) == session) continue;
    ::waitpid(std::atoi(e->d_name), nullptr, WNOHANG);
  }
  ::closedir(d);
}

void become_subreaper() { ::prctl(PR_SET_CHILD_SUBREAPER, 1); }

static sigset_t handled_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGTERM, SIGINT, SIGHUP, SIGCHLD}) sigaddset(&set, s);
  return set;
}

void block_signals() {
  ::signal(SIGPIPE, SIG_IGN);
  sigset_t set = handled_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

void start_signal_thread(void (*on_signal)(int, void*), void* ctx) {
  std::thread([on_signal, ctx] {
    sigset_t set = handled_signals();
    for (;;) {
      int sig = 0;
      if (sigwait(&set, &sig) != 0) continue;
      // One SIGCHLD may stand for several exits; the scan reaps every QEMU zombie there is.
      if (sig == SIGCHLD)
        reap_qemu_zombies();
      else
        on_signal(sig, ctx);
    }
  }).detach();
}

}  // namespace twinbox::daemon
