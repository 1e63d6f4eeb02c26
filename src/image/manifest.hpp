#pragma once
// Manifest, index and image config documents as plain values. Parsing validates what the rest of
// the pull relies on (schemaVersion 2, digest syntax, non-negative sizes, required fields) and
// names the offending field in every error. Platforms stay plain strings here: choosing among
// them is the platform matcher's job (src/platform), not this module's.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "image/digest.hpp"
#include "image/media_types.hpp"
#include "util/result.hpp"

namespace twinbox::image {

// The "platform" object of an index entry, verbatim (no normalization).
struct ManifestPlatform {
  std::string os;
  std::string architecture;
  std::string variant;
  std::string os_version;                // "os.version"
  std::vector<std::string> os_features;  // "os.features"
  std::vector<std::string> features;
};

// An OCI content descriptor (index entry, config or layer).
struct Descriptor {
  std::string media_type;
  Digest digest;
  int64_t size = 0;
  std::optional<ManifestPlatform> platform;
  std::map<std::string, std::string> annotations;
  std::vector<std::string> urls;
  std::string artifact_type;
};

// An OCI image index or a Docker manifest list.
struct Index {
  ManifestKind kind = ManifestKind::OciIndex;
  std::string media_type;  // canonical media type of `kind`
  std::vector<Descriptor> manifests;
  std::map<std::string, std::string> annotations;
};

// An OCI image manifest or a Docker v2 schema 2 manifest.
struct ImageManifest {
  ManifestKind kind = ManifestKind::OciManifest;
  std::string media_type;
  Descriptor config;
  std::vector<Descriptor> layers;
  std::map<std::string, std::string> annotations;
  std::string artifact_type;
  std::optional<Descriptor> subject;
};

// The parts of an image config the pull and the run need.
struct ImageConfig {
  std::string architecture;
  std::string os;
  std::string variant;
  std::string os_version;
  std::string created;  // RFC 3339 as sent; empty when absent
  std::string rootfs_type;
  std::vector<Digest> diff_ids;
};

using Manifest = std::variant<Index, ImageManifest>;

// `content_type` is the HTTP Content-Type of the response ("" when unknown). It is used only when
// the body has no mediaType; failing both, the kind is inferred from the fields present.
Result<Manifest> parse_manifest(std::string_view body, std::string_view content_type = {});
// Like parse_manifest, but the document must be of that family.
Result<Index> parse_index(std::string_view body, std::string_view content_type = {});
Result<ImageManifest> parse_image_manifest(std::string_view body,
                                           std::string_view content_type = {});
Result<ImageConfig> parse_image_config(std::string_view body);

// BuildKit pushes provenance/SBOM attestations as index entries with platform unknown/unknown and
// this annotation; they are never a runnable image.
bool is_attestation(const Descriptor& d);

// The config must describe exactly one diff_id per layer.
Status check_config_matches(const ImageManifest& m, const ImageConfig& c);

}  // namespace twinbox::image
