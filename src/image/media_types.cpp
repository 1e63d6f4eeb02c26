#include "image/media_types.hpp"

#include "util/strings.hpp"

namespace twinbox::image {

namespace {

// The media type proper: no parameters, trimmed, lowercased (media types are case-insensitive).
std::string bare_media_type(std::string_view s) {
  size_t semi = s.find(';');
  if (semi != std::string_view::npos) s = s.substr(0, semi);
  return to_lower(trim(s));
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

ManifestKind classify_media_type(std::string_view media_type) {
  std::string m = bare_media_type(media_type);
  if (m == kOciIndex) return ManifestKind::OciIndex;
  if (m == kOciManifest) return ManifestKind::OciManifest;
  if (m == kDockerManifestList) return ManifestKind::DockerManifestList;
  if (m == kDockerManifest) return ManifestKind::DockerManifest;
  if (m == kDockerSchema1) return ManifestKind::DockerSchema1;
  if (m == kDockerSchema1Signed) return ManifestKind::DockerSchema1Signed;
  return ManifestKind::Unknown;
}

const char* manifest_kind_name(ManifestKind k) {
  switch (k) {
    case ManifestKind::OciIndex:
      return "OCI image index";
    case ManifestKind::OciManifest:
      return "OCI image manifest";
    case ManifestKind::DockerManifestList:
      return "Docker manifest list";
    case ManifestKind::DockerManifest:
      return "Docker image manifest v2 schema 2";
    case ManifestKind::DockerSchema1:
      return "Docker image manifest v2 schema 1";
    case ManifestKind::DockerSchema1Signed:
      return "Docker image manifest v2 schema 1 (signed)";
    case ManifestKind::Unknown:
      break;
  }
  return "unknown manifest type";
}

std::string_view media_type_of(ManifestKind k) {
  switch (k) {
    case ManifestKind::OciIndex:
      return kOciIndex;
    case ManifestKind::OciManifest:
      return kOciManifest;
    case ManifestKind::DockerManifestList:
      return kDockerManifestList;
    case ManifestKind::DockerManifest:
      return kDockerManifest;
    case ManifestKind::DockerSchema1:
      return kDockerSchema1;
    case ManifestKind::DockerSchema1Signed:
      return kDockerSchema1Signed;
    case ManifestKind::Unknown:
      break;
  }
  return {};
}

bool is_index(ManifestKind k) {
  return k == ManifestKind::OciIndex || k == ManifestKind::DockerManifestList;
}

bool is_image_manifest(ManifestKind k) {
  return k == ManifestKind::OciManifest || k == ManifestKind::DockerManifest;
}

Result<ManifestKind> supported_manifest_kind(std::string_view media_type) {
  ManifestKind k = classify_media_type(media_type);
  if (is_index(k) || is_image_manifest(k)) return k;
  std::string quoted = "\"" + std::string(trim(media_type)) + "\"";
  if (k == ManifestKind::DockerSchema1 || k == ManifestKind::DockerSchema1Signed) {
    return make_error(ErrorCode::InvalidArgument,
                      std::string(manifest_kind_name(k)) + " (" + quoted +
                          ") is not supported: the registry or image is too old; re-push the "
                          "image with a current client (docker push, buildx, skopeo)");
  }
  return make_error(ErrorCode::InvalidArgument,
                    "unknown manifest media type " + quoted +
                        " (expected an OCI index or "
                        "manifest, or a Docker manifest list or v2 schema 2 manifest)");
}

std::string manifest_accept_header() {
  return join({std::string(kOciIndex), std::string(kDockerManifestList), std::string(kOciManifest),
               std::string(kDockerManifest)},
              ", ");
}

LayerCompression layer_compression(std::string_view media_type) {
  std::string m = bare_media_type(media_type);
  bool oci = starts_with(m, "application/vnd.oci.image.layer.");
  bool docker = starts_with(m, "application/vnd.docker.image.rootfs.");
  if (!oci && !docker) return LayerCompression::Unknown;
  if (ends_with(m, "+gzip") || ends_with(m, ".tar.gzip")) return LayerCompression::Gzip;
  if (ends_with(m, "+zstd")) return LayerCompression::Zstd;
  if (ends_with(m, ".tar") || ends_with(m, ".v1.tar")) return LayerCompression::None;
  return LayerCompression::Unknown;
}

}  // namespace twinbox::image
