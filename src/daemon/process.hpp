#pragma once
// Process-level plumbing for twinboxd: single-instance lock, signals, reaping orphaned QEMUs.
#include <string>

#include "util/fd.hpp"
#include "util/result.hpp"

namespace twinbox::daemon {

// Takes an exclusive lock on the pid file and writes our pid. Conflict when another twinboxd
// holds it (the message names its pid). The lock lives as long as the returned Fd.
Result<Fd> lock_pid_file(const std::string& path);

// Becomes a child subreaper and starts a thread that reaps zombie QEMU processes (libvirt
// daemonizes QEMU; machine-facts: destroy is ~1.5 s when PID 1 reaps slowly, ~0.2 s this way).
void start_qemu_reaper();

// Blocks SIGTERM/SIGINT/SIGHUP in every thread created afterwards and ignores SIGPIPE.
void block_signals();
// Waits for one of the blocked signals on a thread; calls `on_signal(signo)` for each.
void start_signal_thread(void (*on_signal)(int, void*), void* ctx);

}  // namespace twinbox::daemon
