#include "store/content_store.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <set>

#include "image/media_types.hpp"
#include "platform/reference.hpp"
#include "store/archive_rules.hpp"
#include "store/oci_docs.hpp"
#include "util/fs.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"

namespace twinbox::store {

namespace {

Error errno_error(const std::string& what) {
  return make_error(errno == ENOENT ? ErrorCode::NotFound : ErrorCode::Io,
                    what + ": " + std::strerror(errno));
}

void fsync_dir(const std::string& dir) {
  Fd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (d.valid()) ::fsync(d.get());
}

// Opens (creating) a lock file and flocks it. `blocking` false: Conflict when held elsewhere.
Result<Fd> flock_file(const std::string& path, int op, bool blocking) {
  Fd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!fd.valid()) return errno_error("open lock file " + path);
  int r;
  do {
    r = ::flock(fd.get(), op | (blocking ? 0 : LOCK_NB));
  } while (r != 0 && errno == EINTR);
  if (r != 0) {
    if (errno == EWOULDBLOCK) return make_error(ErrorCode::Conflict, "lock " + path + " is held");
    return errno_error("flock " + path);
  }
  return fd;
}

std::string ref_name(const image::Descriptor& d) {
  auto it = d.annotations.find(std::string(kRefNameAnnotation));
  return it == d.annotations.end() ? std::string() : it->second;
}

}  // namespace

Result<std::string> normalize_reference(std::string_view reference) {
  auto r = platform::parse_reference(reference);
  if (!r) return r.error();
  return r->canonical();
}

// ---------------------------------------------------------------------------------------------
// Ingest

Ingest::~Ingest() {
  if (!done_) abort();
}

Status Ingest::write(std::string_view chunk) {
  if (done_) return make_error(ErrorCode::Internal, "write after commit/abort of " + tmp_path_);
  hash_.update(chunk);
  written_ += static_cast<int64_t>(chunk.size());
  if (expected_size_ >= 0 && written_ > expected_size_) {
    std::string what = expected_.empty() ? std::string("blob") : expected_.str();
    abort();
    return make_error(ErrorCode::InvalidArgument, what + ": more bytes than the expected size " +
                                                      std::to_string(expected_size_) +
                                                      "; nothing stored");
  }
  if (auto st = write_all(fd_.get(), chunk); !st) {
    abort();
    return st.error().context("write ingest file");
  }
  // Start writeback of what is written so far: the disk works while the next chunks are hashed,
  // the final fsync has little left to wait for, and a large layer never piles up dirty pages.
  if (written_ - flushed_ >= kWritebackStep) {
    ::sync_file_range(fd_.get(), flushed_, written_ - flushed_, SYNC_FILE_RANGE_WRITE);
    flushed_ = written_;
  }
  return {};
}

void Ingest::abort() {
  if (done_) return;
  done_ = true;
  fd_.reset();
  ::unlink(tmp_path_.c_str());
  lease_.reset();
}

Status Ingest::commit() {
  auto r = finish(true);
  if (!r) return r.error();
  return {};
}

Result<BlobInfo> Ingest::commit_computed() { return finish(false); }

Result<BlobInfo> Ingest::finish(bool verify) {
  if (done_) return make_error(ErrorCode::Internal, "commit after commit/abort of " + tmp_path_);
  image::Digest actual = image::Digest::from_sha256(hash_.final());
  std::string what = expected_.empty() ? actual.str() : expected_.str();
  if (verify || !expected_.empty()) {
    if (expected_.empty()) {
      abort();
      return make_error(ErrorCode::Internal, "commit() of an ingest started without a digest");
    }
    if (actual != expected_) {
      abort();
      return make_error(ErrorCode::InvalidArgument,
                        "digest mismatch: expected " + expected_.str() + ", got " + actual.str() +
                            " (" + std::to_string(written_) + " bytes); nothing stored");
    }
  }
  if (expected_size_ >= 0 && written_ != expected_size_) {
    abort();
    return make_error(ErrorCode::InvalidArgument,
                      what + ": size mismatch: expected " + std::to_string(expected_size_) +
                          " bytes, got " + std::to_string(written_) + "; nothing stored");
  }
  if (::fsync(fd_.get()) != 0) {
    Error e = errno_error("fsync " + tmp_path_);
    abort();
    return e;
  }
  fd_.reset();
  std::string dst = store_->blob_path(actual);
  // rename() replaces atomically: a concurrent ingest of the same digest wrote the same bytes.
  if (::rename(tmp_path_.c_str(), dst.c_str()) != 0) {
    Error e = errno_error("rename " + tmp_path_ + " to " + dst);
    abort();
    return e;
  }
  done_ = true;
  fsync_dir(fs::dirname(dst));
  lease_.reset();
  return BlobInfo{actual, written_};
}

// ---------------------------------------------------------------------------------------------
// ContentStore: blobs

Result<std::unique_ptr<ContentStore>> ContentStore::open(const std::string& root_in) {
  std::string root = fs::absolute(root_in);
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  auto ctx = [&](const Error& e) { return e.context("open content store " + root); };
  for (const char* sub : {"", "/blobs/sha256", "/ingest"}) {
    if (auto st = fs::make_dirs(root + sub); !st) return ctx(st.error());
  }
  std::unique_ptr<ContentStore> s(new ContentStore(root));
  if (!fs::exists(root + "/oci-layout")) {
    if (auto st = fs::write_file_atomic(root + "/oci-layout", std::string(kOciLayoutFile)); !st)
      return ctx(st.error());
  }
  {
    std::lock_guard<std::mutex> lk(s->index_mu_);
    auto lock = s->lock_index();
    if (!lock) return ctx(lock.error());
    if (!fs::exists(root + "/index.json")) {
      if (auto st = fs::write_file_atomic(root + "/index.json", oci_index_json({})); !st)
        return ctx(st.error());
    }
  }
  if (auto idx = s->load_index(); !idx) return ctx(idx.error());
  // Temp files of a crashed process: removable only when nobody ingests (gc lock free).
  if (auto gc_lock = flock_file(root + "/gc.lock", LOCK_EX, false); gc_lock) {
    (void)s->remove_stale_temps(nullptr);
  }
  return s;
}

std::string ContentStore::blob_path(const image::Digest& digest) const {
  return root_ + "/blobs/" + digest.algorithm() + "/" + digest.hex();
}

bool ContentStore::has(const image::Digest& digest) const {
  if (digest.empty()) return false;
  struct stat st {};
  return ::stat(blob_path(digest).c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

Result<int64_t> ContentStore::blob_size(const image::Digest& digest) const {
  struct stat st {};
  if (::stat(blob_path(digest).c_str(), &st) != 0) {
    return errno_error("blob " + digest.str() + " in " + root_);
  }
  return static_cast<int64_t>(st.st_size);
}

Result<Fd> ContentStore::open_blob(const image::Digest& digest) const {
  Fd fd(::open(blob_path(digest).c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return errno_error("open blob " + digest.str() + " in " + root_);
  return fd;
}

Result<std::string> ContentStore::read_blob(const image::Digest& digest, int64_t max_size) const {
  TRY_ASSIGN(int64_t size, blob_size(digest));
  if (size > max_size) {
    return make_error(ErrorCode::InvalidArgument,
                      "blob " + digest.str() + " is " + std::to_string(size) +
                          " bytes, more than the " + std::to_string(max_size) +
                          " allowed for a document; it is not a manifest or config");
  }
  TRY_ASSIGN(Fd fd, open_blob(digest));
  auto r = read_to_eof(fd.get());
  if (!r) return r.error().context("read blob " + digest.str());
  return r;
}

Result<std::unique_ptr<image::BlobWriter>> ContentStore::begin(const image::Digest& digest,
                                                               int64_t expected_size) {
  if (digest.empty()) {
    return make_error(ErrorCode::InvalidArgument, "begin(): an expected digest is required");
  }
  TRY_ASSIGN(auto w, ingest(digest, expected_size));
  return std::unique_ptr<image::BlobWriter>(std::move(w));
}

Result<std::unique_ptr<Ingest>> ContentStore::ingest(const image::Digest& digest,
                                                     int64_t expected_size) {
  if (!digest.empty() && digest.algorithm() != "sha256") {
    return make_error(ErrorCode::Unavailable,
                      "cannot store " + digest.str() + ": only sha256 content can be verified");
  }
  std::unique_ptr<Ingest> w(new Ingest());
  w->store_ = this;
  w->expected_ = digest;
  w->expected_size_ = expected_size;
  TRY_ASSIGN(w->lease_, flock_file(root_ + "/gc.lock", LOCK_SH, true));
  std::string tmpl = root_ + "/ingest/" + (digest.empty() ? "unknown" : digest.hex()) + ".XXXXXX";
  int fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
  if (fd < 0) return errno_error("create ingest file in " + root_ + "/ingest");
  w->fd_.reset(fd);
  w->tmp_path_ = tmpl;
  ::fchmod(fd, 0644);
  return w;
}

Result<BlobInfo> ContentStore::put_blob(std::string_view bytes) {
  image::Digest d = image::sha256_digest(bytes);
  if (has(d)) return BlobInfo{d, static_cast<int64_t>(bytes.size())};
  TRY_ASSIGN(auto w, ingest(d, static_cast<int64_t>(bytes.size())));
  TRY(w->write(bytes));
  return w->commit_computed();
}

// ---------------------------------------------------------------------------------------------
// ContentStore: references

Result<Fd> ContentStore::lock_index() const {
  return flock_file(root_ + "/index.lock", LOCK_EX, true);
}

Result<std::vector<image::Descriptor>> ContentStore::load_index() const {
  TRY_ASSIGN(std::string text, fs::read_file(root_ + "/index.json"));
  auto idx = image::parse_index(text);
  if (!idx) {
    return idx.error().context("content store " + root_ +
                               "/index.json is corrupt (restore it or remove the store)");
  }
  return std::move(idx->manifests);
}

Result<std::string> ContentStore::platform_of_manifest(const image::Digest& manifest) const {
  TRY_ASSIGN(std::string body, read_blob(manifest, int64_t{4} << 20));
  TRY_ASSIGN(image::ImageManifest m, image::parse_image_manifest(body));
  TRY_ASSIGN(std::string cfg_text, read_blob(m.config.digest));
  TRY_ASSIGN(image::ImageConfig cfg, image::parse_image_config(cfg_text));
  return config_platform(cfg);
}

// The complete image manifests under `d` (itself, or an index's children), platforms from the
// annotations recorded by set_reference when present, else from the config.
Result<std::vector<PlatformImage>> ContentStore::complete_platforms(
    const image::Descriptor& d) const {
  std::vector<PlatformImage> out;
  if (!has(d.digest)) return out;
  TRY_ASSIGN(std::string body, read_blob(d.digest, int64_t{4} << 20));
  TRY_ASSIGN(image::Manifest m, image::parse_manifest(body, d.media_type));
  using Found = Result<std::optional<PlatformImage>>;
  auto check_manifest = [&](const image::Digest& dg, const image::ImageManifest& im) -> Found {
    if (!has(im.config.digest)) return std::optional<PlatformImage>();
    PlatformImage p;
    p.manifest = dg;
    p.config = im.config.digest;
    TRY_ASSIGN(p.size, blob_size(dg));
    p.size += im.config.size;
    for (const auto& l : im.layers) {
      if (!has(l.digest)) return std::optional<PlatformImage>();
      p.size += l.size;
    }
    auto it = d.annotations.find(std::string(kPlatformAnnotationPrefix) + dg.str());
    if (it != d.annotations.end()) {
      p.platform = it->second;
    } else {
      TRY_ASSIGN(p.platform, platform_of_manifest(dg));
    }
    return std::optional<PlatformImage>(std::move(p));
  };
  if (auto* im = std::get_if<image::ImageManifest>(&m)) {
    TRY_ASSIGN(auto p, check_manifest(d.digest, *im));
    if (p) out.push_back(std::move(*p));
    return out;
  }
  const auto& idx = std::get<image::Index>(m);
  for (const auto& child : idx.manifests) {
    if (image::is_attestation(child) || !has(child.digest)) continue;
    TRY_ASSIGN(std::string cbody, read_blob(child.digest, int64_t{4} << 20));
    auto cm = image::parse_image_manifest(cbody, child.media_type);
    if (!cm) continue;  // a nested index or an artifact: not a runnable platform
    TRY_ASSIGN(auto p, check_manifest(child.digest, *cm));
    if (p) out.push_back(std::move(*p));
  }
  return out;
}

Status ContentStore::annotate(image::Descriptor& d, const std::string& canonical) const {
  if (!has(d.digest)) {
    return make_error(ErrorCode::NotFound, "cannot point " + canonical + " at " + d.digest.str() +
                                               ": the blob is not in the content store");
  }
  for (auto it = d.annotations.begin(); it != d.annotations.end();) {
    it = starts_with(it->first, kPlatformAnnotationPrefix) ? d.annotations.erase(it) : ++it;
  }
  d.annotations[std::string(kRefNameAnnotation)] = canonical;
  d.annotations[std::string(kContainerdNameAnnotation)] = canonical;
  image::Descriptor bare = d;
  bare.annotations.clear();
  TRY_ASSIGN(auto platforms, complete_platforms(bare));
  for (const auto& p : platforms) {
    d.annotations[std::string(kPlatformAnnotationPrefix) + p.manifest.str()] = p.platform;
  }
  return {};
}

Status ContentStore::set_reference(const std::string& reference, const image::Descriptor& target) {
  return set_references({{reference, target}});
}

Status ContentStore::set_references(
    const std::vector<std::pair<std::string, image::Descriptor>>& refs) {
  std::vector<std::pair<std::string, image::Descriptor>> prepared;
  for (const auto& [reference, target] : refs) {
    TRY_ASSIGN(std::string canonical, normalize_reference(reference));
    image::Descriptor d = target;
    TRY(annotate(d, canonical));
    prepared.emplace_back(canonical, std::move(d));
  }
  std::lock_guard<std::mutex> lk(index_mu_);
  TRY_ASSIGN(Fd lock, lock_index());
  TRY_ASSIGN(auto entries, load_index());
  for (auto& [canonical, d] : prepared) {
    bool replaced = false;
    for (auto& e : entries) {
      if (ref_name(e) == canonical) {
        e = d;
        replaced = true;
      }
    }
    if (!replaced) entries.push_back(d);
  }
  return fs::write_file_atomic(root_ + "/index.json", oci_index_json(entries));
}

Result<image::Descriptor> ContentStore::resolve(const std::string& reference) const {
  TRY_ASSIGN(std::string canonical, normalize_reference(reference));
  TRY_ASSIGN(auto entries, load_index());
  for (auto& e : entries) {
    if (ref_name(e) == canonical) return e;
  }
  return make_error(ErrorCode::NotFound, "no image " + canonical + " in the content store");
}

Result<std::vector<PlatformImage>> ContentStore::complete_platforms(
    const std::string& reference) const {
  TRY_ASSIGN(image::Descriptor d, resolve(reference));
  return complete_platforms(d);
}

Result<std::vector<ImageRecord>> ContentStore::list() const {
  TRY_ASSIGN(auto entries, load_index());
  std::vector<ImageRecord> out;
  for (auto& e : entries) {
    std::string name = ref_name(e);
    if (name.empty()) continue;  // an unnamed entry (another tool's): not an image we list
    ImageRecord r;
    r.reference = name;
    auto pl = complete_platforms(e);
    if (pl) r.platforms = std::move(*pl);
    r.descriptor = std::move(e);
    out.push_back(std::move(r));
  }
  return out;
}

Status ContentStore::remove_reference(const std::string& reference) {
  TRY_ASSIGN(std::string canonical, normalize_reference(reference));
  std::lock_guard<std::mutex> lk(index_mu_);
  TRY_ASSIGN(Fd lock, lock_index());
  TRY_ASSIGN(auto entries, load_index());
  size_t before = entries.size();
  std::erase_if(entries, [&](const image::Descriptor& e) { return ref_name(e) == canonical; });
  if (entries.size() == before) {
    return make_error(ErrorCode::NotFound, "no image " + canonical + " in the content store");
  }
  return fs::write_file_atomic(root_ + "/index.json", oci_index_json(entries));
}

// ---------------------------------------------------------------------------------------------
// ContentStore: lifetime

Result<Lease> ContentStore::lease() const {
  TRY_ASSIGN(Fd fd, flock_file(root_ + "/gc.lock", LOCK_SH, true));
  return Lease(std::move(fd));
}

Status ContentStore::remove_stale_temps(GcReport* report) {
  std::string dir = root_ + "/ingest";
  DIR* d = ::opendir(dir.c_str());
  if (!d) return errno_error("open " + dir);
  while (auto* ent = ::readdir(d)) {
    std::string n = ent->d_name;
    if (n == "." || n == "..") continue;
    if (::unlink((dir + "/" + n).c_str()) == 0 && report) report->temp_files_removed++;
  }
  ::closedir(d);
  return {};
}

Result<std::vector<BlobInfo>> ContentStore::reachable_blobs(
    const std::vector<std::string>& references) const {
  std::vector<image::Descriptor> roots;
  for (const auto& r : references) {
    TRY_ASSIGN(image::Descriptor d, resolve(r));
    roots.push_back(std::move(d));
  }
  return walk(std::move(roots));
}

Result<std::vector<BlobInfo>> ContentStore::walk(std::vector<image::Descriptor> todo) const {
  std::vector<BlobInfo> out;
  std::set<image::Digest> seen;
  while (!todo.empty()) {
    image::Descriptor d = std::move(todo.back());
    todo.pop_back();
    if (!seen.insert(d.digest).second || !has(d.digest)) continue;
    TRY_ASSIGN(int64_t size, blob_size(d.digest));
    out.push_back(BlobInfo{d.digest, size});
    auto kind = image::classify_media_type(d.media_type);
    bool maybe_manifest = image::is_index(kind) || image::is_image_manifest(kind) ||
                          kind == image::ManifestKind::Unknown;
    // Layers and configs are not parsed: only documents with a manifest media type are walked
    // (an Unknown type is tried, and ignored when it does not parse as a manifest).
    if (!maybe_manifest || size > (int64_t{4} << 20)) continue;
    if (d.media_type.find("layer") != std::string::npos ||
        d.media_type.find("config") != std::string::npos) {
      continue;
    }
    TRY_ASSIGN(std::string body, read_blob(d.digest, int64_t{4} << 20));
    auto m = image::parse_manifest(body, d.media_type);
    if (!m) continue;
    if (auto* idx = std::get_if<image::Index>(&*m)) {
      for (auto& c : idx->manifests) todo.push_back(c);
    } else {
      auto& im = std::get<image::ImageManifest>(*m);
      todo.push_back(im.config);
      for (auto& l : im.layers) todo.push_back(l);
    }
  }
  return out;
}

Result<GcReport> ContentStore::gc() {
  auto gc_lock = flock_file(root_ + "/gc.lock", LOCK_EX, false);
  if (!gc_lock) {
    if (gc_lock.error().code == ErrorCode::Conflict) {
      return make_error(ErrorCode::Conflict,
                        "content store " + root_ +
                            ": a pull or import is in progress; run gc again when it finishes");
    }
    return gc_lock.error();
  }
  // Hold the index lock too, so no reference is added between marking and sweeping.
  std::lock_guard<std::mutex> lk(index_mu_);
  TRY_ASSIGN(Fd index_lock, lock_index());
  GcReport report;
  TRY(remove_stale_temps(&report));
  TRY_ASSIGN(auto entries, load_index());
  // Every entry is a root, named or not (an unnamed one was written by another tool).
  TRY_ASSIGN(auto live, walk(entries));
  std::set<std::string> keep;
  for (auto& b : live) keep.insert(b.digest.hex());
  std::string dir = root_ + "/blobs/sha256";
  DIR* d = ::opendir(dir.c_str());
  if (!d) return errno_error("open " + dir);
  std::vector<std::string> victims;
  while (auto* ent = ::readdir(d)) {
    std::string n = ent->d_name;
    if (n == "." || n == ".." || keep.count(n)) continue;
    victims.push_back(n);
  }
  ::closedir(d);
  for (auto& n : victims) {
    std::string p = dir + "/" + n;
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) continue;
    if (::unlink(p.c_str()) == 0) {
      report.blobs_removed++;
      report.bytes_freed += st.st_size;
    } else {
      log::warn("store", "gc: cannot remove " + p + ": " + std::strerror(errno));
    }
  }
  fsync_dir(dir);
  return report;
}

}  // namespace twinbox::store
