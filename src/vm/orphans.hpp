#pragma once
// QEMUs of twinbox VMs that nobody will come back for. QEMU runs in a session of its own and
// outlives the twinboxd that started it (that is what adoption builds on), so a VM whose state
// directory was removed, or whose twinboxd was a test harness's (--exit-with-parent) and died,
// would run until someone found it by hand. A twinboxd that starts ends them.
#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace twinbox::vm {

struct TwinboxQemu {
  pid_t pid = 0;
  std::string domain;     // "twinbox-hv"
  std::string state_dir;  // where its data disk lives: <state_dir>/vms/<vm>/data.img
};

// Pure: the twinbox domain and state directory of a QEMU command line (/proc/PID/cmdline: NUL
// separated), or nullopt when it is not a twinbox VM.
std::optional<TwinboxQemu> parse_twinbox_qemu(std::string_view cmdline);

struct OrphanFacts {
  bool own = false;               // the state dir of the twinboxd asking (it adopts its own)
  bool state_dir_exists = false;  // <state_dir>/vms exists
  bool daemon_running = false;    // the pid file names a live twinboxd
  bool exit_with_parent = false;  // that state dir's twinboxd ran with --exit-with-parent
};
// Pure: why a VM with these facts is an orphan; "" when it is not (a twinboxd runs it, or one
// may start on its state dir again and adopt it).
std::string orphan_reason(const OrphanFacts& f);

// Scans /proc for twinbox QEMUs and ends the orphans (SIGTERM, SIGKILL after 5 s). Returns one
// line per VM ended: "twinbox-hv (pid 1234, state /tmp/x): its state directory is gone".
std::vector<std::string> end_orphan_vms(const std::string& own_state_dir);

}  // namespace twinbox::vm
