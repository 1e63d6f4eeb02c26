#include "store/oci_docs.hpp"

#include <nlohmann/json.hpp>

#include "image/media_types.hpp"

namespace twinbox::store {

using json = nlohmann::json;

namespace {

json descriptor_obj(const image::Descriptor& d) {
  json j = json::object();
  j["mediaType"] = d.media_type;
  j["digest"] = d.digest.str();
  j["size"] = d.size;
  if (d.platform) {
    json p = {{"os", d.platform->os}, {"architecture", d.platform->architecture}};
    if (!d.platform->variant.empty()) p["variant"] = d.platform->variant;
    if (!d.platform->os_version.empty()) p["os.version"] = d.platform->os_version;
    if (!d.platform->os_features.empty()) p["os.features"] = d.platform->os_features;
    if (!d.platform->features.empty()) p["features"] = d.platform->features;
    j["platform"] = p;
  }
  if (!d.annotations.empty()) j["annotations"] = d.annotations;
  if (!d.urls.empty()) j["urls"] = d.urls;
  if (!d.artifact_type.empty()) j["artifactType"] = d.artifact_type;
  return j;
}

}  // namespace

std::string descriptor_json(const image::Descriptor& d) { return descriptor_obj(d).dump(); }

std::string oci_index_json(const std::vector<image::Descriptor>& manifests) {
  json j = {{"schemaVersion", 2}, {"mediaType", std::string(image::kOciIndex)}};
  j["manifests"] = json::array();
  for (const auto& d : manifests) j["manifests"].push_back(descriptor_obj(d));
  return j.dump();
}

std::string oci_manifest_json(const image::Descriptor& config,
                              const std::vector<image::Descriptor>& layers) {
  json j = {{"schemaVersion", 2}, {"mediaType", std::string(image::kOciManifest)}};
  j["config"] = descriptor_obj(config);
  j["layers"] = json::array();
  for (const auto& d : layers) j["layers"].push_back(descriptor_obj(d));
  return j.dump();
}

std::string config_platform(const image::ImageConfig& c) {
  std::string s = c.os + "/" + c.architecture;
  if (!c.variant.empty()) s += "/" + c.variant;
  return s;
}

std::string_view layer_media_type_from_magic(std::string_view head) {
  if (head.size() >= 2 && static_cast<unsigned char>(head[0]) == 0x1f &&
      static_cast<unsigned char>(head[1]) == 0x8b) {
    return kOciLayerGzip;
  }
  if (head.size() >= 4 && head.substr(0, 4) == std::string_view("\x28\xb5\x2f\xfd", 4)) {
    return kOciLayerZstd;
  }
  return kOciLayerTar;
}

}  // namespace twinbox::store
