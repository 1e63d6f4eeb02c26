// Index, manifest and config parsing: recorded documents in tests/data/image and the validation
// errors, each of which must name the offending field.
#include <gtest/gtest.h>

#include <vector>

#include "image/manifest.hpp"
#include "test_data.hpp"

using namespace twinbox::image;

namespace {

std::string data(const std::string& name) { return read_test_data("image/" + name); }

const std::string kHexA(64, 'a');

// A minimal valid OCI manifest with one field replaced by `patch` (a "key": value fragment).
std::string manifest_with(const std::string& config, const std::string& layers) {
  return R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
         R"("config":)" +
         config + R"(,"layers":)" + layers + "}";
}
std::string descriptor(const std::string& digest, const std::string& size) {
  return R"({"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":")" + digest +
         R"(","size":)" + size + "}";
}

TEST(ParseIndex, OciIndexWithAttestation) {
  auto idx = parse_index(data("oci_index.json"));
  ASSERT_TRUE(idx.has_value()) << idx.error().message;
  EXPECT_EQ(idx->kind, ManifestKind::OciIndex);
  EXPECT_EQ(idx->media_type, kOciIndex);
  ASSERT_EQ(idx->manifests.size(), 4u);
  struct Want {
    const char* os;
    const char* arch;
    const char* variant;
    bool attestation;
  };
  std::vector<Want> want = {{"linux", "amd64", "", false},
                            {"linux", "arm64", "v8", false},
                            {"linux", "arm", "v7", false},
                            {"unknown", "unknown", "", true}};
  for (size_t i = 0; i < want.size(); ++i) {
    const auto& m = idx->manifests[i];
    ASSERT_TRUE(m.platform.has_value()) << i;
    EXPECT_EQ(m.platform->os, want[i].os) << i;
    EXPECT_EQ(m.platform->architecture, want[i].arch) << i;
    EXPECT_EQ(m.platform->variant, want[i].variant) << i;
    EXPECT_EQ(is_attestation(m), want[i].attestation) << i;
    EXPECT_EQ(m.media_type, kOciManifest);
  }
  EXPECT_EQ(idx->manifests[3].annotations.at("vnd.docker.reference.digest"),
            idx->manifests[0].digest.str());
}

TEST(ParseIndex, IndexEntryDigestVerifiesAgainstTheRecordedManifest) {
  auto idx = parse_index(data("oci_index.json"));
  ASSERT_TRUE(idx.has_value());
  std::string body = data("oci_manifest.json");
  EXPECT_TRUE(verify(body, idx->manifests[0].digest).has_value());
  EXPECT_EQ(idx->manifests[0].size, static_cast<int64_t>(body.size()));
}

TEST(ParseIndex, DockerManifestListWithWindowsFields) {
  auto idx = parse_index(data("docker_manifest_list.json"));
  ASSERT_TRUE(idx.has_value()) << idx.error().message;
  EXPECT_EQ(idx->kind, ManifestKind::DockerManifestList);
  ASSERT_EQ(idx->manifests.size(), 3u);
  const auto& win = *idx->manifests[2].platform;
  EXPECT_EQ(win.os, "windows");
  EXPECT_EQ(win.os_version, "10.0.20348.2700");
  EXPECT_EQ(win.os_features, std::vector<std::string>{"win32k"});
  EXPECT_EQ(idx->manifests[1].platform->variant, "v8");
}

TEST(ParseImageManifest, OciManifestAndItsConfig) {
  auto m = parse_image_manifest(data("oci_manifest.json"));
  ASSERT_TRUE(m.has_value()) << m.error().message;
  EXPECT_EQ(m->kind, ManifestKind::OciManifest);
  EXPECT_EQ(m->config.media_type, kOciConfig);
  ASSERT_EQ(m->layers.size(), 1u);
  EXPECT_EQ(m->layers[0].size, 2152262);
  EXPECT_EQ(m->annotations.at("org.opencontainers.image.created"), "2024-09-26T21:31:42Z");

  std::string cfg_body = data("image_config.json");
  EXPECT_TRUE(verify(cfg_body, m->config.digest).has_value());
  auto cfg = parse_image_config(cfg_body);
  ASSERT_TRUE(cfg.has_value()) << cfg.error().message;
  EXPECT_EQ(cfg->architecture, "amd64");
  EXPECT_EQ(cfg->os, "linux");
  EXPECT_EQ(cfg->created, "2024-09-26T21:31:42Z");
  ASSERT_EQ(cfg->diff_ids.size(), 1u);
  EXPECT_TRUE(check_config_matches(*m, *cfg).has_value());
}

TEST(ParseImageManifest, DockerV2Schema2) {
  auto m = parse_image_manifest(data("docker_manifest.json"));
  ASSERT_TRUE(m.has_value()) << m.error().message;
  EXPECT_EQ(m->kind, ManifestKind::DockerManifest);
  EXPECT_EQ(m->config.media_type, kDockerConfig);
  EXPECT_EQ(m->layers.size(), 2u);
}

TEST(ParseManifest, DispatchesOnKind) {
  auto a = parse_manifest(data("oci_index.json"));
  ASSERT_TRUE(a.has_value());
  EXPECT_TRUE(std::holds_alternative<Index>(*a));
  auto b = parse_manifest(data("docker_manifest.json"));
  ASSERT_TRUE(b.has_value());
  EXPECT_TRUE(std::holds_alternative<ImageManifest>(*b));
}

TEST(ParseManifest, WrongFamilyIsAnError) {
  auto m = parse_image_manifest(data("oci_index.json"));
  ASSERT_FALSE(m.has_value());
  EXPECT_NE(m.error().message.find("expected an image manifest, got an OCI image index"),
            std::string::npos)
      << m.error().message;
  auto i = parse_index(data("oci_manifest.json"));
  ASSERT_FALSE(i.has_value());
  EXPECT_NE(i.error().message.find("expected an index"), std::string::npos);
}

TEST(ParseManifest, Schema1IsRefusedAsTooOld) {
  auto m = parse_manifest(data("schema1_signed.json"));
  ASSERT_FALSE(m.has_value());
  EXPECT_NE(m.error().message.find("schema 1 (signed)"), std::string::npos) << m.error().message;
  EXPECT_NE(m.error().message.find("re-push"), std::string::npos);
  auto by_header = parse_manifest(R"({"schemaVersion":2})", kDockerSchema1Signed);
  ASSERT_FALSE(by_header.has_value());
  EXPECT_NE(by_header.error().message.find("too old"), std::string::npos);
}

TEST(ParseManifest, MediaTypeFromContentTypeOrShape) {
  std::string no_media_type =
      R"({"schemaVersion":2,"config":)" + descriptor("sha256:" + kHexA, "1") + R"(,"layers":[]})";
  auto docker = parse_image_manifest(no_media_type, std::string(kDockerManifest) + "; q=1");
  ASSERT_TRUE(docker.has_value()) << docker.error().message;
  EXPECT_EQ(docker->kind, ManifestKind::DockerManifest);
  auto shape = parse_image_manifest(no_media_type, "application/json");
  ASSERT_TRUE(shape.has_value());
  EXPECT_EQ(shape->kind, ManifestKind::OciManifest);
  auto idx = parse_index(R"({"schemaVersion":2,"manifests":[]})");
  ASSERT_TRUE(idx.has_value());
  EXPECT_EQ(idx->kind, ManifestKind::OciIndex);
  auto none = parse_manifest(R"({"schemaVersion":2})");
  ASSERT_FALSE(none.has_value());
  EXPECT_NE(none.error().message.find("mediaType: missing"), std::string::npos);
}

TEST(ParseManifest, BodyMediaTypeWinsOverContentType) {
  auto m = parse_manifest(data("docker_manifest_list.json"), kOciManifest);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(std::get<Index>(*m).kind, ManifestKind::DockerManifestList);
}

TEST(ParseManifest, ErrorsNameTheField) {
  const std::string good = descriptor("sha256:" + kHexA, "1");
  struct Case {
    std::string body;
    const char* says;
  };
  for (const auto& c : std::vector<Case>{
           {"not json", "manifest is not valid JSON"},
           {"[1,2]", "not an object"},
           // Issue 18: config.size nested 100 000 levels overflowed the stack when the error
           // message dumped it.
           {R"({"schemaVersion":2,"config":{"size":)" + std::string(100000, '[') +
                std::string(100000, ']') + "}}",
            "manifest nests deeper than 512 levels"},
           {R"({"schemaVersion":3,"mediaType":"application/vnd.oci.image.index.v1+json",)"
            R"("manifests":[]})",
            "schemaVersion: expected 2, got 3"},
           {R"({"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]})",
            "schemaVersion: missing"},
           {R"({"schemaVersion":"2","manifests":[]})", "schemaVersion: expected an integer"},
           {manifest_with(good, "[" + good + "," + descriptor("sha256:abc", "1") + "]"),
            "layers[1].digest: digest \"sha256:abc\""},
           {manifest_with(good, "[" + descriptor("sha256:" + kHexA, "-5") + "]"),
            "layers[0].size: must be non-negative, got -5"},
           {manifest_with(good, "[" + descriptor("sha256:" + kHexA, "1.5") + "]"),
            "layers[0].size: expected an integer"},
           {manifest_with(good, "[" + descriptor("sha256:" + kHexA, "18446744073709551615") + "]"),
            "layers[0].size: integer 18446744073709551615 is out of range"},
           {manifest_with(R"({"digest":"sha256:)" + kHexA + R"(","size":1})", "[]"),
            "config.mediaType: missing"},
           {manifest_with(good, R"({"a":1})"), "layers: expected an array"},
           {R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
            R"("layers":[]})",
            "config: missing"},
           {R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",)"
            R"("manifests":[{"mediaType":"x","digest":"sha256:)" +
                kHexA + R"(","size":1,"platform":{"os":"linux"}}]})",
            "manifests[0].platform.architecture: missing"},
           {R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",)"
            R"("manifests":[{"mediaType":"x","digest":"sha256:)" +
                kHexA + R"(","size":1,"annotations":{"k":1}}]})",
            "manifests[0].annotations[\"k\"]: expected a string"},
           {R"({"schemaVersion":2,"mediaType":7})", "mediaType: expected a string"}}) {
    auto m = parse_manifest(c.body);
    ASSERT_FALSE(m.has_value()) << c.body;
    EXPECT_EQ(m.error().code, twinbox::ErrorCode::InvalidArgument);
    EXPECT_NE(m.error().message.find(c.says), std::string::npos)
        << "want \"" << c.says << "\" in \"" << m.error().message << "\"";
  }
}

TEST(ParseImageConfig, ErrorsNameTheField) {
  struct Case {
    std::string body;
    const char* says;
  };
  for (const auto& c : std::vector<Case>{
           {R"({"os":"linux","rootfs":{"type":"layers","diff_ids":[]}})", "architecture: missing"},
           {R"({"architecture":"amd64","os":"linux"})", "rootfs: missing"},
           {R"({"architecture":"amd64","os":"linux","rootfs":{"type":"tar","diff_ids":[]}})",
            "rootfs.type: expected \"layers\""},
           {R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers",)"
            R"("diff_ids":["sha256:)" +
                kHexA + R"(","sha256:x"]}})",
            "rootfs.diff_ids[1]: digest"},
           {"{", "image config is not valid JSON"}}) {
    auto r = parse_image_config(c.body);
    ASSERT_FALSE(r.has_value()) << c.body;
    EXPECT_NE(r.error().message.find(c.says), std::string::npos)
        << "want \"" << c.says << "\" in \"" << r.error().message << "\"";
  }
}

TEST(ParseImageConfig, ArmVariant) {
  auto r = parse_image_config(R"({"architecture":"arm","os":"linux","variant":"v7",)"
                              R"("rootfs":{"type":"layers","diff_ids":[]}})");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->variant, "v7");
  EXPECT_TRUE(r->created.empty());
}

TEST(CheckConfigMatches, CountsMustAgree) {
  auto m = parse_image_manifest(data("docker_manifest.json")).value();
  auto c = parse_image_config(data("image_config.json")).value();
  auto s = check_config_matches(m, c);
  ASSERT_FALSE(s.has_value());
  EXPECT_NE(s.error().message.find("1 rootfs.diff_ids but the manifest has 2 layers"),
            std::string::npos)
      << s.error().message;
}

}  // namespace
