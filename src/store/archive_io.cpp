#include "store/archive_io.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <variant>

#include "platform/reference.hpp"
#include "store/docker_archive.hpp"
#include "store/oci_docs.hpp"
#include "util/fd.hpp"
#include "util/fs.hpp"
#include "util/json.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"

namespace twinbox::store {

namespace {

using json = nlohmann::json;

struct ReadFree {
  void operator()(struct archive* a) const { archive_read_free(a); }
};
struct WriteFree {
  void operator()(struct archive* a) const { archive_write_free(a); }
};
struct EntryFree {
  void operator()(struct archive_entry* e) const { archive_entry_free(e); }
};
using ReadPtr = std::unique_ptr<struct archive, ReadFree>;
using WritePtr = std::unique_ptr<struct archive, WriteFree>;
using EntryPtr = std::unique_ptr<struct archive_entry, EntryFree>;

constexpr size_t kChunk = 256 * 1024;

Error archive_error(struct archive* a, const std::string& what,
                    ErrorCode code = ErrorCode::InvalidArgument) {
  const char* msg = archive_error_string(a);
  return make_error(code, what + ": " + (msg ? msg : "unknown libarchive error"));
}

Error entry_error(const std::string& name, const std::string& what,
                  ErrorCode code = ErrorCode::InvalidArgument) {
  return make_error(code, "archive entry \"" + name + "\": " + what);
}

std::string base_name(const std::string& p) {
  auto pos = p.rfind('/');
  return pos == std::string::npos ? p : p.substr(pos + 1);
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Archive-level documents: too large is an error, never spilled to the store.
bool is_top_document(const std::string& p) {
  return p == "index.json" || p == "oci-layout" || p == "manifest.json" || p == "repositories";
}

// Small files read into memory (configs, legacy per-layer json/VERSION); the rest is streamed
// into the store.
bool is_document_name(const std::string& p) {
  std::string b = base_name(p);
  return is_top_document(p) || ends_with(b, ".json") || b == "json" || b == "VERSION";
}

// What one archive entry became.
struct ArchiveFile {
  enum Kind { Memory, Blob, Link } kind = Memory;
  std::string bytes;   // Memory
  BlobInfo blob;       // Blob (stored, verified)
  std::string target;  // Link: normalized archive path
};

using FileMap = std::map<std::string, ArchiveFile>;

// Follows links (a docker 20.10 save links a layer shared by two images to its first copy).
Result<const ArchiveFile*> find_file(const FileMap& files, const std::string& path,
                                     const std::string& why) {
  std::string cur = path;
  for (int hops = 0; hops < 16; ++hops) {
    auto it = files.find(cur);
    if (it == files.end()) {
      return make_error(ErrorCode::InvalidArgument,
                        "the archive has no file \"" + cur + "\"" +
                            (cur == path ? "" : " (the target of link \"" + path + "\")") +
                            ", needed for " + why);
    }
    if (it->second.kind != ArchiveFile::Link) return &it->second;
    cur = it->second.target;
  }
  return make_error(ErrorCode::InvalidArgument,
                    "archive entry \"" + path + "\": too many levels of links");
}

// Reads the data of the current entry in chunks, enforcing the entry's declared size.
template <class F>
Status read_entry_data(struct archive* a, const std::string& name, int64_t cap, F&& sink) {
  std::string buf(kChunk, '\0');
  int64_t total = 0;
  for (;;) {
    la_ssize_t n = archive_read_data(a, buf.data(), buf.size());
    if (n == 0) break;
    if (n < 0) return archive_error(a, "archive entry \"" + name + "\": read failed");
    total += n;
    if (total > cap) {
      return entry_error(name, "more than " + std::to_string(cap) + " bytes; refusing it");
    }
    TRY(sink(std::string_view(buf.data(), static_cast<size_t>(n))));
  }
  return {};
}

struct ReadState {
  FileMap files;
  int64_t entries = 0;
  int64_t total_bytes = 0;
  int64_t memory_bytes = 0;
};

// What the store's disk can take from one import: its free space less what must stay free.
Result<int64_t> disk_budget(const ContentStore& store, const ArchiveLimits& limits) {
  struct statvfs vfs {};
  if (::statvfs(store.root().c_str(), &vfs) != 0)
    return make_error(ErrorCode::Io, "statvfs " + store.root() + ": " + std::strerror(errno));
  auto free_bytes = static_cast<int64_t>(std::min<unsigned long long>(
      static_cast<unsigned long long>(vfs.f_bavail) * vfs.f_frsize, INT64_MAX / 2));
  return std::max<int64_t>(0, free_bytes - limits.keep_free_bytes);
}

Status read_archive(ContentStore& store, const std::string& path, const ArchiveLimits& limits,
                    ReadState& st) {
  TRY_ASSIGN(int64_t budget, disk_budget(store, limits));
  ReadPtr a(archive_read_new());
  archive_read_support_filter_all(a.get());  // plain, gzip, xz, zstd, bzip2 outer compression
  archive_read_support_format_tar(a.get());  // ustar, pax, gnutar
  if (archive_read_open_filename(a.get(), path.c_str(), kChunk) != ARCHIVE_OK) {
    return archive_error(a.get(), "open archive " + path + " (is it a tar archive?)",
                         errno == ENOENT ? ErrorCode::NotFound : ErrorCode::InvalidArgument);
  }
  for (;;) {
    struct archive_entry* e = nullptr;
    int r = archive_read_next_header(a.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) {
      return archive_error(a.get(), "read archive " + path + " (is it a tar archive?)");
    }
    if (++st.entries > limits.max_entries) {
      return make_error(ErrorCode::InvalidArgument, "archive " + path + " has more than " +
                                                        std::to_string(limits.max_entries) +
                                                        " entries; refusing it");
    }
    const char* raw_name = archive_entry_pathname(e);
    std::string raw = raw_name ? raw_name : "";
    TRY_ASSIGN(std::string name, normalize_archive_path(raw));
    auto type = archive_entry_filetype(e);
    const char* hardlink = archive_entry_hardlink(e);
    if (type == AE_IFDIR && !hardlink) continue;  // directories carry nothing we use
    if (st.files.count(name)) {
      return entry_error(raw, "duplicate entry; an archive that names a file twice is ambiguous");
    }
    if (hardlink || type == AE_IFLNK) {
      bool hard = hardlink != nullptr;
      const char* t = hard ? hardlink : archive_entry_symlink(e);
      TRY_ASSIGN(std::string target, resolve_link_target(name, t ? t : "", hard));
      st.files[name] = ArchiveFile{ArchiveFile::Link, {}, {}, target};
      continue;
    }
    if (type != AE_IFREG) {
      const char* what = type == AE_IFCHR    ? "a character device"
                         : type == AE_IFBLK  ? "a block device"
                         : type == AE_IFIFO  ? "a fifo"
                         : type == AE_IFSOCK ? "a socket"
                                             : "of an unknown file type";
      return entry_error(raw, std::string("is ") + what +
                                  "; image archives hold only files, directories and links");
    }
    // A sparse entry's size is logical: 18 KB of archive could stand for 10 GiB written out.
    if (archive_entry_sparse_count(e) > 0)
      return entry_error(raw, "is a sparse file (" + std::to_string(archive_entry_size(e)) +
                                  " bytes written out in full); image archives hold none");
    int64_t size = archive_entry_size_is_set(e) ? archive_entry_size(e) : 0;
    if (size < 0 || size > limits.max_entry_bytes) {
      return entry_error(raw, std::to_string(size) + " bytes is more than the per-entry limit of " +
                                  std::to_string(limits.max_entry_bytes) + "; refusing it");
    }
    st.total_bytes += size;
    if (st.total_bytes > limits.max_total_bytes) {
      return entry_error(raw, "the archive's entries add up to more than the limit of " +
                                  std::to_string(limits.max_total_bytes) + " bytes; refusing it");
    }
    if (st.total_bytes > budget) {
      return entry_error(raw, "the archive's entries add up to more than the " +
                                  std::to_string(budget) +
                                  " bytes the content store's disk can take (its free space "
                                  "less " +
                                  std::to_string(limits.keep_free_bytes) +
                                  " bytes kept free); free space or import a smaller archive");
    }
    auto parts = split(name, '/');
    if (parts.size() == 3 && parts[0] == "blobs") {
      // An OCI blob: the name is its digest, verified as it streams in.
      auto d = image::Digest::parse(parts[1] + ":" + parts[2]);
      if (!d) return entry_error(raw, "not a valid blob name: " + d.error().message);
      if (store.has(*d)) {
        archive_read_data_skip(a.get());
      } else {
        auto w = store.ingest(*d, size);
        if (!w) return w.error().context("archive entry \"" + raw + "\"");
        TRY(read_entry_data(a.get(), raw, size, [&](std::string_view c) -> Status {
          auto s = (*w)->write(c);
          if (!s) return s.error().context("archive entry \"" + raw + "\"");
          return {};
        }));
        if (auto c = (*w)->commit(); !c) return c.error().context("archive entry \"" + raw + "\"");
      }
      st.files[name] = ArchiveFile{ArchiveFile::Blob, {}, BlobInfo{*d, size}, {}};
      continue;
    }
    if (is_document_name(name) && size <= limits.max_metadata_bytes) {
      st.memory_bytes += size;
      if (st.memory_bytes > 8 * limits.max_metadata_bytes) {
        return entry_error(raw, "the archive's JSON documents add up to more than " +
                                    std::to_string(8 * limits.max_metadata_bytes) + " bytes");
      }
      ArchiveFile f;
      TRY(read_entry_data(a.get(), raw, size, [&](std::string_view c) -> Status {
        f.bytes.append(c);
        return {};
      }));
      st.files[name] = std::move(f);
      continue;
    }
    if (is_top_document(name)) {
      return entry_error(raw, std::to_string(size) + " bytes is more than the limit of " +
                                  std::to_string(limits.max_metadata_bytes) +
                                  " for an archive document");
    }
    // A docker-archive layer (or anything else): stored under the digest it hashes to.
    auto w = store.ingest(image::Digest(), size);
    if (!w) return w.error().context("archive entry \"" + raw + "\"");
    TRY(read_entry_data(a.get(), raw, size, [&](std::string_view c) -> Status {
      auto s = (*w)->write(c);
      if (!s) return s.error().context("archive entry \"" + raw + "\"");
      return {};
    }));
    auto info = (*w)->commit_computed();
    if (!info) return info.error().context("archive entry \"" + raw + "\"");
    st.files[name] = ArchiveFile{ArchiveFile::Blob, {}, *info, {}};
  }
  return {};
}

// The sha256 of a layer after decompression (gzip, zstd, xz...), for checking a diff_id.
Result<image::Digest> uncompressed_digest(const ContentStore& store, const image::Digest& d) {
  ReadPtr a(archive_read_new());
  archive_read_support_filter_all(a.get());
  archive_read_support_format_raw(a.get());
  std::string p = store.blob_path(d);
  if (archive_read_open_filename(a.get(), p.c_str(), kChunk) != ARCHIVE_OK) {
    return archive_error(a.get(), "open layer " + d.str(), ErrorCode::Io);
  }
  struct archive_entry* e = nullptr;
  if (archive_read_next_header(a.get(), &e) != ARCHIVE_OK) {
    return archive_error(a.get(), "decompress layer " + d.str());
  }
  image::Sha256 h;
  std::string buf(kChunk, '\0');
  for (;;) {
    la_ssize_t n = archive_read_data(a.get(), buf.data(), buf.size());
    if (n == 0) break;
    if (n < 0) return archive_error(a.get(), "decompress layer " + d.str());
    h.update(buf.data(), static_cast<size_t>(n));
  }
  return image::Digest::from_sha256(h.final());
}

Result<std::string> head_bytes(const ContentStore& store, const image::Digest& d) {
  TRY_ASSIGN(Fd fd, store.open_blob(d));
  char buf[8];
  ssize_t n = ::pread(fd.get(), buf, sizeof buf, 0);
  if (n < 0) return make_error(ErrorCode::Io, "read layer " + d.str() + ": " + strerror(errno));
  return std::string(buf, static_cast<size_t>(n));
}

// What a layer blob holds: the media type its first bytes show and the digest of its
// uncompressed content (the diff_id an image config lists for it).
struct LayerContent {
  std::string_view media_type;
  image::Digest diff_id;
};

Result<LayerContent> layer_content(const ContentStore& store, const image::Digest& d) {
  TRY_ASSIGN(std::string head, head_bytes(store, d));
  LayerContent out{layer_media_type_from_magic(head), d};
  if (out.media_type != kOciLayerTar) {
    TRY_ASSIGN(out.diff_id, uncompressed_digest(store, d));
  }
  return out;
}

Status check_diff_id(const LayerContent& c, const image::Digest& want, size_t i,
                     const std::string& where) {
  if (c.diff_id == want) return {};
  return make_error(ErrorCode::InvalidArgument,
                    where + ": uncompressed content hashes to " + c.diff_id.str() +
                        " but the config's diff_ids[" + std::to_string(i) + "] is " + want.str());
}

// A descriptor's size must be its blob's: a wrong size would be stored and served to engines.
Status check_descriptor_size(const ContentStore& store, const image::Descriptor& d,
                             const std::string& where) {
  TRY_ASSIGN(int64_t size, store.blob_size(d.digest));
  if (size == d.size) return {};
  return make_error(ErrorCode::InvalidArgument,
                    where + ": the descriptor says " + std::to_string(d.size) +
                        " bytes but the blob has " + std::to_string(size));
}

// Indexes inside indexes deeper than this are refused (no tool writes more than two levels).
constexpr int kMaxIndexNesting = 4;

// Checks everything an OCI archive's descriptor leads to that the archive holds: every size, an
// image's config and, when the config is an image config, that it lists one diff_id per layer
// and each layer present uncompresses to its diff_id. What the archive leaves out (a platform
// not saved) is not an error here; complete_platforms decides which images are whole.
Status verify_oci_descriptor(const ContentStore& store, const image::Descriptor& d,
                             const std::string& where, int64_t max_document_bytes, int depth) {
  TRY(check_descriptor_size(store, d, where));
  TRY_ASSIGN(std::string body, store.read_blob(d.digest, max_document_bytes));
  auto m = image::parse_manifest(body, d.media_type);
  if (!m) return m.error().context(where);
  if (const auto* idx = std::get_if<image::Index>(&*m)) {
    if (depth >= kMaxIndexNesting) {
      return make_error(ErrorCode::InvalidArgument, where + ": indexes nested more than " +
                                                        std::to_string(kMaxIndexNesting) +
                                                        " levels deep");
    }
    for (size_t i = 0; i < idx->manifests.size(); ++i) {
      const auto& c = idx->manifests[i];
      if (!store.has(c.digest)) continue;
      TRY(verify_oci_descriptor(
          store, c, where + " manifests[" + std::to_string(i) + "] (" + c.digest.str() + ")",
          max_document_bytes, depth + 1));
    }
    return {};
  }
  const auto& im = std::get<image::ImageManifest>(*m);
  std::optional<image::ImageConfig> cfg;
  if (store.has(im.config.digest)) {
    std::string cw = where + " config (" + im.config.digest.str() + ")";
    TRY(check_descriptor_size(store, im.config, cw));
    if (im.config.media_type == image::kOciConfig || im.config.media_type == image::kDockerConfig) {
      TRY_ASSIGN(std::string cbody, store.read_blob(im.config.digest, max_document_bytes));
      auto parsed = image::parse_image_config(cbody);
      if (!parsed) return parsed.error().context(cw);
      if (parsed->diff_ids.size() != im.layers.size()) {
        return make_error(ErrorCode::InvalidArgument,
                          where + ": " + std::to_string(im.layers.size()) +
                              " layers but the config lists " +
                              std::to_string(parsed->diff_ids.size()) + " diff_ids");
      }
      cfg = std::move(*parsed);
    }
  }
  for (size_t i = 0; i < im.layers.size(); ++i) {
    const auto& l = im.layers[i];
    if (!store.has(l.digest)) continue;
    std::string lw = where + " layers[" + std::to_string(i) + "] (" + l.digest.str() + ")";
    TRY(check_descriptor_size(store, l, lw));
    if (!cfg) continue;
    auto c = layer_content(store, l.digest);
    if (!c) return c.error().context(lw);
    TRY(check_diff_id(*c, cfg->diff_ids[i], i, lw));
  }
  return {};
}

Status add_named(std::vector<std::pair<std::string, image::Descriptor>>& refs,
                 const std::string& name, const image::Descriptor& d) {
  for (auto& [n, existing] : refs) {
    if (n == name && existing.digest != d.digest) {
      return make_error(ErrorCode::InvalidArgument,
                        "the archive names two different images " + name + " (" +
                            existing.digest.str() + " and " + d.digest.str() +
                            "); pass --name only for archives holding one image");
    }
    if (n == name) return {};
  }
  refs.emplace_back(name, d);
  return {};
}

Result<ImportResult> import_oci(ContentStore& store, const FileMap& files,
                                const ImportOptions& options) {
  TRY_ASSIGN(const ArchiveFile* layout, find_file(files, "oci-layout", "an OCI archive"));
  json lj = parse_json<json>(layout->bytes);
  if (lj.is_discarded() || !lj.is_object() || !lj.contains("imageLayoutVersion")) {
    return make_error(ErrorCode::InvalidArgument,
                      "oci-layout: not a JSON object with imageLayoutVersion");
  }
  TRY_ASSIGN(const ArchiveFile* index_file, find_file(files, "index.json", "an OCI archive"));
  if (index_file->kind != ArchiveFile::Memory) {
    return make_error(ErrorCode::InvalidArgument, "index.json: not a regular file");
  }
  auto idx = image::parse_index(index_file->bytes);
  if (!idx) return idx.error().context("index.json");
  if (idx->manifests.empty()) {
    return make_error(ErrorCode::InvalidArgument, "index.json lists no images");
  }
  std::vector<std::pair<std::string, image::Descriptor>> refs;
  for (size_t i = 0; i < idx->manifests.size(); ++i) {
    const auto& d = idx->manifests[i];
    std::string where = "index.json manifests[" + std::to_string(i) + "] (" + d.digest.str() + ")";
    if (!store.has(d.digest)) {
      return make_error(ErrorCode::InvalidArgument, where + ": the blob is not in the archive");
    }
    TRY(verify_oci_descriptor(store, d, where, options.limits.max_metadata_bytes, 0));
    auto platforms = store.complete_platforms(d);
    if (!platforms) return platforms.error().context(where);
    if (platforms->empty()) {
      return make_error(ErrorCode::InvalidArgument,
                        where + ": no platform has its config and all layers in the archive");
    }
    auto name = oci_archive_reference(d.annotations, options.name);
    if (!name) return name.error().context(where);
    image::Descriptor bare = d;
    bare.annotations.clear();
    TRY(add_named(refs, *name, bare));
  }
  TRY(store.set_references(refs));
  ImportResult out;
  out.format = "oci-archive";
  for (auto& [n, d] : refs) out.images.push_back({n, d});
  return out;
}

Result<image::Descriptor> import_docker_item(ContentStore& store, const FileMap& files,
                                             const DockerArchiveItem& item,
                                             const std::string& where) {
  TRY_ASSIGN(const ArchiveFile* cfg_file, find_file(files, item.config, where + ".Config"));
  std::string cfg_bytes;
  if (cfg_file->kind == ArchiveFile::Memory) {
    cfg_bytes = cfg_file->bytes;
  } else {
    TRY_ASSIGN(cfg_bytes, store.read_blob(cfg_file->blob.digest));
  }
  TRY_ASSIGN(BlobInfo cfg_blob, store.put_blob(cfg_bytes));
  // docker names the config by its digest ("<hex>.json"): check it when it does.
  std::string b = base_name(item.config);
  if (ends_with(b, ".json") && b.size() == 64 + 5 && b.substr(0, 64) != cfg_blob.digest.hex()) {
    return make_error(ErrorCode::InvalidArgument,
                      where + ".Config \"" + item.config + "\": the file hashes to " +
                          cfg_blob.digest.str() + ", not the digest in its name");
  }
  auto cfg = image::parse_image_config(cfg_bytes);
  if (!cfg) return cfg.error().context(where + ".Config \"" + item.config + "\"");
  if (cfg->diff_ids.size() != item.layers.size()) {
    return make_error(ErrorCode::InvalidArgument,
                      where + ": " + std::to_string(item.layers.size()) +
                          " layers but the config lists " + std::to_string(cfg->diff_ids.size()) +
                          " diff_ids");
  }
  std::vector<image::Descriptor> layers;
  for (size_t i = 0; i < item.layers.size(); ++i) {
    std::string lw = where + ".Layers[" + std::to_string(i) + "] \"" + item.layers[i] + "\"";
    TRY_ASSIGN(const ArchiveFile* f, find_file(files, item.layers[i], lw));
    BlobInfo blob = f->blob;
    if (f->kind == ArchiveFile::Memory) {
      TRY_ASSIGN(blob, store.put_blob(f->bytes));
    }
    auto content = layer_content(store, blob.digest);
    if (!content) return content.error().context(lw);
    TRY(check_diff_id(*content, cfg->diff_ids[i], i, lw));
    image::Descriptor l;
    l.media_type = std::string(content->media_type);
    l.digest = blob.digest;
    l.size = blob.size;
    layers.push_back(std::move(l));
  }
  image::Descriptor config;
  config.media_type = std::string(image::kOciConfig);
  config.digest = cfg_blob.digest;
  config.size = cfg_blob.size;
  TRY_ASSIGN(BlobInfo m, store.put_blob(oci_manifest_json(config, layers)));
  image::Descriptor out;
  out.media_type = std::string(image::kOciManifest);
  out.digest = m.digest;
  out.size = m.size;
  return out;
}

Result<ImportResult> import_docker(ContentStore& store, const FileMap& files,
                                   const ImportOptions& options) {
  TRY_ASSIGN(const ArchiveFile* mf, find_file(files, "manifest.json", "a docker-archive"));
  if (mf->kind != ArchiveFile::Memory) {
    return make_error(ErrorCode::InvalidArgument, "manifest.json: not a regular file");
  }
  TRY_ASSIGN(auto items, parse_docker_archive_manifest(mf->bytes));
  if (items.empty()) {
    return make_error(ErrorCode::InvalidArgument, "docker-archive manifest.json lists no images");
  }
  std::vector<std::pair<std::string, image::Descriptor>> refs;
  for (size_t i = 0; i < items.size(); ++i) {
    std::string where = "manifest.json[" + std::to_string(i) + "]";
    TRY_ASSIGN(image::Descriptor d, import_docker_item(store, files, items[i], where));
    std::vector<std::string> names;
    for (size_t k = 0; k < items[i].repo_tags.size(); ++k) {
      auto n = normalize_reference(items[i].repo_tags[k]);
      if (!n) return n.error().context(where + ".RepoTags[" + std::to_string(k) + "]");
      names.push_back(*n);
    }
    if (names.empty()) {
      if (options.name.empty()) {
        return make_error(ErrorCode::InvalidArgument,
                          where + ": the image has no RepoTags; pass --name REPOSITORY[:TAG]");
      }
      auto n = normalize_reference(options.name);
      if (!n) return n.error().context("--name");
      names.push_back(*n);
    }
    for (auto& n : names) TRY(add_named(refs, n, d));
  }
  TRY(store.set_references(refs));
  ImportResult out;
  out.format = "docker-archive";
  for (auto& [n, d] : refs) out.images.push_back({n, d});
  return out;
}

// --- writing ---

struct CallbackSink {
  const WriteFn* fn = nullptr;
  Status status;
};

la_ssize_t callback_write(struct archive*, void* ctx, const void* buf, size_t n) {
  auto* s = static_cast<CallbackSink*>(ctx);
  if (!s->status) return -1;  // the receiver already failed: do not call it again on close
  auto st = (*s->fn)(std::string_view(static_cast<const char*>(buf), n));
  if (!st) {
    s->status = st;
    return -1;
  }
  return static_cast<la_ssize_t>(n);
}

EntryPtr file_header(const std::string& name, int64_t size, unsigned type = AE_IFREG) {
  EntryPtr h(archive_entry_new());
  archive_entry_set_pathname(h.get(), name.c_str());
  archive_entry_set_filetype(h.get(), type);
  archive_entry_set_perm(h.get(), type == AE_IFDIR ? 0755 : 0644);
  archive_entry_set_size(h.get(), type == AE_IFDIR ? 0 : size);
  archive_entry_set_mtime(h.get(), 0, 0);
  archive_entry_set_uid(h.get(), 0);
  archive_entry_set_gid(h.get(), 0);
  return h;
}

class TarWriter {
 public:
  TarWriter(struct archive* a, const CallbackSink* sink) : a_(a), sink_(sink) {}

  Status dir(const std::string& name) {
    auto h = file_header(name, 0, AE_IFDIR);
    if (archive_write_header(a_, h.get()) != ARCHIVE_OK) return fail("write " + name);
    return {};
  }
  Status bytes(const std::string& name, std::string_view data) {
    auto h = file_header(name, static_cast<int64_t>(data.size()));
    if (archive_write_header(a_, h.get()) != ARCHIVE_OK) return fail("write " + name);
    if (!data.empty() && archive_write_data(a_, data.data(), data.size()) < 0) {
      return fail("write " + name);
    }
    return {};
  }
  Status blob(const ContentStore& store, const std::string& name, const image::Digest& d) {
    TRY_ASSIGN(Fd fd, store.open_blob(d));
    TRY_ASSIGN(int64_t size, store.blob_size(d));
    auto h = file_header(name, size);
    if (archive_write_header(a_, h.get()) != ARCHIVE_OK) return fail("write " + name);
    std::string buf(kChunk, '\0');
    int64_t left = size;
    while (left > 0) {
      size_t want = static_cast<size_t>(std::min<int64_t>(left, kChunk));
      auto n = read_some(fd.get(), buf.data(), want);
      if (!n) return n.error().context("read blob " + d.str());
      if (*n == 0) {
        return make_error(ErrorCode::Io, "blob " + d.str() + " shrank while being written");
      }
      if (archive_write_data(a_, buf.data(), *n) < 0) return fail("write " + name);
      left -= static_cast<int64_t>(*n);
    }
    return {};
  }
  Status close() {
    if (archive_write_close(a_) != ARCHIVE_OK) return fail("finish the tar stream");
    return {};
  }

 private:
  Status fail(const std::string& what) {
    if (sink_ && !sink_->status) return sink_->status.error().context(what);
    return archive_error(a_, what, ErrorCode::Io);
  }
  struct archive* a_;
  const CallbackSink* sink_;
};

}  // namespace

namespace {

Result<ImportResult> import_leased(ContentStore& store, const std::string& path,
                                   const ImportOptions& options) {
  auto ctx = [&](const Error& e) { return e.context("import " + path); };
  // Blobs committed here are unreferenced until the end: keep gc away meanwhile.
  auto lease = store.lease();
  if (!lease) return ctx(lease.error());
  ReadState st;
  if (auto s = read_archive(store, path, options.limits, st); !s) return ctx(s.error());
  Result<ImportResult> r = make_error(ErrorCode::Internal, "");
  if (st.files.count("index.json")) {
    r = import_oci(store, st.files, options);
  } else if (st.files.count("manifest.json")) {
    r = import_docker(store, st.files, options);
  } else {
    r = make_error(ErrorCode::InvalidArgument,
                   "neither an OCI archive (oci-layout and index.json) nor a docker-archive "
                   "(manifest.json) at the archive's top level");
  }
  if (!r) return ctx(r.error());
  return r;
}

}  // namespace

Result<ImportResult> import_archive(ContentStore& store, const std::string& path,
                                    const ImportOptions& options) {
  auto r = import_leased(store, path, options);
  if (!r) {
    // A failed import keeps nothing it wrote: its blobs are unreferenced, so gc removes them,
    // unless another pull or import holds a lease (then the next gc does).
    auto g = store.gc();
    if (!g && g.error().code != ErrorCode::Conflict)
      log::warn("store", "after a failed import: " + g.error().message);
  }
  return r;
}

Status write_docker_archive(const ContentStore& store, const image::Digest& manifest,
                            const std::vector<std::string>& repo_tags, const WriteFn& write) {
  auto ctx = [&](const Error& e) { return e.context("docker-archive of " + manifest.str()); };
  auto body = store.read_blob(manifest, int64_t{4} << 20);
  if (!body) return ctx(body.error());
  auto m = image::parse_manifest(*body);
  if (!m) return ctx(m.error());
  auto* im = std::get_if<image::ImageManifest>(&*m);
  if (!im) {
    return ctx(make_error(ErrorCode::InvalidArgument,
                          "it is an index; docker load takes one image: pass the manifest digest "
                          "of one platform"));
  }
  auto cfg = store.read_blob(im->config.digest);
  if (!cfg) return ctx(cfg.error().context("config"));
  DockerArchiveItem item;
  item.config = im->config.digest.hex() + ".json";
  for (auto& t : repo_tags) {
    auto rt = docker_repo_tag(t);
    if (!rt) return ctx(rt.error());
    item.repo_tags.push_back(*rt);
  }
  std::vector<image::Digest> unique_layers;
  for (auto& l : im->layers) {
    if (!store.has(l.digest)) {
      return ctx(make_error(ErrorCode::NotFound, "layer " + l.digest.str() +
                                                     " is not in the content store; pull again"));
    }
    item.layers.push_back("blobs/sha256/" + l.digest.hex());
    if (std::find(unique_layers.begin(), unique_layers.end(), l.digest) == unique_layers.end()) {
      unique_layers.push_back(l.digest);
    }
  }
  WritePtr a(archive_write_new());
  archive_write_set_format_pax_restricted(a.get());
  archive_write_set_bytes_in_last_block(a.get(), 1);
  CallbackSink sink{&write, {}};
  if (archive_write_open(a.get(), &sink, nullptr, callback_write, nullptr) != ARCHIVE_OK) {
    return ctx(archive_error(a.get(), "start tar stream", ErrorCode::Io));
  }
  TarWriter w(a.get(), &sink);
  auto run = [&]() -> Status {
    TRY(w.bytes("manifest.json", docker_archive_manifest_json({item})));
    TRY(w.bytes(item.config, *cfg));
    TRY(w.dir("blobs/"));
    TRY(w.dir("blobs/sha256/"));
    for (auto& d : unique_layers) TRY(w.blob(store, "blobs/sha256/" + d.hex(), d));
    return w.close();
  };
  if (auto s = run(); !s) return ctx(s.error());
  return {};
}

Status export_archive(const ContentStore& store, const std::vector<std::string>& references,
                      const std::string& path) {
  auto ctx = [&](const Error& e) { return e.context("export to " + path); };
  if (references.empty()) {
    return make_error(ErrorCode::InvalidArgument, "export: no image references given");
  }
  std::vector<image::Descriptor> entries;
  std::vector<std::string> canonical;
  for (auto& r : references) {
    auto n = normalize_reference(r);
    if (!n) return ctx(n.error());
    if (std::find(canonical.begin(), canonical.end(), *n) != canonical.end()) continue;
    auto d = store.resolve(*n);
    if (!d) return ctx(d.error());
    image::Descriptor e = *d;
    e.annotations.clear();
    e.annotations[std::string(kRefNameAnnotation)] = *n;
    e.annotations[std::string(kContainerdNameAnnotation)] = *n;
    entries.push_back(std::move(e));
    canonical.push_back(*n);
  }
  auto blobs = store.reachable_blobs(canonical);
  if (!blobs) return ctx(blobs.error());

  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd.valid()) {
    return ctx(make_error(errno == ENOENT ? ErrorCode::NotFound : ErrorCode::Io,
                          "create " + tmp + ": " + std::strerror(errno)));
  }
  auto run = [&]() -> Status {
    WritePtr a(archive_write_new());
    archive_write_set_format_pax_restricted(a.get());
    if (archive_write_open_fd(a.get(), fd.get()) != ARCHIVE_OK) {
      return archive_error(a.get(), "start tar", ErrorCode::Io);
    }
    TarWriter w(a.get(), nullptr);
    TRY(w.bytes("oci-layout", kOciLayoutFile));
    TRY(w.bytes("index.json", oci_index_json(entries)));
    TRY(w.dir("blobs/"));
    TRY(w.dir("blobs/sha256/"));
    for (auto& b : *blobs) TRY(w.blob(store, "blobs/sha256/" + b.digest.hex(), b.digest));
    TRY(w.close());
    if (::fsync(fd.get()) != 0) {
      return make_error(ErrorCode::Io, "fsync " + tmp + ": " + std::strerror(errno));
    }
    return {};
  };
  if (auto s = run(); !s) {
    ::unlink(tmp.c_str());
    return ctx(s.error());
  }
  fd.reset();
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Error e = make_error(ErrorCode::Io, "rename " + tmp + ": " + std::strerror(errno));
    ::unlink(tmp.c_str());
    return ctx(e);
  }
  Fd dir(::open(fs::dirname(fs::absolute(path)).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.valid()) ::fsync(dir.get());
  return {};
}

}  // namespace twinbox::store
