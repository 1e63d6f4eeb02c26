#pragma once
#include <string>

namespace twinbox::cli {
// Checks what twinboxd needs on this host and what the running daemon reports. 0 when all pass.
int cmd_doctor(const std::string& socket_path);
}  // namespace twinbox::cli
