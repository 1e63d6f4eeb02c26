#include <gtest/gtest.h>

#include "image/manifest.hpp"
#include "store/oci_docs.hpp"

namespace twinbox::store {
namespace {

image::Descriptor desc(std::string_view media_type, std::string_view bytes, int64_t size) {
  image::Descriptor d;
  d.media_type = std::string(media_type);
  d.digest = image::sha256_digest(bytes);
  d.size = size;
  return d;
}

TEST(StoreOciDocs, ManifestParsesBackWithTheSameDescriptors) {
  auto cfg = desc(image::kOciConfig, "config", 6);
  auto l1 = desc(kOciLayerGzip, "layer1", 6);
  auto l2 = desc(kOciLayerTar, "layer2", 6);
  auto m = image::parse_image_manifest(oci_manifest_json(cfg, {l1, l2}));
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->kind, image::ManifestKind::OciManifest);
  EXPECT_EQ(m->config.digest, cfg.digest);
  ASSERT_EQ(m->layers.size(), 2u);
  EXPECT_EQ(m->layers[0].media_type, kOciLayerGzip);
  EXPECT_EQ(m->layers[1].digest, l2.digest);
}

TEST(StoreOciDocs, IndexKeepsAnnotationsAndPlatforms) {
  auto d = desc(image::kOciManifest, "m", 1);
  d.annotations["org.opencontainers.image.ref.name"] = "docker.io/library/busybox:latest";
  d.platform = image::ManifestPlatform{"linux", "arm64", "v8", "", {}, {}};
  auto idx = image::parse_index(oci_index_json({d}));
  ASSERT_TRUE(idx) << idx.error().message;
  ASSERT_EQ(idx->manifests.size(), 1u);
  EXPECT_EQ(idx->manifests[0].annotations.at("org.opencontainers.image.ref.name"),
            "docker.io/library/busybox:latest");
  ASSERT_TRUE(idx->manifests[0].platform);
  EXPECT_EQ(idx->manifests[0].platform->variant, "v8");
  auto empty = image::parse_index(oci_index_json({}));
  ASSERT_TRUE(empty) << empty.error().message;
  EXPECT_TRUE(empty->manifests.empty());
}

TEST(StoreOciDocs, PlatformStringAndLayerMagic) {
  image::ImageConfig c;
  c.os = "linux";
  c.architecture = "arm64";
  c.variant = "v8";
  EXPECT_EQ(config_platform(c), "linux/arm64/v8");
  c.architecture = "amd64";
  c.variant = "";
  EXPECT_EQ(config_platform(c), "linux/amd64");
  EXPECT_EQ(layer_media_type_from_magic(std::string("\x1f\x8b\x08\x00", 4)), kOciLayerGzip);
  EXPECT_EQ(layer_media_type_from_magic(std::string("\x28\xb5\x2f\xfd", 4)), kOciLayerZstd);
  EXPECT_EQ(layer_media_type_from_magic("bin/busybox"), kOciLayerTar);
  EXPECT_EQ(layer_media_type_from_magic(""), kOciLayerTar);
}

}  // namespace
}  // namespace twinbox::store
