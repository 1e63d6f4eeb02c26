#pragma once
// Small images written straight into a ContentStore, for tests that need the store to hold
// something (one config, one fake layer, an OCI manifest; an index over several).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "image/media_types.hpp"
#include "store/content_store.hpp"
#include "store/oci_docs.hpp"

namespace twinbox::testing_store {

inline image::Descriptor put(store::ContentStore& store, std::string_view media_type,
                             const std::string& bytes) {
  auto b = store.put_blob(bytes);
  EXPECT_TRUE(b) << b.error().message;
  image::Descriptor d;
  d.media_type = std::string(media_type);
  if (!b) return d;
  d.digest = b->digest;
  d.size = b->size;
  return d;
}

struct TestImage {
  image::Descriptor manifest;  // with its platform set, ready for an index
  image::Descriptor config;    // its digest is the image ID an engine shows
};

// One linux/`arch` image whose single layer holds `layer_text`.
inline TestImage put_image(store::ContentStore& store, const std::string& arch,
                           const std::string& layer_text) {
  auto layer = put(store, store::kOciLayerTar, layer_text);
  nlohmann::json cfg = {{"architecture", arch},
                        {"os", "linux"},
                        {"rootfs", {{"type", "layers"}, {"diff_ids", {layer.digest.str()}}}}};
  TestImage img;
  img.config = put(store, image::kOciConfig, cfg.dump());
  img.manifest = put(store, image::kOciManifest, store::oci_manifest_json(img.config, {layer}));
  img.manifest.platform = image::ManifestPlatform{"linux", arch, "", "", {}, {}};
  return img;
}

inline image::Descriptor put_index(store::ContentStore& store,
                                   const std::vector<TestImage>& images) {
  std::vector<image::Descriptor> children;
  for (const auto& i : images) children.push_back(i.manifest);
  return put(store, image::kOciIndex, store::oci_index_json(children));
}

}  // namespace twinbox::testing_store
