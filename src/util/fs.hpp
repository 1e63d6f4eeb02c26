#pragma once
// File helpers. Writes are atomic: a reader sees the old file or the new one, never a torn one.
#include <string>

#include "util/result.hpp"

namespace twinbox::fs {

Result<std::string> read_file(const std::string& path);
// Writes to "path.tmp.<pid>", fsyncs, renames over `path`, fsyncs the directory.
Status write_file_atomic(const std::string& path, const std::string& data, unsigned mode = 0644);
// mkdir -p with `mode` for the directories it creates.
Status make_dirs(const std::string& path, unsigned mode = 0755);
bool exists(const std::string& path);
// realpath(3): every symlink resolved; "" when the path (or a part of it) does not exist.
std::string real_path(const std::string& path);
// The bytes of the regular files under `dir` (symlinks not followed; unreadable parts skipped),
// as dockerd counts a volume's size. 0 when it does not exist.
uint64_t tree_bytes(const std::string& dir);
std::string dirname(const std::string& path);
// Absolute form of `path` (relative to the current directory); no symlink resolution.
std::string absolute(const std::string& path);
// Refuses `file_path` when another local user could replace it or a directory above it
// (check_private_dirs over its directory, symlinks resolved, and every ancestor).
Status check_private_path(const std::string& file_path);

}  // namespace twinbox::fs
