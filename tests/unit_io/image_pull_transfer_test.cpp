// How a pull moves bytes (issue 24): connections kept alive across requests, layers fetched
// several at a time, a layer broken part-way resumed with a range request and verified whole,
// and the first failing layer cancelling the others. Against FakeRegistry over real loopback
// sockets and libcurl.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "fakes/fake_registry.hpp"
#include "image/media_types.hpp"
#include "image/registry_client.hpp"
#include "unit_io/registry_fixture.hpp"

using namespace twinbox;
using namespace twinbox::image;
using twinbox::fakes::MemoryBlobSink;

namespace {

struct Layered {
  std::vector<std::string> layers;  // bytes
  std::vector<std::string> digests;
};

// An arm64 image of `n` distinct layers of `size` bytes each in `repo`:`tag`.
Layered add_layered(fakes::FakeRegistry& reg, const std::string& repo, const std::string& tag,
                    int n, size_t size) {
  Layered l;
  std::string diff_ids, descs;
  for (int k = 0; k < n; k++) {
    std::string bytes(size, '\0');
    for (size_t i = 0; i < size; i++) bytes[i] = static_cast<char>((i * 131 + k * 7 + i / 251));
    l.digests.push_back(reg.add_blob(repo, bytes));
    l.layers.push_back(std::move(bytes));
    diff_ids += std::string(k ? "," : "") + "\"sha256:" + std::string(64, 'a' + k % 6) + "\"";
    descs += std::string(k ? "," : "") +
             R"({"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":")" +
             l.digests.back() + R"(","size":)" + std::to_string(size) + "}";
  }
  std::string config = R"({"architecture":"arm64","os":"linux","rootfs":{"type":"layers",)"
                       R"("diff_ids":[)" +
                       diff_ids + "]}}";
  std::string config_digest = reg.add_blob(repo, config);
  std::string manifest =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
      R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
      config_digest + R"(","size":)" + std::to_string(config.size()) + R"(},"layers":[)" + descs +
      "]}";
  reg.add_manifest(repo, tag, manifest, std::string(kOciManifest));
  return l;
}

class PullTransferTest : public fakes::RegistryFixture {
 protected:
  // inspect -> resolve -> fetch of `repo_tag` into `sink`; the progress events by layer id.
  Status pull(const std::string& repo_tag, MemoryBlobSink& sink,
              std::map<std::string, std::vector<PullProgress>>* events = nullptr) {
    RegistryClient client(opts);
    TRY_ASSIGN(auto offer, client.inspect(ref(repo_tag)));
    TRY_ASSIGN(auto resolved, client.resolve(offer, std::nullopt));
    return client.fetch(resolved, sink, [&](const PullProgress& p) {
      if (events) (*events)[p.id].push_back(p);
    });
  }
  std::string blob_path(const std::string& repo, const std::string& digest) {
    return "/v2/" + repo + "/blobs/" + digest;
  }
};

TEST_F(PullTransferTest, OneConnectionServesTheWholePullWhenLayersGoOneByOne) {
  opts.max_concurrent_downloads = 1;
  Layered l = add_layered(reg, "team/app", "v1", 5, 50000);
  MemoryBlobSink sink;
  auto r = pull("team/app:v1", sink);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(sink.blobs.size(), 7u);  // 5 layers, config, manifest
  // /v2/ ping? manifest, config, 5 layers: all on one kept-alive connection.
  EXPECT_GE(reg.requests().size(), 7u);
  EXPECT_EQ(reg.connections(), 1);
}

TEST_F(PullTransferTest, LayersAreFetchedThreeAtATimeAndEachIsReported) {
  reg.slow_blobs(std::chrono::milliseconds(40));  // every transfer lasts long enough to overlap
  Layered l = add_layered(reg, "team/app", "v1", 6, 40000);
  MemoryBlobSink sink;
  std::map<std::string, std::vector<PullProgress>> events;
  auto r = pull("team/app:v1", sink, &events);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(reg.max_blobs_in_flight(), 3);
  for (size_t k = 0; k < l.layers.size(); k++) {
    EXPECT_EQ(sink.blobs[l.digests[k]], l.layers[k]) << "layer " << k;
    const auto& ev = events[l.digests[k].substr(7, 12)];
    ASSERT_FALSE(ev.empty()) << "layer " << k;
    EXPECT_EQ(ev.front().phase, PullPhase::Waiting);
    EXPECT_EQ(ev.back().phase, PullPhase::DownloadComplete);
  }
  // Connections are kept alive and reused: no more than the transfers that ran at once, plus
  // the one the manifest came on.
  EXPECT_LE(reg.connections(), 4);
}

TEST_F(PullTransferTest, TheNumberOfParallelDownloadsIsAnOption) {
  opts.max_concurrent_downloads = 2;
  reg.slow_blobs(std::chrono::milliseconds(40));
  add_layered(reg, "team/app", "v1", 5, 20000);
  MemoryBlobSink sink;
  auto r = pull("team/app:v1", sink);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(reg.max_blobs_in_flight(), 2);
}

TEST_F(PullTransferTest, ALayerBrokenPartWayResumesWithARangeAndIsVerifiedWhole) {
  Layered l = add_layered(reg, "team/app", "v1", 1, 300000);
  const std::string path = blob_path("team/app", l.digests[0]);
  reg.cut(path, 120000, 1);
  MemoryBlobSink sink;
  auto r = pull("team/app:v1", sink);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(sink.blobs[l.digests[0]], l.layers[0]);
  EXPECT_EQ(sink.aborts, 0);  // what arrived before the break was kept, not fetched again
  std::vector<std::string> ranges;
  for (const auto& q : reg.requests()) {
    if (q.path == path) ranges.push_back(q.range);
  }
  ASSERT_EQ(ranges.size(), 2u);
  EXPECT_EQ(ranges[0], "");
  EXPECT_EQ(ranges[1], "bytes=120000-");
}

TEST_F(PullTransferTest, ARegistryThatIgnoresTheRangeSendsTheLayerWholeAndItIsStoredOnce) {
  Layered l = add_layered(reg, "team/app", "v1", 1, 300000);
  const std::string path = blob_path("team/app", l.digests[0]);
  reg.cut(path, 120000, 1);
  reg.ignore_ranges(true);
  MemoryBlobSink sink;
  auto r = pull("team/app:v1", sink);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(sink.blobs[l.digests[0]], l.layers[0]);
  EXPECT_EQ(sink.aborts, 1);  // the partial writer was dropped and the layer started over
  EXPECT_EQ(sink.rejected, 0);
  EXPECT_EQ(reg.count(path), 2u);
}

TEST_F(PullTransferTest, ResumedContentThatDoesNotHashToTheDigestIsRefused) {
  Layered l = add_layered(reg, "team/app", "v1", 1, 300000);
  const std::string path = blob_path("team/app", l.digests[0]);
  std::string bad = l.layers[0];
  bad[250000] ^= 1;  // after the break: only the resumed part differs
  reg.corrupt_blob("team/app", l.digests[0], bad);
  reg.cut(path, 120000, 1);
  MemoryBlobSink sink;
  auto r = pull("team/app:v1", sink);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::InvalidArgument);
  EXPECT_NE(r.error().message.find("digest mismatch"), std::string::npos) << r.error().message;
  EXPECT_TRUE(sink.blobs.empty());
}

TEST_F(PullTransferTest, AFailingLayerFailsThePullNamingItAndStoresNoManifest) {
  reg.slow_blobs(std::chrono::milliseconds(40));
  Layered l = add_layered(reg, "team/app", "v1", 6, 40000);
  const std::string path = blob_path("team/app", l.digests[1]);
  reg.fail(path, 404, 100);
  MemoryBlobSink sink;
  auto r = pull("team/app:v1", sink);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find(l.digests[1]), std::string::npos) << r.error().message;
  EXPECT_EQ(sink.blobs.count(l.digests[1]), 0u);
  for (const auto& [digest, bytes] : sink.blobs) {
    // What was stored is whole layers (they stay for the next pull), never the config or the
    // manifest of an image whose layers are not all there.
    bool is_layer = false;
    for (size_t k = 0; k < l.digests.size(); k++) {
      if (l.digests[k] == digest) is_layer = bytes == l.layers[k];
    }
    EXPECT_TRUE(is_layer) << digest;
  }
  // The layers not yet started when the failure came were not started at all.
  size_t started = 0;
  for (const auto& d : l.digests) started += reg.count(blob_path("team/app", d)) > 0 ? 1 : 0;
  EXPECT_LT(started, l.digests.size());
}

}  // namespace
