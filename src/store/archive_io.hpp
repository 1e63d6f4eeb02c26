#pragma once
// Image archives in and out of the content store, with libarchive:
// - import_archive: an OCI archive (oci-layout + index.json + blobs, as `skopeo copy
//   oci-archive:` or `docker save` of docker >= 25 write) or a docker-archive (manifest.json +
//   config + layer tars, as docker 20.10 `docker save` writes), optionally gzip/xz/zstd
//   compressed, read defensively (see archive_rules.hpp) and digest-verified blob by blob;
// - export_archive: an OCI archive of references, written to a temp file and renamed;
// - write_docker_archive: a `docker load` tarball for one image manifest, streamed to a callback
//   (the body of `POST /images/load` into a guest engine) with no temp file.
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "image/manifest.hpp"
#include "store/archive_rules.hpp"
#include "store/content_store.hpp"
#include "util/result.hpp"

namespace twinbox::store {

struct ImportOptions {
  // `--name`: the repository (or repository:tag) for images the archive names only by tag or not
  // at all. Ignored for images the archive names fully.
  std::string name;
  ArchiveLimits limits;
};

struct ImportedImage {
  std::string reference;         // full normalized reference now in the store
  image::Descriptor descriptor;  // what it points at (index or image manifest)
};

struct ImportResult {
  std::string format;  // "oci-archive" or "docker-archive"
  std::vector<ImportedImage> images;
};

// Imports every image in the archive at `path`. On any error no reference is added and the blobs
// it wrote are removed (gc() right after; when another pull or import is running, the next gc()
// does it). Entries may add up to the store disk's free space less limits.keep_free_bytes;
// sparse entries are refused.
Result<ImportResult> import_archive(ContentStore& store, const std::string& path,
                                    const ImportOptions& options = {});

// Writes an OCI archive with oci-layout, index.json (one entry per reference, annotated with
// org.opencontainers.image.ref.name and io.containerd.image.name = the full reference) and every
// blob the store has under those references. Written to "<path>.tmp.<pid>" then renamed.
Status export_archive(const ContentStore& store, const std::vector<std::string>& references,
                      const std::string& path);

using WriteFn = std::function<Status(std::string_view)>;

// Streams a docker-archive for the image manifest `manifest` tagged `repo_tags` ("name:tag";
// digests are refused since docker load cannot tag by digest) to `write`: manifest.json, the
// config as "<hex>.json" and each layer blob as stored under "blobs/sha256/<hex>" (dockerd's
// load decompresses gzip/zstd/xz layers itself). An error from `write` stops the stream and is
// returned. NotFound when the manifest, config or a layer is missing.
Status write_docker_archive(const ContentStore& store, const image::Digest& manifest,
                            const std::vector<std::string>& repo_tags, const WriteFn& write);

}  // namespace twinbox::store
