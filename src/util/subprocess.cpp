#include "util/subprocess.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util/fd.hpp"
#include "util/strings.hpp"

namespace twinbox {

static std::vector<char*> c_argv(const std::vector<std::string>& argv) {
  std::vector<char*> out;
  for (const auto& a : argv) out.push_back(const_cast<char*>(a.c_str()));
  out.push_back(nullptr);
  return out;
}

// In the child: default signal handling and mask, so helpers behave as if started by a shell.
static void child_reset_signals() {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int s : {SIGPIPE, SIGTERM, SIGINT, SIGCHLD}) signal(s, SIG_DFL);
}

// fork + exec with stdout/stderr on `out_fd` and stdin from /dev/null; -1 if fork failed.
static pid_t fork_exec(std::vector<char*>& args, int out_fd, bool new_session) {
  pid_t pid = ::fork();
  if (pid != 0) return pid;
  child_reset_signals();
  if (new_session) ::setsid();
  ::dup2(out_fd, 1);
  ::dup2(out_fd, 2);
  int devnull = ::open("/dev/null", O_RDONLY);
  if (devnull >= 0) ::dup2(devnull, 0);
  ::execvp(args[0], args.data());
  std::fprintf(stderr, "exec %s: %s\n", args[0], std::strerror(errno));
  ::_exit(127);
}

Result<ProcessOutput> run_capture(const std::vector<std::string>& argv) {
  if (argv.empty()) return make_error(ErrorCode::InvalidArgument, "run: empty argv");
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0)
    return make_error(ErrorCode::Io, std::string("pipe: ") + std::strerror(errno));
  Fd rd(p[0]), wr(p[1]);
  auto args = c_argv(argv);
  pid_t pid = fork_exec(args, wr.get(), false);
  if (pid < 0) return make_error(ErrorCode::Io, std::string("fork: ") + std::strerror(errno));
  wr.reset();
  auto out = read_to_eof(rd.get());
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  ProcessOutput po;
  po.output = out ? *out : std::string();
  po.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (po.exit_code == 127 && po.output.find("exec ") == 0)
    return make_error(ErrorCode::NotFound, trim(po.output).data());
  return po;
}

Result<std::string> run_checked(const std::vector<std::string>& argv) {
  TRY_ASSIGN(ProcessOutput po, run_capture(argv));
  if (po.exit_code != 0) {
    return make_error(ErrorCode::Io, argv[0] + " exited with " + std::to_string(po.exit_code) +
                                         ": " + tail_lines(po.output, 10));
  }
  return po.output;
}

Result<pid_t> spawn_logged(const std::vector<std::string>& argv, const std::string& log_path) {
  if (argv.empty()) return make_error(ErrorCode::InvalidArgument, "spawn: empty argv");
  Fd log(::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  if (!log.valid())
    return make_error(ErrorCode::Io, "open " + log_path + ": " + std::strerror(errno));
  auto args = c_argv(argv);
  pid_t pid = fork_exec(args, log.get(), true);
  if (pid < 0) return make_error(ErrorCode::Io, std::string("fork: ") + std::strerror(errno));
  return pid;
}

}  // namespace twinbox
