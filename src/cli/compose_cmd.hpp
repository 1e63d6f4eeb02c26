#pragma once
// `twinbox compose ...`: declares the compose project to twinboxd (so it lands on one backend
// before its first container), then runs docker-compose against twinboxd's socket.
#include <string>
#include <vector>

namespace twinbox::cli {

// Runs `twinbox compose ARGS...`: docker-compose's exit code once it ran, 1 when reading the
// compose file or the declaration failed, 2 on a usage error.
int cmd_compose(const std::string& socket_path, const std::vector<std::string>& args);

}  // namespace twinbox::cli
