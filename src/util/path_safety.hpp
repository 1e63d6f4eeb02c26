#pragma once
// Whether a path could have been replaced by another local user: the rule OpenSSH applies to
// its key files (safe_path), applied to twinboxd's API socket. Pure: the caller lstat()s each
// directory; src/util/fs.cpp (check_private_path) does.
#include <cstdint>
#include <string>
#include <vector>

#include "util/result.hpp"

namespace twinbox {

struct DirFacts {
  std::string path;
  uint32_t uid = 0;
  uint32_t mode = 0;  // st_mode
  bool is_dir = true;
};

// `chain` is the directory that holds the file, then each of its ancestors up to "/". Refused
// (InvalidArgument, naming the directory and the fix) when:
//  - the holding directory is not owned by `euid` or root, or is writable by group or others
//    (another user could create or swap the file itself);
//  - an ancestor is owned by another user, or is writable by group or others without the
//    sticky bit (another user could rename the whole subtree away and put theirs in its place);
//  - an entry is not a directory.
Status check_private_dirs(const std::vector<DirFacts>& chain, uint32_t euid);

// A socket permission mode twinboxd accepts: owner read/write, optionally the group's, never
// others' ("0600", "0660", "660"). InvalidArgument saying why otherwise.
Result<unsigned> parse_socket_mode(const std::string& text);

}  // namespace twinbox
