#include "assets/initramfs_writer.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "util/fd.hpp"
#include "util/fs.hpp"

namespace twinbox::assets {

namespace {

struct ArchiveWriteFree {
  void operator()(struct archive* a) const { archive_write_free(a); }
};
struct EntryFree {
  void operator()(struct archive_entry* e) const { archive_entry_free(e); }
};
using ArchivePtr = std::unique_ptr<struct archive, ArchiveWriteFree>;
using EntryPtr = std::unique_ptr<struct archive_entry, EntryFree>;

Error archive_failure(struct archive* a, const std::string& what) {
  const char* msg = archive_error_string(a);
  return make_error(ErrorCode::Io, what + ": " + (msg ? msg : "unknown libarchive error"));
}

Error errno_failure(const std::string& what) {
  return make_error(errno == ENOENT ? ErrorCode::NotFound : ErrorCode::Io,
                    what + ": " + std::strerror(errno));
}

// Header for one entry; for a File, `size` is the number of bytes that follow.
EntryPtr make_header(const InitramfsEntry& e, int64_t size) {
  EntryPtr h(archive_entry_new());
  archive_entry_set_pathname(h.get(), e.path.c_str());
  archive_entry_set_uid(h.get(), 0);
  archive_entry_set_gid(h.get(), 0);
  archive_entry_set_mtime(h.get(), 0, 0);
  archive_entry_set_nlink(h.get(), e.type == EntryType::Directory ? 2 : 1);
  archive_entry_set_perm(h.get(), e.mode);
  archive_entry_set_size(h.get(), 0);  // newc needs a size on every entry
  switch (e.type) {
    case EntryType::Directory:
      archive_entry_set_filetype(h.get(), AE_IFDIR);
      break;
    case EntryType::File:
      archive_entry_set_filetype(h.get(), AE_IFREG);
      archive_entry_set_size(h.get(), size);
      break;
    case EntryType::Symlink:
      archive_entry_set_filetype(h.get(), AE_IFLNK);
      archive_entry_set_symlink(h.get(), e.link_target.c_str());
      break;
    case EntryType::CharDevice:
      archive_entry_set_filetype(h.get(), AE_IFCHR);
      archive_entry_set_rdev(h.get(), makedev(e.dev_major, e.dev_minor));
      break;
  }
  return h;
}

Status write_data(struct archive* a, const char* buf, size_t len, const std::string& what) {
  while (len > 0) {
    la_ssize_t n = archive_write_data(a, buf, len);
    if (n < 0) return archive_failure(a, what);
    if (n == 0) return make_error(ErrorCode::Io, what + ": libarchive accepted no data");
    buf += n;
    len -= static_cast<size_t>(n);
  }
  return {};
}

Status write_host_file(struct archive* a, const InitramfsEntry& e) {
  const std::string what = "add " + e.path + " from " + e.source;
  Fd fd(::open(e.source.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return errno_failure(what);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return errno_failure(what);
  if (!S_ISREG(st.st_mode)) return make_error(ErrorCode::InvalidArgument, what + ": not a file");
  EntryPtr h = make_header(e, st.st_size);
  if (archive_write_header(a, h.get()) != ARCHIVE_OK) return archive_failure(a, what);
  char buf[64 * 1024];
  int64_t left = st.st_size;
  while (left > 0) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_failure(what);
    if (n == 0) return make_error(ErrorCode::Io, what + ": file shrank while being read");
    TRY(write_data(a, buf, static_cast<size_t>(n), what));
    left -= n;
  }
  return {};
}

Status write_entry(struct archive* a, const InitramfsEntry& e) {
  if (e.type == EntryType::File && !e.source.empty()) return write_host_file(a, e);
  const std::string what = "add " + e.path;
  EntryPtr h = make_header(e, static_cast<int64_t>(e.data.size()));
  if (archive_write_header(a, h.get()) != ARCHIVE_OK) return archive_failure(a, what);
  if (e.type == EntryType::File) TRY(write_data(a, e.data.data(), e.data.size(), what));
  return {};
}

Status write_archive(const std::string& tmp, const std::vector<InitramfsEntry>& entries) {
  ArchivePtr a(archive_write_new());
  if (!a) return make_error(ErrorCode::Internal, "archive_write_new failed");
  if (archive_write_set_format_cpio_newc(a.get()) != ARCHIVE_OK)
    return archive_failure(a.get(), "select newc cpio format");
  if (archive_write_add_filter_gzip(a.get()) != ARCHIVE_OK)
    return archive_failure(a.get(), "add gzip filter");
  // The kernel's initramfs unpacker does not need libarchive's default 10 KiB blocking.
  archive_write_set_bytes_in_last_block(a.get(), 1);
  if (archive_write_open_filename(a.get(), tmp.c_str()) != ARCHIVE_OK)
    return archive_failure(a.get(), "create " + tmp);
  for (const InitramfsEntry& e : entries) TRY(write_entry(a.get(), e));
  if (archive_write_close(a.get()) != ARCHIVE_OK) return archive_failure(a.get(), "finish " + tmp);
  return {};
}

Status sync_and_rename(const std::string& tmp, const std::string& out) {
  Fd fd(::open(tmp.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid() || ::fsync(fd.get()) != 0) return errno_failure("fsync " + tmp);
  if (::rename(tmp.c_str(), out.c_str()) != 0) return errno_failure("rename " + tmp + " to " + out);
  Fd dir(::open(fs::dirname(out).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.valid()) ::fsync(dir.get());
  return {};
}

}  // namespace

Status write_initramfs(const std::string& out, const std::vector<InitramfsEntry>& entries) {
  const std::string tmp = out + ".tmp." + std::to_string(::getpid());
  Status st = write_archive(tmp, entries);
  if (st) st = sync_and_rename(tmp, out);
  if (!st) {
    ::unlink(tmp.c_str());
    return st.error().context("write initramfs " + out);
  }
  return {};
}

}  // namespace twinbox::assets
