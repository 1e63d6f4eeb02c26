#include "util/fs.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <vector>

#include "util/fd.hpp"
#include "util/path_safety.hpp"

namespace twinbox::fs {

static Error io_error(const std::string& what) {
  return make_error(errno == ENOENT ? ErrorCode::NotFound : ErrorCode::Io,
                    what + ": " + std::strerror(errno));
}

Result<std::string> read_file(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return io_error("open " + path);
  auto r = read_to_eof(fd.get());
  if (!r) return r.error().context("read " + path);
  return r;
}

Status write_file_atomic(const std::string& path, const std::string& data, unsigned mode) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
  if (!fd.valid()) return io_error("create " + tmp);
  if (auto st = write_all(fd.get(), data); !st) {
    ::unlink(tmp.c_str());
    return st.error().context("write " + tmp);
  }
  if (::fsync(fd.get()) != 0) {
    Error e = io_error("fsync " + tmp);
    ::unlink(tmp.c_str());
    return e;
  }
  fd.reset();
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Error e = io_error("rename " + tmp + " to " + path);
    ::unlink(tmp.c_str());
    return e;
  }
  Fd dir(::open(dirname(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.valid()) ::fsync(dir.get());
  return {};
}

Status make_dirs(const std::string& path, unsigned mode) {
  if (path.empty()) return {};
  std::string cur;
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    cur = path.substr(0, pos);
    if (cur.empty()) continue;
    if (::mkdir(cur.c_str(), mode) != 0 && errno != EEXIST) return io_error("mkdir " + cur);
  }
  return {};
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

std::string dirname(const std::string& path) {
  auto pos = path.rfind('/');
  if (pos == std::string::npos) return ".";
  if (pos == 0) return "/";
  return path.substr(0, pos);
}

std::string absolute(const std::string& path) {
  if (!path.empty() && path[0] == '/') return path;
  char buf[4096];
  if (!::getcwd(buf, sizeof buf)) return path;
  return std::string(buf) + "/" + path;
}

std::string real_path(const std::string& path) {
  char* real = ::realpath(path.c_str(), nullptr);
  if (!real) return "";
  std::string out(real);
  ::free(real);
  return out;
}

uint64_t tree_bytes(const std::string& dir) {
  namespace sfs = std::filesystem;
  std::error_code ec;
  uint64_t total = 0;
  sfs::recursive_directory_iterator it(dir, sfs::directory_options::skip_permission_denied, ec);
  for (; !ec && it != sfs::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code e2;
    if (it->is_regular_file(e2) && !it->is_symlink(e2)) total += it->file_size(e2);
  }
  return total;
}

Status check_private_path(const std::string& file_path) {
  std::string dir = dirname(absolute(file_path));
  std::string path = real_path(dir);
  if (path.empty()) return io_error("resolve " + dir);
  std::vector<DirFacts> chain;
  for (;;) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return io_error("stat " + path);
    chain.push_back({path, st.st_uid, st.st_mode, S_ISDIR(st.st_mode)});
    if (path == "/") break;
    path = dirname(path);
  }
  auto st = check_private_dirs(chain, ::geteuid());
  if (!st) return st.error().context("refusing " + file_path);
  return {};
}

}  // namespace twinbox::fs
