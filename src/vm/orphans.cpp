#include "vm/orphans.hpp"

#include <dirent.h>
#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "layout/state_layout.hpp"
#include "util/fs.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"

namespace twinbox::vm {

std::optional<TwinboxQemu> parse_twinbox_qemu(std::string_view cmdline) {
  std::vector<std::string> args = split(cmdline, '\0');
  if (args.empty() || args[0].find("qemu-system-") == std::string::npos) return std::nullopt;
  TwinboxQemu q;
  for (size_t i = 0; i + 1 < args.size(); ++i) {
    // -name guest=twinbox-hv,debug-threads=on
    if (args[i] != "-name" || !starts_with(args[i + 1], "guest=twinbox-")) continue;
    std::string name = args[i + 1].substr(6);
    q.domain = name.substr(0, name.find(','));
  }
  if (q.domain.empty()) return std::nullopt;
  std::string disk = "/vms/" + q.domain.substr(8) + "/data.img";
  for (const auto& a : args) {
    // {"driver":"file","filename":"/tmp/s/vms/hv/data.img",...} or file=/tmp/s/vms/hv/data.img
    auto end = a.find(disk);
    if (end == std::string::npos) continue;
    auto begin = a.find_last_of("\"=,", end);
    begin = begin == std::string::npos ? 0 : begin + 1;
    if (a.compare(begin, 1, "/") != 0) continue;
    q.state_dir = a.substr(begin, end - begin);
    return q;
  }
  return std::nullopt;
}

std::string orphan_reason(const OrphanFacts& f) {
  if (f.own) return "";
  if (!f.state_dir_exists) return "its state directory is gone";
  if (f.daemon_running) return "";
  if (f.exit_with_parent) return "its twinboxd (--exit-with-parent) is gone";
  return "";  // a twinboxd started on that state dir again adopts it
}

namespace {

// The pid file names a process that is a twinboxd.
bool daemon_running(const layout::StateLayout& l) {
  auto text = fs::read_file(l.pid_file());
  auto pid = text ? parse_int(trim(*text)) : std::nullopt;
  if (!pid || *pid <= 1) return false;
  auto comm = fs::read_file("/proc/" + std::to_string(*pid) + "/comm");
  return comm && trim(*comm) == "twinboxd";
}

void end_process(pid_t pid) {
  std::string proc = "/proc/" + std::to_string(pid);
  ::kill(pid, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    auto stat = fs::read_file(proc + "/stat");
    if (!stat || stat->find(") Z ") != std::string::npos) return;  // gone, or its parent's now
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::kill(pid, SIGKILL);
}

}  // namespace

std::vector<std::string> end_orphan_vms(const std::string& own_state_dir) {
  std::vector<std::string> ended;
  std::string own = fs::real_path(own_state_dir);
  DIR* d = ::opendir("/proc");
  if (!d) return ended;
  std::vector<TwinboxQemu> found;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    auto cmdline = fs::read_file(std::string("/proc/") + e->d_name + "/cmdline");
    if (!cmdline) continue;
    if (auto q = parse_twinbox_qemu(*cmdline)) {
      q->pid = static_cast<pid_t>(std::atol(e->d_name));
      found.push_back(*q);
    }
  }
  ::closedir(d);
  for (const auto& q : found) {
    layout::StateLayout l(q.state_dir);
    OrphanFacts f;
    std::string real = fs::real_path(q.state_dir);
    f.own = q.state_dir == own_state_dir || (!real.empty() && real == own);
    f.state_dir_exists = fs::exists(q.state_dir + "/vms");
    f.daemon_running = daemon_running(l);
    f.exit_with_parent = fs::exists(l.exit_with_parent_marker());
    std::string why = orphan_reason(f);
    if (why.empty()) continue;
    std::string line =
        q.domain + " (pid " + std::to_string(q.pid) + ", state " + q.state_dir + "): " + why;
    log::warn("vm", "ending an orphaned VM: " + line);
    end_process(q.pid);
    ended.push_back(line);
  }
  return ended;
}

}  // namespace twinbox::vm
