#pragma once
// The OCI documents the store writes itself: descriptors, the layout's index.json (the store's
// reference table), image manifests converted from docker-archives; and the platform string of
// an image config. Pure.
#include <string>
#include <string_view>
#include <vector>

#include "image/manifest.hpp"
#include "util/result.hpp"

namespace twinbox::store {

inline constexpr std::string_view kOciLayoutFile = "{\"imageLayoutVersion\":\"1.0.0\"}";
inline constexpr std::string_view kOciLayerTar = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view kOciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view kOciLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
// On a reference entry of the store's index.json: the platform of one image manifest reachable
// from it, read from its config when the reference was set (key suffix: the manifest digest).
inline constexpr std::string_view kPlatformAnnotationPrefix = "io.twinbox.platform.";

// A descriptor as JSON text (mediaType, digest, size, then the optional fields when set).
std::string descriptor_json(const image::Descriptor& d);
// index.json of an OCI layout with these entries (schemaVersion 2, OCI index media type).
std::string oci_index_json(const std::vector<image::Descriptor>& manifests);
// An OCI image manifest (schemaVersion 2) for a config and layers.
std::string oci_manifest_json(const image::Descriptor& config,
                              const std::vector<image::Descriptor>& layers);
// "os/arch[/variant]" exactly as the config says it ("linux/arm64/v8"); unnormalized so the
// consumer decides (platform::parse_platform normalizes).
std::string config_platform(const image::ImageConfig& c);
// The layer media type for a blob starting with `head` (its first bytes): gzip (1f 8b), zstd
// (28 b5 2f fd), otherwise an uncompressed tar.
std::string_view layer_media_type_from_magic(std::string_view head);

}  // namespace twinbox::store
