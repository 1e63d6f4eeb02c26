#include "util/path_safety.hpp"

#include <sys/stat.h>

#include <cstdio>

namespace twinbox {

namespace {

std::string octal(uint32_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", mode & 07777);
  return buf;
}

}  // namespace

Status check_private_dirs(const std::vector<DirFacts>& chain, uint32_t euid) {
  for (size_t i = 0; i < chain.size(); ++i) {
    const DirFacts& d = chain[i];
    bool holder = i == 0;
    if (!d.is_dir) return make_error(ErrorCode::InvalidArgument, d.path + " is not a directory");
    if (d.uid != euid && d.uid != 0) {
      return make_error(ErrorCode::InvalidArgument,
                        d.path + " belongs to uid " + std::to_string(d.uid) +
                            ", so that user could replace what twinboxd puts under it; use a "
                            "directory of your own (--state-dir)");
    }
    bool shared_write = (d.mode & (S_IWGRP | S_IWOTH)) != 0;
    bool sticky = (d.mode & S_ISVTX) != 0;
    if (shared_write && (holder || !sticky)) {
      return make_error(
          ErrorCode::InvalidArgument,
          d.path + " (mode " + octal(d.mode) + ") is writable by other users, who could replace " +
              (holder ? "the socket" : "the directories under it") +
              "; make it private (chmod go-w " + d.path + ") or use another --state-dir");
    }
  }
  return {};
}

Result<unsigned> parse_socket_mode(const std::string& text) {
  if (text.empty() || text.size() > 4 || text.find_first_not_of("01234567") != std::string::npos)
    return make_error(ErrorCode::InvalidArgument,
                      "--socket-mode: expected an octal mode such as 0660, got '" + text + "'");
  unsigned mode = static_cast<unsigned>(std::stoul(text, nullptr, 8));
  if (mode & 07007) {
    return make_error(ErrorCode::InvalidArgument,
                      "--socket-mode " + text +
                          ": the socket drives both engines (root in each VM), so others may not "
                          "have access and no special bits apply; use 0600 or 0660");
  }
  if ((mode & 0600) != 0600)
    return make_error(ErrorCode::InvalidArgument,
                      "--socket-mode " + text + ": twinboxd's own user needs read and write");
  return mode;
}

}  // namespace twinbox
