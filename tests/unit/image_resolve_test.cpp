// Offers, child selection, config checks and pinning, against the recorded fixture documents
// (tests/data/image/busybox: the local registry's twinbox/busybox index and its children) and the
// recorded BuildKit-style index with an attestation entry.
#include <gtest/gtest.h>

#include "image/resolve.hpp"
#include "test_data.hpp"

using namespace twinbox;
using namespace twinbox::image;

namespace {

std::string data(const std::string& name) { return read_test_data("image/" + name); }

platform::Reference ref_of(const std::string& s) {
  auto r = platform::parse_reference(s);
  EXPECT_TRUE(r.has_value()) << s;
  return *r;
}

platform::Platform plat(const std::string& s) {
  auto p = platform::parse_platform(s);
  EXPECT_TRUE(p.has_value()) << s;
  return *p;
}

ImageOffer index_offer(const std::string& file, const std::string& ref) {
  std::string bytes = data(file);
  auto idx = parse_index(bytes);
  EXPECT_TRUE(idx.has_value()) << idx.error().message;
  auto o = offer_from_index(ref_of(ref), sha256_digest(bytes), bytes, *idx);
  EXPECT_TRUE(o.has_value()) << o.error().message;
  return *o;
}

ImageOffer manifest_offer(const std::string& arch, const std::string& ref) {
  std::string bytes = data("busybox/" + arch + ".manifest.json");
  std::string cfg = data("busybox/" + arch + ".config.json");
  auto m = parse_image_manifest(bytes);
  auto c = parse_image_config(cfg);
  EXPECT_TRUE(m.has_value() && c.has_value());
  auto o = offer_from_manifest(ref_of(ref), sha256_digest(bytes), bytes, *m, cfg, *c);
  EXPECT_TRUE(o.has_value()) << o.error().message;
  return *o;
}

constexpr const char* kIndexDigest =
    "sha256:3c36f6eac98834e036bf30358b49b6e8c9fee97fe9fccada85420cadb46e0e4d";
constexpr const char* kAmd64 =
    "sha256:514daebe30aa8e446aa9b463bf36e71a7a6933f2a0f240f752792015fa167193";
constexpr const char* kArm64 =
    "sha256:7275d0b88500724dae3ded497fdd743d44cc2755d428b60a9f2bcb5e9f0cc3a5";
constexpr const char* kS390x =
    "sha256:ab22f47062ca969671faa93fcf268032083533227ab979943e5890753a0ed04e";

TEST(ImageOffer, FixtureIndexOffersAmd64AndArm64) {
  ImageOffer o = index_offer("busybox/index.json", "127.0.0.1:5000/twinbox/busybox");
  EXPECT_TRUE(o.is_index);
  EXPECT_EQ(o.digest.str(), kIndexDigest);
  EXPECT_EQ(o.media_type, kOciIndex);
  ASSERT_EQ(o.platforms.size(), 2u);
  EXPECT_EQ(o.platforms[0].platform.to_string(), "linux/amd64");
  EXPECT_EQ(o.platforms[0].digest.str(), kAmd64);
  // arm64/v8 in the index is normalized to arm64, as containerd does.
  EXPECT_EQ(o.platforms[1].platform.to_string(), "linux/arm64");
  EXPECT_EQ(o.platforms[1].digest.str(), kArm64);
  EXPECT_EQ(o.platforms_text(), "linux/amd64, linux/arm64");
  EXPECT_EQ(o.reference.tag, "latest");
}

TEST(ImageOffer, AttestationEntriesAreSkipped) {
  ImageOffer o = index_offer("oci_index.json", "example.com/app:1");
  ASSERT_EQ(o.platforms.size(), 3u);  // amd64, arm64/v8, arm/v7; not unknown/unknown
  for (const auto& p : o.platforms) {
    EXPECT_NE(p.platform.os, "unknown");
    EXPECT_LT(p.entry, 3u);
  }
  EXPECT_EQ(o.platforms[2].platform.to_string(), "linux/arm/v7");
}

TEST(ImageOffer, IndexWithOnlyAttestationsIsRefused) {
  std::string bytes =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[)"
      R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:)" +
      std::string(64, 'a') +
      R"(","size":10,"platform":{"os":"unknown","architecture":"unknown"},)"
      R"("annotations":{"vnd.docker.reference.type":"attestation-manifest"}}]})";
  auto idx = parse_index(bytes);
  ASSERT_TRUE(idx.has_value()) << idx.error().message;
  auto o = offer_from_index(ref_of("example.com/app"), sha256_digest(bytes), bytes, *idx);
  ASSERT_FALSE(o.has_value());
  EXPECT_NE(o.error().message.find("no runnable image manifest"), std::string::npos);
}

TEST(ImageOffer, SingleManifestOffersItsConfigPlatform) {
  ImageOffer o = manifest_offer("arm64", "127.0.0.1:5000/twinbox/busybox-arm64");
  EXPECT_FALSE(o.is_index);
  EXPECT_EQ(o.digest.str(), kArm64);
  ASSERT_EQ(o.platforms.size(), 1u);
  EXPECT_EQ(o.platforms[0].platform.to_string(), "linux/arm64");
  EXPECT_EQ(o.platforms[0].digest.str(), kArm64);
  ASSERT_TRUE(o.config.has_value());
  EXPECT_EQ(o.config->variant, "v8");
}

TEST(ImageChoosePlatform, PicksTheIndexChildForEachArch) {
  ImageOffer o = index_offer("busybox/index.json", "127.0.0.1:5000/twinbox/busybox");
  auto arm = choose_platform(o, plat("linux/arm64"));
  ASSERT_TRUE(arm.has_value()) << arm.error().message;
  EXPECT_EQ(arm->digest.str(), kArm64);
  auto armv8 = choose_platform(o, plat("linux/arm64/v8"));
  ASSERT_TRUE(armv8.has_value());
  EXPECT_EQ(armv8->digest.str(), kArm64);
  auto amd = choose_platform(o, plat("amd64"));
  ASSERT_TRUE(amd.has_value());
  EXPECT_EQ(amd->digest.str(), kAmd64);
}

TEST(ImageChoosePlatform, ContainerdPreferenceFallsBackToCompatibleEntries) {
  ImageOffer o = index_offer("oci_index.json", "example.com/app:1");
  // amd64/v3 accepts plain amd64 (containerd's vector v3 -> v2 -> v1).
  auto v3 = choose_platform(o, plat("linux/amd64/v3"));
  ASSERT_TRUE(v3.has_value()) << v3.error().message;
  EXPECT_EQ(v3->entry, 0u);
  // arm/v8 accepts arm/v7 but never arm64.
  auto armv8 = choose_platform(o, plat("linux/arm/v8"));
  ASSERT_TRUE(armv8.has_value());
  EXPECT_EQ(armv8->entry, 2u);
}

TEST(ImageChoosePlatform, NoMatchListsWhatTheImageOffers) {
  ImageOffer o = index_offer("busybox/index.json", "127.0.0.1:5000/twinbox/busybox");
  auto r = choose_platform(o, plat("linux/s390x"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::NotFound);
  EXPECT_NE(r.error().message.find("no matching manifest for linux/s390x"), std::string::npos);
  EXPECT_NE(r.error().message.find("linux/amd64, linux/arm64"), std::string::npos);
}

TEST(ImageChoosePlatform, SingleManifestIsTakenOrRefusedNeverReplaced) {
  ImageOffer o = manifest_offer("s390x", "127.0.0.1:5000/twinbox/busybox-s390x");
  auto same = choose_platform(o, plat("linux/s390x"));
  ASSERT_TRUE(same.has_value());
  EXPECT_EQ(same->digest.str(), kS390x);
  auto r = choose_platform(o, plat("linux/arm64"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::NotFound);
  EXPECT_NE(r.error().message.find("no matching manifest for linux/arm64"), std::string::npos);
  EXPECT_NE(r.error().message.find("offers linux/s390x"), std::string::npos);
}

TEST(CheckResolvedConfig, ConfigMustAgreeWithTheEntry) {
  auto m = parse_image_manifest(data("busybox/amd64.manifest.json"));
  auto c = parse_image_config(data("busybox/amd64.config.json"));
  ASSERT_TRUE(m.has_value() && c.has_value());
  EXPECT_TRUE(check_resolved_config(*m, *c, plat("linux/amd64")).has_value());
  auto bad = check_resolved_config(*m, *c, plat("linux/arm64"));
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::InvalidArgument);
  EXPECT_NE(bad.error().message.find("config says linux/amd64"), std::string::npos);
  // arm64/v8 config against an arm64 entry: the same platform.
  auto am = parse_image_manifest(data("busybox/arm64.manifest.json"));
  auto ac = parse_image_config(data("busybox/arm64.config.json"));
  ASSERT_TRUE(am.has_value() && ac.has_value());
  EXPECT_TRUE(check_resolved_config(*am, *ac, plat("linux/arm64/v8")).has_value());
  EXPECT_EQ(config_platform(*ac).to_string(), "linux/arm64");
}

TEST(CheckResolvedConfig, LayerCountMustMatchDiffIds) {
  auto m = parse_image_manifest(data("busybox/amd64.manifest.json"));
  auto c = parse_image_config(data("busybox/amd64.config.json"));
  ASSERT_TRUE(m.has_value() && c.has_value());
  c->diff_ids.push_back(c->diff_ids[0]);
  EXPECT_FALSE(check_resolved_config(*m, *c, plat("linux/amd64")).has_value());
}

TEST(PinnedReference, NameAtDigestKeepsTheRegistry) {
  auto d = Digest::parse(kArm64);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(pinned_reference(ref_of("127.0.0.1:5000/twinbox/busybox:latest"), *d),
            std::string("127.0.0.1:5000/twinbox/busybox@") + kArm64);
  EXPECT_EQ(pinned_reference(ref_of("busybox"), *d),
            std::string("docker.io/library/busybox@") + kArm64);
  // A reference with tag and digest pins to the resolved digest, not the user's one.
  auto both = ref_of(std::string("busybox:1.36@") + kIndexDigest);
  EXPECT_EQ(pinned_reference(both, *d), std::string("docker.io/library/busybox@") + kArm64);
}

TEST(RegistryErrorSummary, ReadsTheFirstError) {
  EXPECT_EQ(
      registry_error_summary(
          R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{}}]})"),
      "MANIFEST_UNKNOWN: manifest unknown");
  EXPECT_EQ(registry_error_summary(R"({"errors":[{"code":"DENIED"}]})"), "DENIED");
  EXPECT_EQ(registry_error_summary("<html>502 Bad Gateway</html>"), "");
  EXPECT_EQ(registry_error_summary(R"({"errors":[]})"), "");
}

}  // namespace
