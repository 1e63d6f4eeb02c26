#pragma once
// Manifest media types: which kind a registry answered with, and what a client asks for.
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace twinbox::image {

inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kDockerManifestList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kDockerManifest =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerSchema1 =
    "application/vnd.docker.distribution.manifest.v1+json";
inline constexpr std::string_view kDockerSchema1Signed =
    "application/vnd.docker.distribution.manifest.v1+prettyjws";
inline constexpr std::string_view kOciConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view kDockerConfig = "application/vnd.docker.container.image.v1+json";

enum class ManifestKind {
  OciIndex,
  OciManifest,
  DockerManifestList,
  DockerManifest,
  DockerSchema1,
  DockerSchema1Signed,
  Unknown,
};

// Classifies a media type or a Content-Type header value. Parameters (";charset=utf-8"),
// surrounding whitespace and case are ignored.
ManifestKind classify_media_type(std::string_view media_type);
const char* manifest_kind_name(ManifestKind k);
// The canonical media type string of a known kind ("" for Unknown).
std::string_view media_type_of(ManifestKind k);

bool is_index(ManifestKind k);           // OCI index or Docker manifest list
bool is_image_manifest(ManifestKind k);  // OCI manifest or Docker v2 schema 2

// OK for the four supported kinds. Schema 1 (signed or not) is refused with a message saying the
// registry or image is too old and should be re-pushed; anything else is an unknown media type.
Result<ManifestKind> supported_manifest_kind(std::string_view media_type);

// The Accept header value for manifest requests: every supported kind, indexes first. Schema 1
// is deliberately absent so that registries that can convert do so.
std::string manifest_accept_header();

enum class LayerCompression { None, Gzip, Zstd, Unknown };
// Compression of a layer blob from its media type (OCI and Docker rootfs types, including the
// "nondistributable"/foreign variants).
LayerCompression layer_compression(std::string_view media_type);

}  // namespace twinbox::image
