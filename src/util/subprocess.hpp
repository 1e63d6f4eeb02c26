#pragma once
// Running helper programs (ssh, qemu-img, mkfs.ext4). argv only, never a shell.
#include <sys/types.h>

#include <string>
#include <vector>

#include "util/result.hpp"

namespace twinbox {

struct ProcessOutput {
  int exit_code = -1;  // -1 when killed by a signal
  std::string output;  // stdout and stderr, interleaved
};

// Runs argv to completion and captures its output. Error only when it could not be started;
// a non-zero exit is reported in exit_code.
Result<ProcessOutput> run_capture(const std::vector<std::string>& argv);
// Like run_capture, and an error that quotes the output when the exit code is not 0.
Result<std::string> run_checked(const std::vector<std::string>& argv);

// Starts argv in the background with stdout/stderr appended to `log_path`; returns its pid.
Result<pid_t> spawn_logged(const std::vector<std::string>& argv, const std::string& log_path);

}  // namespace twinbox
