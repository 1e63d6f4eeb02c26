#include "image/manifest.hpp"

#include "image/json_fields.hpp"

namespace twinbox::image {

using detail::child_path;
using detail::field_error;
using detail::get_digest;
using detail::get_int;
using detail::get_string;
using detail::get_string_array;
using detail::get_string_map;
using detail::index_path;
using detail::json;

namespace {

Result<ManifestPlatform> parse_platform(const json& j, const std::string& path) {
  if (!j.is_object())
    return field_error(path, std::string("expected an object, got ") + j.type_name());
  ManifestPlatform p;
  TRY_ASSIGN(p.os, get_string(j, "os", path, true));
  TRY_ASSIGN(p.architecture, get_string(j, "architecture", path, true));
  TRY_ASSIGN(p.variant, get_string(j, "variant", path, false));
  TRY_ASSIGN(p.os_version, get_string(j, "os.version", path, false));
  TRY_ASSIGN(p.os_features, get_string_array(j, "os.features", path));
  TRY_ASSIGN(p.features, get_string_array(j, "features", path));
  return p;
}

Result<Descriptor> parse_descriptor(const json& j, const std::string& path) {
  if (!j.is_object())
    return field_error(path, std::string("expected an object, got ") + j.type_name());
  Descriptor d;
  TRY_ASSIGN(d.media_type, get_string(j, "mediaType", path, true));
  TRY_ASSIGN(d.digest, get_digest(j, "digest", path));
  TRY_ASSIGN(d.size, get_int(j, "size", path, true));
  if (d.size < 0) {
    return field_error(child_path(path, "size"),
                       "must be non-negative, got " + std::to_string(d.size));
  }
  TRY_ASSIGN(d.annotations, get_string_map(j, "annotations", path));
  TRY_ASSIGN(d.urls, get_string_array(j, "urls", path));
  TRY_ASSIGN(d.artifact_type, get_string(j, "artifactType", path, false));
  auto p = j.find("platform");
  if (p != j.end() && !p->is_null()) {
    TRY_ASSIGN(d.platform, parse_platform(*p, child_path(path, "platform")));
  }
  return d;
}

Result<std::vector<Descriptor>> parse_descriptor_array(const json& doc, const char* key,
                                                       bool required) {
  std::vector<Descriptor> out;
  auto it = doc.find(key);
  if (it == doc.end() || it->is_null()) {
    if (required) return field_error(key, "missing");
    return out;
  }
  if (!it->is_array()) {
    return field_error(key, std::string("expected an array, got ") + it->type_name());
  }
  for (size_t i = 0; i < it->size(); ++i) {
    TRY_ASSIGN(Descriptor d, parse_descriptor((*it)[i], index_path(key, i)));
    out.push_back(std::move(d));
  }
  return out;
}

// Body mediaType, else Content-Type, else the shape of the document. Schema 1 and unknown types
// are refused here, before any field is read.
Result<ManifestKind> determine_kind(const json& doc, std::string_view content_type) {
  auto sv = doc.find("schemaVersion");
  if (sv != doc.end() && sv->is_number_integer() && sv->get<int64_t>() == 1) {
    return supported_manifest_kind(doc.contains("signatures") ? kDockerSchema1Signed
                                                              : kDockerSchema1);
  }
  TRY_ASSIGN(std::string media_type, get_string(doc, "mediaType", "", false));
  if (!media_type.empty()) return supported_manifest_kind(media_type);
  if (classify_media_type(content_type) != ManifestKind::Unknown) {
    return supported_manifest_kind(content_type);
  }
  if (doc.contains("manifests")) return ManifestKind::OciIndex;
  if (doc.contains("config") || doc.contains("layers")) return ManifestKind::OciManifest;
  std::string ct = content_type.empty() ? "none" : "\"" + std::string(content_type) + "\"";
  return field_error("mediaType", "missing, Content-Type " + ct +
                                      " is not a manifest type, and the document has neither "
                                      "manifests nor config");
}

Status check_schema_version(const json& doc) {
  TRY_ASSIGN(int64_t v, get_int(doc, "schemaVersion", "", true));
  if (v != 2) return field_error("schemaVersion", "expected 2, got " + std::to_string(v));
  return {};
}

Result<Index> parse_index_doc(const json& doc, ManifestKind kind) {
  Index idx;
  idx.kind = kind;
  idx.media_type = std::string(media_type_of(kind));
  TRY_ASSIGN(idx.manifests, parse_descriptor_array(doc, "manifests", true));
  TRY_ASSIGN(idx.annotations, get_string_map(doc, "annotations", ""));
  return idx;
}

Result<ImageManifest> parse_image_manifest_doc(const json& doc, ManifestKind kind) {
  ImageManifest m;
  m.kind = kind;
  m.media_type = std::string(media_type_of(kind));
  auto cfg = doc.find("config");
  if (cfg == doc.end() || cfg->is_null()) return field_error("config", "missing");
  TRY_ASSIGN(m.config, parse_descriptor(*cfg, "config"));
  TRY_ASSIGN(m.layers, parse_descriptor_array(doc, "layers", true));
  TRY_ASSIGN(m.annotations, get_string_map(doc, "annotations", ""));
  TRY_ASSIGN(m.artifact_type, get_string(doc, "artifactType", "", false));
  auto subject = doc.find("subject");
  if (subject != doc.end() && !subject->is_null()) {
    TRY_ASSIGN(m.subject, parse_descriptor(*subject, "subject"));
  }
  return m;
}

}  // namespace

Result<Manifest> parse_manifest(std::string_view body, std::string_view content_type) {
  TRY_ASSIGN(json doc, detail::parse_json_object(body, "manifest"));
  TRY_ASSIGN(ManifestKind kind, determine_kind(doc, content_type));
  TRY(check_schema_version(doc));
  if (is_index(kind)) {
    TRY_ASSIGN(Index idx, parse_index_doc(doc, kind));
    return Manifest(std::move(idx));
  }
  TRY_ASSIGN(ImageManifest m, parse_image_manifest_doc(doc, kind));
  return Manifest(std::move(m));
}

Result<Index> parse_index(std::string_view body, std::string_view content_type) {
  TRY_ASSIGN(Manifest m, parse_manifest(body, content_type));
  if (auto* idx = std::get_if<Index>(&m)) return std::move(*idx);
  return make_error(ErrorCode::InvalidArgument,
                    std::string("expected an index or manifest list, got an ") +
                        manifest_kind_name(std::get<ImageManifest>(m).kind));
}

Result<ImageManifest> parse_image_manifest(std::string_view body, std::string_view content_type) {
  TRY_ASSIGN(Manifest m, parse_manifest(body, content_type));
  if (auto* im = std::get_if<ImageManifest>(&m)) return std::move(*im);
  return make_error(ErrorCode::InvalidArgument, std::string("expected an image manifest, got an ") +
                                                    manifest_kind_name(std::get<Index>(m).kind));
}

Result<ImageConfig> parse_image_config(std::string_view body) {
  TRY_ASSIGN(json doc, detail::parse_json_object(body, "image config"));
  ImageConfig c;
  TRY_ASSIGN(c.architecture, get_string(doc, "architecture", "", true));
  TRY_ASSIGN(c.os, get_string(doc, "os", "", true));
  TRY_ASSIGN(c.variant, get_string(doc, "variant", "", false));
  TRY_ASSIGN(c.os_version, get_string(doc, "os.version", "", false));
  TRY_ASSIGN(c.created, get_string(doc, "created", "", false));
  auto rootfs = doc.find("rootfs");
  if (rootfs == doc.end() || rootfs->is_null()) return field_error("rootfs", "missing");
  if (!rootfs->is_object()) {
    return field_error("rootfs", std::string("expected an object, got ") + rootfs->type_name());
  }
  TRY_ASSIGN(c.rootfs_type, get_string(*rootfs, "type", "rootfs", true));
  if (c.rootfs_type != "layers") {
    return field_error("rootfs.type", "expected \"layers\", got \"" + c.rootfs_type + "\"");
  }
  TRY_ASSIGN(std::vector<std::string> ids, get_string_array(*rootfs, "diff_ids", "rootfs"));
  for (size_t i = 0; i < ids.size(); ++i) {
    auto d = Digest::parse(ids[i]);
    if (!d) return field_error(index_path("rootfs.diff_ids", i), d.error().message);
    c.diff_ids.push_back(std::move(d).value());
  }
  return c;
}

bool is_attestation(const Descriptor& d) {
  auto it = d.annotations.find("vnd.docker.reference.type");
  return it != d.annotations.end() && it->second == "attestation-manifest";
}

Status check_config_matches(const ImageManifest& m, const ImageConfig& c) {
  if (m.layers.size() != c.diff_ids.size()) {
    return make_error(ErrorCode::InvalidArgument, "image config lists " +
                                                      std::to_string(c.diff_ids.size()) +
                                                      " rootfs.diff_ids but the manifest has " +
                                                      std::to_string(m.layers.size()) + " layers");
  }
  return {};
}

}  // namespace twinbox::image
