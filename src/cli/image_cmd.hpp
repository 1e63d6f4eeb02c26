#pragma once
// `twinbox image import|export|ls|prune|prewarm`: the host content store through twinboxd's
// /twinbox/v1/images endpoints.
#include <string>
#include <vector>

namespace twinbox::cli {

// Runs `twinbox image ARGS...`: 0 on success, 1 when the daemon or a file failed, 2 on a usage
// error.
int cmd_image(const std::string& socket_path, const std::vector<std::string>& args);

}  // namespace twinbox::cli
