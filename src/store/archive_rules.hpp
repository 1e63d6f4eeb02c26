#pragma once
// The pure rules for reading image archives defensively: which entry names are acceptable, where a
// link entry points, how large an archive may get, and which name an OCI archive's image gets.
// No files here; src/store/archive_io.cpp applies these to what libarchive reads.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace twinbox::store {

// Caps that stop a hostile or broken archive before it fills the disk or memory.
struct ArchiveLimits {
  int64_t max_entry_bytes = int64_t{16} << 30;  // one entry (a layer)
  int64_t max_total_bytes = int64_t{64} << 30;  // all entries together
  int64_t max_entries = 100000;
  int64_t max_metadata_bytes = 8 << 20;  // index.json, manifest.json, configs: read into memory
  // What an import leaves free on the content store's disk: the entries may add up to no more
  // than the free space less this (a tiny archive must not fill the disk).
  int64_t keep_free_bytes = int64_t{512} << 20;
};

// Cleans an archive entry name into a relative path without "." components, empty components or
// a trailing slash ("./blobs//sha256/" -> "blobs/sha256"; "./" -> "."). Refused with an
// InvalidArgument naming the entry: empty names, absolute paths, any ".." component (neither
// image archive format needs one) and control characters.
Result<std::string> normalize_archive_path(std::string_view name);

// Where a link entry points, as a normalized archive path. A symlink's target is relative to the
// entry's own directory ("a/layer.tar" -> "../b/layer.tar" is "b/layer.tar"); a hardlink's target
// is an archive path. Absolute targets and targets that leave the archive root are refused.
Result<std::string> resolve_link_target(std::string_view entry_path, std::string_view target,
                                        bool hardlink);

// Annotations naming an image in an OCI layout's index.json.
inline constexpr std::string_view kRefNameAnnotation = "org.opencontainers.image.ref.name";
inline constexpr std::string_view kContainerdNameAnnotation = "io.containerd.image.name";

// The full normalized reference ("127.0.0.1:5000/twinbox/busybox:latest") an OCI archive entry
// is imported under. `io.containerd.image.name` wins (containerd and newer `docker save` write
// the full name there); then `org.opencontainers.image.ref.name` when it is a full reference.
// A ref.name that is only a tag (skopeo writes "latest") is combined with `name_option` (a
// repository, "twinbox/busybox"); without one it is an InvalidArgument saying to pass --name.
// An entry with no name at all takes `name_option` as is (tag "latest" when it has none).
Result<std::string> oci_archive_reference(const std::map<std::string, std::string>& annotations,
                                          std::string_view name_option);

}  // namespace twinbox::store
