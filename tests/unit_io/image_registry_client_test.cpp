// The registry client against FakeRegistry over real loopback sockets and libcurl: auth flows,
// retries, digest checks, resolution and fetching into an in-memory sink.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "fakes/fake_registry.hpp"
#include "image/base64.hpp"
#include "image/media_types.hpp"
#include "image/registry_client.hpp"
#include "unit_io/registry_fixture.hpp"

using namespace twinbox;
using namespace twinbox::image;
using twinbox::fakes::FakeRegistry;
using twinbox::fakes::MemoryBlobSink;

namespace {

std::string read_data(const std::string& rel) {
  std::ifstream in(std::string(TWINBOX_TEST_DATA) + "/" + rel, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

struct Built {
  std::string manifest_digest;
  std::string config_digest;
  std::string layer_digest;
  std::string layer;
};

// One image for `arch` in `repo`: a layer of `layer_size` bytes, its config and manifest.
Built add_image(FakeRegistry& reg, const std::string& repo, const std::string& arch,
                const std::string& tag, size_t layer_size = 300000) {
  Built b;
  b.layer.resize(layer_size);
  for (size_t i = 0; i < layer_size; i++)
    b.layer[i] = static_cast<char>((i * 131 + arch[1]) & 0xff);
  b.layer_digest = reg.add_blob(repo, b.layer);
  std::string config = R"({"architecture":")" + arch +
                       R"(","os":"linux","rootfs":{"type":"layers",)"
                       R"("diff_ids":["sha256:)" +
                       std::string(64, '1') + R"("]}})";
  b.config_digest = reg.add_blob(repo, config);
  std::string manifest =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
      R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
      b.config_digest + R"(","size":)" + std::to_string(config.size()) +
      R"(},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":")" +
      b.layer_digest + R"(","size":)" + std::to_string(layer_size) + "}]}";
  b.manifest_digest = reg.add_manifest(repo, tag, manifest, std::string(kOciManifest));
  return b;
}

struct MultiArch {
  std::string index_digest;
  Built amd64, arm64;
};

MultiArch add_index(FakeRegistry& reg, const std::string& repo, const std::string& tag) {
  MultiArch m;
  m.amd64 = add_image(reg, repo, "amd64", "");
  m.arm64 = add_image(reg, repo, "arm64", "");
  auto entry = [](const Built& b, const std::string& arch) {
    return R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
           b.manifest_digest + R"(","size":1,"platform":{"os":"linux","architecture":")" + arch +
           "\"}}";
  };
  std::string attestation =
      R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:)" +
      std::string(64, 'e') +
      R"(","size":1,"platform":{"os":"unknown","architecture":"unknown"},)"
      R"("annotations":{"vnd.docker.reference.type":"attestation-manifest"}})";
  std::string index =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[)" +
      entry(m.amd64, "amd64") + "," + entry(m.arm64, "arm64") + "," + attestation + "]}";
  m.index_digest = reg.add_manifest(repo, tag, index, std::string(kOciIndex));
  return m;
}

using RegistryClientTest = twinbox::fakes::RegistryFixture;

TEST_F(RegistryClientTest, AnonymousInspectResolveFetch) {
  MultiArch m = add_index(reg, "team/app", "v1");
  RegistryClient client(opts);
  auto offer = client.inspect(ref("team/app:v1"));
  ASSERT_TRUE(offer.has_value()) << offer.error().message;
  EXPECT_TRUE(offer->is_index);
  EXPECT_EQ(offer->digest.str(), m.index_digest);
  EXPECT_EQ(offer->platforms_text(), "linux/amd64, linux/arm64");  // attestation skipped

  auto resolved = client.resolve(*offer, platform::Platform{"linux", "arm64", ""});
  ASSERT_TRUE(resolved.has_value()) << resolved.error().message;
  EXPECT_EQ(resolved->manifest_digest.str(), m.arm64.manifest_digest);
  EXPECT_EQ(resolved->platform.to_string(), "linux/arm64");
  EXPECT_EQ(resolved->pinned(), ref("team/app@") + m.arm64.manifest_digest);
  EXPECT_EQ(resolved->display(), ref("team/app:v1"));
  ASSERT_TRUE(resolved->index_digest.has_value());
  EXPECT_EQ(resolved->index_digest->str(), m.index_digest);

  MemoryBlobSink sink;
  std::vector<PullProgress> events;
  auto ok = client.fetch(*resolved, sink, [&](const PullProgress& p) { events.push_back(p); });
  ASSERT_TRUE(ok.has_value()) << ok.error().message;
  EXPECT_EQ(sink.blobs.size(), 4u);  // layer, config, manifest, index
  EXPECT_EQ(sink.blobs[m.arm64.layer_digest], m.arm64.layer);
  EXPECT_TRUE(sink.blobs.count(m.arm64.config_digest));
  EXPECT_TRUE(sink.blobs.count(m.arm64.manifest_digest));
  EXPECT_TRUE(sink.blobs.count(m.index_digest));
  EXPECT_FALSE(sink.blobs.count(m.amd64.layer_digest));
  ASSERT_GE(events.size(), 4u);
  EXPECT_EQ(events.front().phase, PullPhase::Waiting);
  EXPECT_EQ(events.front().id, m.arm64.layer_digest.substr(7, 12));
  EXPECT_EQ(events.back().phase, PullPhase::DownloadComplete);
  bool saw_full = false;
  for (const auto& e : events) {
    if (e.phase == PullPhase::Downloading && e.current == e.total && e.total == 300000) {
      saw_full = true;
    }
  }
  EXPECT_TRUE(saw_full);

  // A second fetch finds everything in the sink and downloads nothing.
  size_t blob_gets = reg.count("/v2/team/app/blobs/" + m.arm64.layer_digest);
  events.clear();
  ASSERT_TRUE(client.fetch(*resolved, sink, [&](const PullProgress& p) { events.push_back(p); })
                  .has_value());
  EXPECT_EQ(reg.count("/v2/team/app/blobs/" + m.arm64.layer_digest), blob_gets);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].phase, PullPhase::AlreadyExists);
}

TEST_F(RegistryClientTest, IndexNeedsAPlatformAndNoMatchListsOffers) {
  add_index(reg, "team/app", "v1");
  RegistryClient client(opts);
  auto offer = client.inspect(ref("team/app:v1"));
  ASSERT_TRUE(offer.has_value()) << offer.error().message;
  EXPECT_FALSE(client.resolve(*offer, std::nullopt).has_value());
  auto r = client.resolve(*offer, platform::Platform{"linux", "s390x", ""});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::NotFound);
  EXPECT_NE(r.error().message.find("linux/amd64, linux/arm64"), std::string::npos);
}

TEST_F(RegistryClientTest, DigestPinnedSingleManifestIsNotReResolved) {
  MultiArch m = add_index(reg, "team/app", "v1");
  RegistryClient client(opts);
  auto offer = client.inspect(ref("team/app@") + m.amd64.manifest_digest);
  ASSERT_TRUE(offer.has_value()) << offer.error().message;
  EXPECT_FALSE(offer->is_index);
  EXPECT_EQ(offer->platforms_text(), "linux/amd64");
  auto resolved = client.resolve(*offer, std::nullopt);
  ASSERT_TRUE(resolved.has_value()) << resolved.error().message;
  EXPECT_EQ(resolved->manifest_digest.str(), m.amd64.manifest_digest);
  EXPECT_FALSE(resolved->index_digest.has_value());
  // The tag (and so the index) was never asked for.
  EXPECT_EQ(reg.count("/v2/team/app/manifests/v1"), 0u);
  // An explicit platform the manifest is not: refused, not swapped for the index's arm64 child.
  auto other = client.resolve(*offer, platform::Platform{"linux", "arm64", ""});
  ASSERT_FALSE(other.has_value());
  EXPECT_EQ(other.error().code, ErrorCode::NotFound);
  EXPECT_NE(other.error().message.find("offers linux/amd64"), std::string::npos);
}

TEST_F(RegistryClientTest, BasicAuthFromDockerConfig) {
  reg.require_basic("alice", "s3cret-pw");
  add_image(reg, "team/app", "amd64", "v1");
  write_config("alice", "s3cret-pw");
  RegistryClient client(opts);
  auto offer = client.inspect(ref("team/app:v1"));
  ASSERT_TRUE(offer.has_value()) << offer.error().message;
  auto resolved = client.resolve(*offer, std::nullopt);
  ASSERT_TRUE(resolved.has_value()) << resolved.error().message;
  MemoryBlobSink sink;
  ASSERT_TRUE(client.fetch(*resolved, sink).has_value());
  EXPECT_EQ(sink.blobs.size(), 3u);
  // After the first challenge, requests carry Basic up front: one 401 in the whole pull.
  int unauth = 0;
  for (const auto& r : reg.requests()) unauth += r.authorization.empty();
  EXPECT_EQ(unauth, 1);
}

TEST_F(RegistryClientTest, BasicAuthWithoutOrWithWrongCredentials) {
  reg.require_basic("alice", "s3cret-pw");
  add_image(reg, "team/app", "amd64", "v1");
  {
    RegistryClient client(opts);
    auto r = client.inspect(ref("team/app:v1"));
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().message.find("unauthorized"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find(opts.docker_config_path), std::string::npos);
    EXPECT_NE(r.error().message.find(reg.host()), std::string::npos);
  }
  write_config("alice", "wrong-password-xyz");
  RegistryClient client(opts);
  auto r = client.inspect(ref("team/app:v1"));
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("401"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("credentials for " + reg.host() + " in " +
                                   opts.docker_config_path + " were refused"),
            std::string::npos)
      << r.error().message;
  EXPECT_EQ(r.error().message.find("wrong-password-xyz"), std::string::npos);
  EXPECT_EQ(r.error().message.find(base64_encode("alice:wrong-password-xyz")), std::string::npos);
}

TEST_F(RegistryClientTest, BearerTokenWithCredentialsIsCachedPerScope) {
  reg.require_bearer("bob", "tok3n-pw");
  MultiArch m = add_index(reg, "team/app", "v1");
  write_config("bob", "tok3n-pw");
  RegistryClient client(opts);
  auto offer = client.inspect(ref("team/app:v1"));
  ASSERT_TRUE(offer.has_value()) << offer.error().message;
  auto resolved = client.resolve(*offer, platform::Platform{"linux", "amd64", ""});
  ASSERT_TRUE(resolved.has_value()) << resolved.error().message;
  MemoryBlobSink sink;
  ASSERT_TRUE(client.fetch(*resolved, sink).has_value());
  EXPECT_EQ(sink.blobs.count(m.amd64.layer_digest), 1u);
  EXPECT_EQ(reg.tokens_issued(), 1);  // one token for the index, child, config and layer
  bool saw_token_request = false;
  for (const auto& r : reg.requests()) {
    if (r.path != "/token") continue;
    saw_token_request = true;
    EXPECT_NE(r.query.find("scope=repository%3Ateam%2Fapp%3Apull"), std::string::npos) << r.query;
    EXPECT_NE(r.query.find("service=fake"), std::string::npos);
    EXPECT_EQ(r.authorization, "Basic " + base64_encode("bob:tok3n-pw"));
  }
  EXPECT_TRUE(saw_token_request);

  // A revoked token is replaced after the registry's next challenge.
  reg.revoke_tokens();
  ASSERT_TRUE(client.inspect(ref("team/app:v1")).has_value());
  EXPECT_EQ(reg.tokens_issued(), 2);
}

TEST_F(RegistryClientTest, AnonymousBearerAndRefusedTokenRequest) {
  reg.require_bearer();
  add_image(reg, "team/app", "amd64", "v1");
  RegistryClient anon(opts);
  ASSERT_TRUE(anon.inspect(ref("team/app:v1")).has_value());
  for (const auto& r : reg.requests()) {
    if (r.path == "/token") {
      EXPECT_EQ(r.authorization, "");
    }
  }

  FakeRegistry locked;
  ASSERT_TRUE(locked.start().has_value());
  locked.require_bearer("bob", "right");
  add_image(locked, "team/app", "amd64", "v1");
  std::ofstream(dir + "/config.json") << R"({"auths":{")" << locked.host() << R"(":{"auth":")"
                                      << base64_encode("bob:nope-pw") << "\"}}}";
  RegistryClient client(opts);
  auto r = client.inspect(locked.host() + "/team/app:v1");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("refused"), std::string::npos) << r.error().message;
  EXPECT_EQ(r.error().message.find("nope-pw"), std::string::npos);
}

TEST_F(RegistryClientTest, RetriesAfter503ThenSucceeds) {
  add_image(reg, "team/app", "amd64", "v1");
  reg.fail("/v2/team/app/manifests/v1", 503, 2, "0");
  RegistryClient client(opts);
  auto offer = client.inspect(ref("team/app:v1"));
  ASSERT_TRUE(offer.has_value()) << offer.error().message;
  EXPECT_EQ(reg.count("/v2/team/app/manifests/v1"), 3u);
}

TEST_F(RegistryClientTest, RetriesADroppedBlobTransferFromScratch) {
  Built b = add_image(reg, "team/app", "amd64", "v1");
  reg.fail("/v2/team/app/blobs/" + b.layer_digest, 0, 1);
  RegistryClient client(opts);
  auto offer = client.inspect(ref("team/app:v1"));
  ASSERT_TRUE(offer.has_value()) << offer.error().message;
  auto resolved = client.resolve(*offer, std::nullopt);
  ASSERT_TRUE(resolved.has_value());
  MemoryBlobSink sink;
  auto ok = client.fetch(*resolved, sink);
  ASSERT_TRUE(ok.has_value()) << ok.error().message;
  EXPECT_EQ(sink.blobs[b.layer_digest], b.layer);
  EXPECT_EQ(reg.count("/v2/team/app/blobs/" + b.layer_digest), 2u);
}

TEST_F(RegistryClientTest, GivesUpAfterMaxAttempts) {
  add_image(reg, "team/app", "amd64", "v1");
  reg.fail("/v2/team/app/manifests/v1", 503, 100);
  opts.max_attempts = 3;
  RegistryClient client(opts);
  auto r = client.inspect(ref("team/app:v1"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::Unavailable);
  EXPECT_NE(r.error().message.find("HTTP 503 UNAVAILABLE: scripted failure"), std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find("after 3 attempts"), std::string::npos);
  EXPECT_EQ(reg.count("/v2/team/app/manifests/v1"), 3u);
}

TEST_F(RegistryClientTest, LongRetryAfterIsNotWaitedFor) {
  add_image(reg, "team/app", "amd64", "v1");
  reg.fail("/v2/team/app/manifests/v1", 429, 100, "3600");
  RegistryClient client(opts);
  auto r = client.inspect(ref("team/app:v1"));
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("rate limited"), std::string::npos) << r.error().message;
  EXPECT_EQ(reg.count("/v2/team/app/manifests/v1"), 1u);
}

TEST_F(RegistryClientTest, NotFoundIsNotRetriedAndSaysWhatToDo) {
  RegistryClient client(opts);
  auto r = client.inspect(ref("team/missing:v9"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::NotFound);
  const std::string& msg = r.error().message;
  EXPECT_NE(msg.find(ref("team/missing:v9")), std::string::npos) << msg;
  EXPECT_NE(msg.find("registry " + reg.host()), std::string::npos) << msg;
  EXPECT_NE(msg.find("HTTP 404 MANIFEST_UNKNOWN: manifest unknown"), std::string::npos) << msg;
  EXPECT_NE(msg.find("check the name and tag"), std::string::npos) << msg;
  EXPECT_EQ(reg.count("/v2/team/missing/manifests/v9"), 1u);
}

TEST_F(RegistryClientTest, ManifestWithWrongDigestIsRejected) {
  Built b = add_image(reg, "team/app", "amd64", "v1");
  reg.set_digest_header("team/app", "v1", "sha256:" + std::string(64, 'f'));
  RegistryClient client(opts);
  auto r = client.inspect(ref("team/app:v1"));
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("Docker-Content-Digest"), std::string::npos)
      << r.error().message;

  // By digest: content that does not hash to the digest asked for.
  std::string other = reg.add_manifest("team/app", "", "{}", std::string(kOciManifest));
  std::string fake_digest = "sha256:" + std::string(64, 'a');
  reg.add_manifest("team/app", fake_digest, "{\"schemaVersion\":2}", std::string(kOciManifest));
  auto r2 = client.inspect(ref("team/app@") + fake_digest);
  ASSERT_FALSE(r2.has_value());
  EXPECT_NE(r2.error().message.find("not the requested " + fake_digest), std::string::npos)
      << r2.error().message;
  (void)b;
  (void)other;
}

TEST_F(RegistryClientTest, BlobWithWrongDigestIsRejectedAndNothingStored) {
  Built b = add_image(reg, "team/app", "amd64", "v1");
  std::string bad = b.layer;
  bad[1000] ^= 1;
  reg.corrupt_blob("team/app", b.layer_digest, bad);
  RegistryClient client(opts);
  auto offer = client.inspect(ref("team/app:v1"));
  ASSERT_TRUE(offer.has_value());
  auto resolved = client.resolve(*offer, std::nullopt);
  ASSERT_TRUE(resolved.has_value());
  MemoryBlobSink sink;
  auto r = client.fetch(*resolved, sink);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::InvalidArgument);
  // The bytes are hashed once, by the sink as they stream in: its commit() refuses them.
  EXPECT_NE(r.error().message.find("digest mismatch: expected " + b.layer_digest),
            std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find("refusing the content"), std::string::npos) << r.error().message;
  EXPECT_TRUE(sink.blobs.empty());  // not the layer, and no manifest referring to it
  EXPECT_EQ(sink.rejected, 1);
  // A digest mismatch is not a transient error: one GET.
  EXPECT_EQ(reg.count("/v2/team/app/blobs/" + b.layer_digest), 1u);
}

TEST_F(RegistryClientTest, Schema1IsRefusedClearly) {
  reg.add_manifest("old/app", "v1", read_data("image/schema1_signed.json"),
                   std::string(kDockerSchema1Signed));
  RegistryClient client(opts);
  auto r = client.inspect(ref("old/app:v1"));
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("schema 1"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find(ref("old/app:v1")), std::string::npos) << r.error().message;
}

TEST_F(RegistryClientTest, ConnectionRefusedIsUnavailableNamingTheRegistry) {
  reg.stop();
  opts.max_attempts = 2;
  RegistryClient client(opts);
  auto r = client.inspect(ref("team/app:v1"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::Unavailable);
  EXPECT_NE(r.error().message.find(reg.host()), std::string::npos) << r.error().message;
}

}  // namespace
