#pragma once
// Process-level plumbing for twinboxd: single-instance lock, signals, reaping orphaned QEMUs.
#include <string>

#include "util/fd.hpp"
#include "util/result.hpp"

namespace twinbox::daemon {

// Takes an exclusive lock on the pid file and writes our pid. Conflict when another twinboxd
// holds it (the message names its pid). The lock lives as long as the returned Fd.
Result<Fd> lock_pid_file(const std::string& path);

// Makes the state directory the API socket's safe home: refuses it when another user could
// replace the socket or a directory above it (fs::check_private_path), then sets it to 0700, or
// to 0710 with group `socket_group` (a name or gid) so that group's members reach the socket
// and nothing else. Returns the group's gid, -1 without one.
Result<int> secure_state_dir(const std::string& state_dir, const std::string& socket_path,
                             const std::string& socket_group);

// Makes orphaned descendants ours: libvirt daemonizes QEMU, and machine-facts measured destroy at
// ~1.5 s when PID 1 reaps it slowly, ~0.2 s when we do (see start_signal_thread).
void become_subreaper();

// Blocks SIGTERM/SIGINT/SIGHUP/SIGCHLD in every thread created afterwards; ignores SIGPIPE.
// (Blocking SIGCHLD does not affect waitpid() by the owners of helper processes.)
void block_signals();
// Waits for the blocked signals on one thread: SIGCHLD reaps zombie QEMU children that were
// daemonized into another session (only those, so the exit statuses of the processes libvirt and
// helpers wait for stay with their owners); the others call `on_signal(signo, ctx)`.
void start_signal_thread(void (*on_signal)(int, void*), void* ctx);

}  // namespace twinbox::daemon
