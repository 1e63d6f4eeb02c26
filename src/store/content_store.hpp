#pragma once
// The host's content store: one OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/`)
// that both utility VMs are fed from, so one fetch serves either. Blobs are content-addressed and
// written crash-safe (temp file in the store, verify digest and size, fsync, rename); the
// reference table is index.json itself (entries annotated with the full reference), rewritten
// atomically under a mutex and an flock. See src/store/README.md for the design.
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "image/blob_sink.hpp"
#include "image/manifest.hpp"
#include "util/fd.hpp"
#include "util/result.hpp"

namespace twinbox::store {

// One runnable platform of a reference whose manifest, config and every layer are present.
struct PlatformImage {
  std::string platform;    // from the config, as written: "linux/arm64/v8", "linux/amd64"
  image::Digest manifest;  // the image manifest (what a container pins)
  image::Digest config;    // its config: the image ID an engine shows once it is loaded
  int64_t size = 0;        // manifest + config + layers, bytes as stored
};

struct ImageRecord {
  std::string reference;                 // full normalized: "docker.io/library/busybox:latest"
  image::Descriptor descriptor;          // what it points at: an index or one image manifest
  std::vector<PlatformImage> platforms;  // locally complete platforms only
};

struct GcReport {
  int64_t blobs_removed = 0;
  int64_t bytes_freed = 0;
  int64_t temp_files_removed = 0;
};

class ContentStore;

struct BlobInfo {
  image::Digest digest;
  int64_t size = 0;
};

// An ingest in progress: a temp file under <root>/ingest hashed as it is written. Besides the
// BlobWriter contract (commit() verifies the expected digest), commit_computed() stores the blob
// under whatever digest it hashed to (for archive entries whose digest nobody announced).
class Ingest : public image::BlobWriter {
 public:
  ~Ingest() override;
  Status write(std::string_view chunk) override;
  Status commit() override;
  void abort() override;
  Result<BlobInfo> commit_computed();

 private:
  friend class ContentStore;
  Ingest() = default;
  Result<BlobInfo> finish(bool verify);
  ContentStore* store_ = nullptr;
  std::string tmp_path_;
  Fd fd_;
  Fd lease_;  // shared lock on <root>/gc.lock: gc waits for us
  image::Sha256 hash_;
  int64_t written_ = 0;
  int64_t flushed_ = 0;  // writeback started up to here (sync_file_range)
  static constexpr int64_t kWritebackStep = int64_t{8} << 20;
  image::Digest expected_;
  int64_t expected_size_ = -1;
  bool done_ = false;
};

// Keeps gc() from running (in any process) while held: take one around a pull or an import so
// blobs committed but not yet referenced survive. Ingests hold one implicitly.
class Lease {
 public:
  Lease() = default;
  explicit Lease(Fd fd) : fd_(std::move(fd)) {}
  bool held() const { return fd_.valid(); }

 private:
  Fd fd_;
};

class ContentStore : public image::BlobSink {
 public:
  // Opens (creating if needed) the layout at `root`. Removes stale ingest temp files when no
  // ingest is in progress in any process.
  static Result<std::unique_ptr<ContentStore>> open(const std::string& root);

  const std::string& root() const { return root_; }

  // --- blobs (image::BlobSink) ---
  bool has(const image::Digest& digest) const override;
  // Only sha256 digests (Unavailable for others: nothing here can verify them).
  Result<std::unique_ptr<image::BlobWriter>> begin(const image::Digest& digest,
                                                   int64_t expected_size) override;
  // Same as begin() but returning the concrete type; `digest` may be empty (commit_computed()).
  Result<std::unique_ptr<Ingest>> ingest(const image::Digest& digest, int64_t expected_size);
  // Stores `bytes` (small documents: manifests, configs) and returns their digest.
  Result<BlobInfo> put_blob(std::string_view bytes);
  // A blob's bytes, for documents: NotFound when absent, InvalidArgument when over `max_size`.
  Result<std::string> read_blob(const image::Digest& digest,
                                int64_t max_size = int64_t{8} << 20) const;
  // For layers: the file's path (present or not) and a read-only fd.
  std::string blob_path(const image::Digest& digest) const;
  Result<Fd> open_blob(const image::Digest& digest) const;
  Result<int64_t> blob_size(const image::Digest& digest) const;

  // --- references (index.json) ---
  // Points `reference` (any form platform::parse_reference accepts; stored fully normalized) at
  // `target`, an index or an image manifest whose blob must be present. Records the platform of
  // every complete image manifest under it so listing need not re-read configs.
  Status set_reference(const std::string& reference, const image::Descriptor& target);
  // Several at once, in one rewrite of index.json (all or none).
  Status set_references(const std::vector<std::pair<std::string, image::Descriptor>>& refs);
  // NotFound when the reference is not in the store.
  Result<image::Descriptor> resolve(const std::string& reference) const;
  // The platforms of `reference` whose manifest, config and layers are all present.
  Result<std::vector<PlatformImage>> complete_platforms(const std::string& reference) const;
  // The same for a descriptor (an index or an image manifest) that need not be a reference.
  Result<std::vector<PlatformImage>> complete_platforms(const image::Descriptor& d) const;
  Result<std::vector<ImageRecord>> list() const;
  // NotFound when absent. Blobs stay until gc().
  Status remove_reference(const std::string& reference);

  // --- lifetime ---
  // A shared lock that makes gc() wait (see Lease).
  Result<Lease> lease() const;
  // Deletes blobs unreachable from every reference (reference -> index -> manifests -> config and
  // layers) and stale ingest temp files. Conflict when a lease or ingest is active anywhere.
  Result<GcReport> gc();
  // Every blob reachable from the given references (present ones only), each once.
  Result<std::vector<BlobInfo>> reachable_blobs(const std::vector<std::string>& references) const;

 private:
  friend class Ingest;
  explicit ContentStore(std::string root) : root_(std::move(root)) {}
  Result<std::vector<image::Descriptor>> load_index() const;
  Result<Fd> lock_index() const;
  Result<std::string> platform_of_manifest(const image::Digest& manifest) const;
  Status annotate(image::Descriptor& d, const std::string& canonical) const;
  Status remove_stale_temps(GcReport* report);
  Result<std::vector<BlobInfo>> walk(std::vector<image::Descriptor> roots) const;

  std::string root_;
  mutable std::mutex index_mu_;
};

// The fully normalized form of `reference` the store keys by (InvalidArgument when malformed).
Result<std::string> normalize_reference(std::string_view reference);

}  // namespace twinbox::store
