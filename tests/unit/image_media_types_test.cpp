// Manifest media types: classification, what is refused and how, the Accept header.
#include <gtest/gtest.h>

#include <vector>

#include "image/media_types.hpp"

using namespace twinbox::image;

namespace {

TEST(ClassifyMediaType, Table) {
  struct Case {
    const char* in;
    ManifestKind kind;
  };
  for (const auto& c : std::vector<Case>{
           {"application/vnd.oci.image.index.v1+json", ManifestKind::OciIndex},
           {"application/vnd.oci.image.manifest.v1+json", ManifestKind::OciManifest},
           {"application/vnd.docker.distribution.manifest.list.v2+json",
            ManifestKind::DockerManifestList},
           {"application/vnd.docker.distribution.manifest.v2+json", ManifestKind::DockerManifest},
           {"application/vnd.docker.distribution.manifest.v1+json", ManifestKind::DockerSchema1},
           {"application/vnd.docker.distribution.manifest.v1+prettyjws",
            ManifestKind::DockerSchema1Signed},
           {" application/vnd.oci.image.index.v1+json; charset=utf-8", ManifestKind::OciIndex},
           {"Application/VND.Docker.Distribution.Manifest.V2+JSON", ManifestKind::DockerManifest},
           {"application/json", ManifestKind::Unknown},
           {"application/vnd.oci.image.config.v1+json", ManifestKind::Unknown},
           {"", ManifestKind::Unknown}}) {
    EXPECT_EQ(classify_media_type(c.in), c.kind) << c.in;
  }
}

TEST(IsIndex, OnlyIndexesAndLists) {
  EXPECT_TRUE(is_index(ManifestKind::OciIndex));
  EXPECT_TRUE(is_index(ManifestKind::DockerManifestList));
  EXPECT_FALSE(is_index(ManifestKind::OciManifest));
  EXPECT_TRUE(is_image_manifest(ManifestKind::DockerManifest));
  EXPECT_FALSE(is_image_manifest(ManifestKind::DockerSchema1));
  EXPECT_FALSE(is_image_manifest(ManifestKind::Unknown));
}

TEST(SupportedManifestKind, AcceptsTheFourCurrentKinds) {
  for (auto k : {ManifestKind::OciIndex, ManifestKind::OciManifest,
                 ManifestKind::DockerManifestList, ManifestKind::DockerManifest}) {
    auto r = supported_manifest_kind(media_type_of(k));
    ASSERT_TRUE(r.has_value()) << manifest_kind_name(k);
    EXPECT_EQ(*r, k);
  }
}

TEST(SupportedManifestKind, Schema1SaysTooOldAndRepush) {
  for (auto mt : {kDockerSchema1, kDockerSchema1Signed}) {
    auto r = supported_manifest_kind(mt);
    ASSERT_FALSE(r.has_value()) << mt;
    const auto& m = r.error().message;
    EXPECT_EQ(r.error().code, twinbox::ErrorCode::InvalidArgument);
    EXPECT_NE(m.find("schema 1"), std::string::npos) << m;
    EXPECT_NE(m.find(std::string(mt)), std::string::npos) << m;
    EXPECT_NE(m.find("too old"), std::string::npos) << m;
    EXPECT_NE(m.find("re-push"), std::string::npos) << m;
  }
  EXPECT_NE(supported_manifest_kind(kDockerSchema1Signed).error().message.find("signed"),
            std::string::npos);
}

TEST(SupportedManifestKind, UnknownNamesTheType) {
  auto r = supported_manifest_kind("application/vnd.cncf.helm.config.v1+json");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("unknown manifest media type"), std::string::npos);
  EXPECT_NE(r.error().message.find("application/vnd.cncf.helm.config.v1+json"), std::string::npos);
}

TEST(ManifestAcceptHeader, ListsSupportedKindsAndNotSchema1) {
  std::string h = manifest_accept_header();
  for (auto mt : {kOciIndex, kDockerManifestList, kOciManifest, kDockerManifest}) {
    EXPECT_NE(h.find(std::string(mt)), std::string::npos) << mt;
  }
  EXPECT_EQ(h.find("distribution.manifest.v1"), std::string::npos) << h;
  EXPECT_LT(h.find(std::string(kOciIndex)), h.find(std::string(kOciManifest)));
}

TEST(LayerCompression, Table) {
  struct Case {
    const char* in;
    LayerCompression want;
  };
  for (const auto& c : std::vector<Case>{
           {"application/vnd.oci.image.layer.v1.tar", LayerCompression::None},
           {"application/vnd.oci.image.layer.v1.tar+gzip", LayerCompression::Gzip},
           {"application/vnd.oci.image.layer.v1.tar+zstd", LayerCompression::Zstd},
           {"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", LayerCompression::Gzip},
           {"application/vnd.docker.image.rootfs.diff.tar.gzip", LayerCompression::Gzip},
           {"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", LayerCompression::Gzip},
           {"application/vnd.docker.image.rootfs.diff.tar", LayerCompression::None},
           {"application/vnd.in-toto+json", LayerCompression::Unknown},
           {"application/octet-stream", LayerCompression::Unknown}}) {
    EXPECT_EQ(layer_compression(c.in), c.want) << c.in;
  }
}

}  // namespace
