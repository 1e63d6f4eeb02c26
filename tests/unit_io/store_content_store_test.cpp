// The content store on a real directory: verified atomic ingest, references in index.json that
// survive a reopen, platforms, gc, leases, and concurrent writers (threads and separate opens).
#include <dirent.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "image/media_types.hpp"
#include "store/content_store.hpp"
#include "store/oci_docs.hpp"
#include "util/fs.hpp"

namespace twinbox::store {
namespace {

std::vector<std::string> list_dir(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return out;
  while (auto* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") out.push_back(n);
  }
  ::closedir(d);
  return out;
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/twinbox-store-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto s = ContentStore::open(dir_ + "/content");
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(*s);
  }
  void TearDown() override {
    store_.reset();
    std::string cmd = "rm -rf '" + dir_ + "'";
    (void)std::system(cmd.c_str());
  }
  std::string root() const { return dir_ + "/content"; }

  image::Descriptor put(std::string_view media_type, const std::string& bytes) {
    auto b = store_->put_blob(bytes);
    EXPECT_TRUE(b) << b.error().message;
    image::Descriptor d;
    d.media_type = std::string(media_type);
    d.digest = b->digest;
    d.size = b->size;
    return d;
  }

  // One image manifest with a config for `arch` and one (fake) layer; returns the manifest.
  image::Descriptor make_image(const std::string& arch, const std::string& variant = "") {
    std::string layer_bytes = "layer for " + arch;
    auto layer = put(kOciLayerTar, layer_bytes);
    nlohmann::json cfg = {{"architecture", arch},
                          {"os", "linux"},
                          {"rootfs", {{"type", "layers"}, {"diff_ids", {layer.digest.str()}}}}};
    if (!variant.empty()) cfg["variant"] = variant;
    auto config = put(image::kOciConfig, cfg.dump());
    return put(image::kOciManifest, oci_manifest_json(config, {layer}));
  }

  image::Descriptor make_index(const std::vector<image::Descriptor>& children) {
    return put(image::kOciIndex, oci_index_json(children));
  }

  std::string dir_;
  std::unique_ptr<ContentStore> store_;
};

TEST_F(StoreTest, OpenCreatesAnOciLayout) {
  EXPECT_TRUE(fs::exists(root() + "/oci-layout"));
  EXPECT_TRUE(fs::exists(root() + "/blobs/sha256"));
  auto idx = fs::read_file(root() + "/index.json");
  ASSERT_TRUE(idx);
  auto j = nlohmann::json::parse(*idx);
  EXPECT_EQ(j["schemaVersion"], 2);
  EXPECT_TRUE(j["manifests"].empty());
  auto layout = nlohmann::json::parse(*fs::read_file(root() + "/oci-layout"));
  EXPECT_EQ(layout["imageLayoutVersion"], "1.0.0");
}

TEST_F(StoreTest, IngestVerifiesAndStoresAtomically) {
  std::string bytes = "hello, content store";
  image::Digest d = image::sha256_digest(bytes);
  EXPECT_FALSE(store_->has(d));
  auto w = store_->begin(d, static_cast<int64_t>(bytes.size()));
  ASSERT_TRUE(w) << w.error().message;
  ASSERT_TRUE((*w)->write(bytes.substr(0, 5)));
  EXPECT_FALSE(store_->has(d)) << "visible before commit";
  EXPECT_EQ(list_dir(root() + "/ingest").size(), 1u);
  ASSERT_TRUE((*w)->write(bytes.substr(5)));
  auto c = (*w)->commit();
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_TRUE(store_->has(d));
  EXPECT_EQ(*store_->read_blob(d), bytes);
  EXPECT_EQ(*fs::read_file(root() + "/blobs/sha256/" + d.hex()), bytes);
  EXPECT_TRUE(list_dir(root() + "/ingest").empty());
}

TEST_F(StoreTest, ALayerOfManyWritebackStepsIsStoredWhole) {
  // 20 MiB and a bit in 16 KiB chunks (libcurl's): writeback starts every 8 MiB on the way.
  std::string bytes((20 << 20) + 12345, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>((i * 2654435761u) >> 13);
  image::Digest d = image::sha256_digest(bytes);
  auto w = store_->begin(d, static_cast<int64_t>(bytes.size()));
  ASSERT_TRUE(w) << w.error().message;
  for (size_t off = 0; off < bytes.size(); off += 16384) {
    ASSERT_TRUE((*w)->write(std::string_view(bytes).substr(off, 16384)));
  }
  auto c = (*w)->commit();
  ASSERT_TRUE(c) << c.error().message;
  auto stored = fs::read_file(root() + "/blobs/sha256/" + d.hex());
  ASSERT_TRUE(stored);
  EXPECT_TRUE(*stored == bytes) << "stored " << stored->size() << " bytes";
  EXPECT_TRUE(list_dir(root() + "/ingest").empty());
}

TEST_F(StoreTest, DigestMismatchStoresNothing) {
  image::Digest want = image::sha256_digest("what the registry announced");
  image::Digest got = image::sha256_digest("what arrived");
  auto w = store_->begin(want, -1);
  ASSERT_TRUE(w);
  ASSERT_TRUE((*w)->write("what arrived"));
  auto c = (*w)->commit();
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, ErrorCode::InvalidArgument);
  EXPECT_NE(c.error().message.find("expected " + want.str() + ", got " + got.str()),
            std::string::npos)
      << c.error().message;
  EXPECT_FALSE(store_->has(want));
  EXPECT_FALSE(store_->has(got));
  EXPECT_TRUE(list_dir(root() + "/ingest").empty());
  EXPECT_TRUE(list_dir(root() + "/blobs/sha256").empty());
}

TEST_F(StoreTest, SizeMismatchStoresNothing) {
  std::string bytes = "twelve bytes";
  image::Digest d = image::sha256_digest(bytes);
  auto w = store_->begin(d, 13);
  ASSERT_TRUE(w);
  ASSERT_TRUE((*w)->write(bytes));
  auto c = (*w)->commit();
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("size mismatch: expected 13 bytes, got 12"), std::string::npos)
      << c.error().message;
  EXPECT_FALSE(store_->has(d));

  // More bytes than announced fail at once, before they fill the disk.
  auto w2 = store_->begin(d, 5);
  ASSERT_TRUE(w2);
  auto s = (*w2)->write(bytes);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("more bytes than the expected size 5"), std::string::npos);
  EXPECT_FALSE(store_->has(d));
  EXPECT_TRUE(list_dir(root() + "/ingest").empty());
}

TEST_F(StoreTest, AbortAndDestructorDropTheTempFile) {
  image::Digest d = image::sha256_digest("x");
  {
    auto w = store_->begin(d, 1);
    ASSERT_TRUE(w);
    ASSERT_TRUE((*w)->write("x"));
  }  // neither commit nor abort
  auto w = store_->begin(d, 1);
  ASSERT_TRUE(w);
  (*w)->abort();
  EXPECT_FALSE(store_->has(d));
  EXPECT_TRUE(list_dir(root() + "/ingest").empty());
}

TEST_F(StoreTest, Sha512IsRefusedClearly) {
  auto d = image::Digest::parse("sha512:" + std::string(128, 'a'));
  ASSERT_TRUE(d);
  auto w = store_->begin(*d, -1);
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().code, ErrorCode::Unavailable);
  EXPECT_NE(w.error().message.find("only sha256"), std::string::npos);
}

TEST_F(StoreTest, ConcurrentIngestsOfTheSameDigestBothSucceed) {
  std::string bytes(300000, 'z');
  image::Digest d = image::sha256_digest(bytes);
  std::atomic<int> ok{0};
  std::atomic<int> failed{0};
  auto work = [&] {
    for (int i = 0; i < 10; ++i) {
      auto w = store_->begin(d, static_cast<int64_t>(bytes.size()));
      if (!w) {
        ++failed;
        continue;
      }
      bool good = true;
      for (size_t off = 0; off < bytes.size() && good; off += 4096) {
        good = static_cast<bool>((*w)->write(std::string_view(bytes).substr(off, 4096)));
      }
      if (good && (*w)->commit()) {
        ++ok;
      } else {
        ++failed;
      }
    }
  };
  std::thread a(work), b(work);
  a.join();
  b.join();
  EXPECT_EQ(ok.load(), 20);
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(list_dir(root() + "/blobs/sha256"), std::vector<std::string>{d.hex()});
  EXPECT_TRUE(list_dir(root() + "/ingest").empty());
  EXPECT_EQ(*store_->read_blob(d, 1 << 20), bytes);
}

TEST_F(StoreTest, StaleTempFilesAreRemovedOnOpen) {
  ASSERT_TRUE(fs::write_file_atomic(root() + "/ingest/deadbeef.crashed", "half a layer"));
  store_.reset();
  auto s = ContentStore::open(root());
  ASSERT_TRUE(s);
  EXPECT_TRUE(list_dir(root() + "/ingest").empty());
}

TEST_F(StoreTest, ReferencesPersistAcrossReopenWithPlatforms) {
  auto amd = make_image("amd64");
  auto arm = make_image("arm64", "v8");
  amd.platform = image::ManifestPlatform{"linux", "amd64", "", "", {}, {}};
  arm.platform = image::ManifestPlatform{"linux", "arm64", "v8", "", {}, {}};
  auto idx = make_index({amd, arm});
  ASSERT_TRUE(store_->set_reference("127.0.0.1:5000/twinbox/busybox:latest", idx));
  ASSERT_TRUE(store_->set_reference("127.0.0.1:5000/twinbox/busybox@" + arm.digest.str(), arm));
  ASSERT_TRUE(store_->set_reference("busybox", amd));  // normalized on the way in

  store_.reset();
  auto s = ContentStore::open(root());
  ASSERT_TRUE(s);
  store_ = std::move(*s);

  auto r = store_->resolve("127.0.0.1:5000/twinbox/busybox");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->digest, idx.digest);
  EXPECT_EQ(r->media_type, image::kOciIndex);
  auto pinned = store_->resolve("127.0.0.1:5000/twinbox/busybox@" + arm.digest.str());
  ASSERT_TRUE(pinned);
  EXPECT_EQ(pinned->digest, arm.digest);
  auto bb = store_->resolve("docker.io/library/busybox:latest");
  ASSERT_TRUE(bb);
  EXPECT_EQ(bb->digest, amd.digest);

  auto pl = store_->complete_platforms("127.0.0.1:5000/twinbox/busybox:latest");
  ASSERT_TRUE(pl) << pl.error().message;
  ASSERT_EQ(pl->size(), 2u);
  EXPECT_EQ((*pl)[0].platform, "linux/amd64");
  EXPECT_EQ((*pl)[0].manifest, amd.digest);
  EXPECT_EQ((*pl)[1].platform, "linux/arm64/v8");
  EXPECT_GT((*pl)[1].size, 0);

  // The platform is recorded in index.json, so listing does not need the configs.
  auto text = fs::read_file(root() + "/index.json");
  auto j = nlohmann::json::parse(*text);
  ASSERT_EQ(j["manifests"].size(), 3u);
  auto& a = j["manifests"][0]["annotations"];
  EXPECT_EQ(a["org.opencontainers.image.ref.name"], "127.0.0.1:5000/twinbox/busybox:latest");
  EXPECT_EQ(a["io.twinbox.platform." + arm.digest.str()], "linux/arm64/v8");

  auto all = store_->list();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 3u);
  std::set<std::string> names;
  for (auto& rec : *all) names.insert(rec.reference);
  EXPECT_TRUE(names.count("docker.io/library/busybox:latest"));
  EXPECT_TRUE(names.count("127.0.0.1:5000/twinbox/busybox@" + arm.digest.str()));
}

TEST_F(StoreTest, IncompletePlatformsAreNotListed) {
  auto amd = make_image("amd64");
  auto arm = make_image("arm64", "v8");
  auto idx = make_index({amd, arm});
  ASSERT_TRUE(store_->set_reference("twinbox/busybox:latest", idx));
  // Lose arm64's layer (as if only amd64 had been pulled).
  auto m = image::parse_image_manifest(*store_->read_blob(arm.digest));
  ASSERT_TRUE(m);
  ASSERT_EQ(::unlink(store_->blob_path(m->layers[0].digest).c_str()), 0);
  auto pl = store_->complete_platforms("twinbox/busybox:latest");
  ASSERT_TRUE(pl);
  ASSERT_EQ(pl->size(), 1u);
  EXPECT_EQ((*pl)[0].platform, "linux/amd64");
}

TEST_F(StoreTest, ReferenceErrors) {
  image::Descriptor missing;
  missing.media_type = std::string(image::kOciManifest);
  missing.digest = image::sha256_digest("never stored");
  auto s = store_->set_reference("busybox", missing);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::NotFound);
  auto r = store_->resolve("busybox");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::NotFound);
  EXPECT_NE(r.error().message.find("docker.io/library/busybox:latest"), std::string::npos);
  EXPECT_FALSE(store_->set_reference("Bad Ref", make_image("amd64")));

  ASSERT_TRUE(store_->set_reference("busybox", make_image("amd64")));
  ASSERT_TRUE(store_->remove_reference("docker.io/library/busybox"));
  EXPECT_EQ(store_->resolve("busybox").error().code, ErrorCode::NotFound);
  EXPECT_EQ(store_->remove_reference("busybox").error().code, ErrorCode::NotFound);
}

TEST_F(StoreTest, SettingAReferenceAgainReplacesIt) {
  auto a = make_image("amd64");
  auto b = make_image("arm64");
  ASSERT_TRUE(store_->set_reference("app:1", a));
  ASSERT_TRUE(store_->set_reference("app:1", b));
  EXPECT_EQ(store_->resolve("app:1")->digest, b.digest);
  EXPECT_EQ(store_->list()->size(), 1u);
}

TEST_F(StoreTest, GcRemovesOnlyUnreachableBlobs) {
  auto amd = make_image("amd64");
  auto arm = make_image("arm64");
  auto idx = make_index({amd, arm});
  auto other = make_image("s390x");
  auto stray = store_->put_blob("a blob nothing refers to");
  ASSERT_TRUE(stray);
  ASSERT_TRUE(store_->set_reference("multi:latest", idx));
  ASSERT_TRUE(store_->set_reference("other:latest", other));
  ASSERT_TRUE(store_->remove_reference("other:latest"));
  ASSERT_TRUE(fs::write_file_atomic(root() + "/ingest/stale.tmp", "left by a crash"));

  auto before = list_dir(root() + "/blobs/sha256").size();
  EXPECT_EQ(before, 3u * 3 + 1 + 1);  // 3 images x (manifest, config, layer), index, stray
  auto r = store_->gc();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->blobs_removed, 4);  // other's manifest, config, layer + stray
  EXPECT_EQ(r->temp_files_removed, 1);
  int64_t expect_bytes = other.size + stray->size;
  EXPECT_GT(r->bytes_freed, expect_bytes);
  EXPECT_FALSE(store_->has(other.digest));
  EXPECT_FALSE(store_->has(stray->digest));
  EXPECT_TRUE(store_->has(idx.digest));
  auto pl = store_->complete_platforms("multi:latest");
  ASSERT_TRUE(pl);
  EXPECT_EQ(pl->size(), 2u);
  EXPECT_EQ(list_dir(root() + "/blobs/sha256").size(), 7u);
  auto again = store_->gc();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->blobs_removed, 0);
}

TEST_F(StoreTest, GcWaitsForLeasesAndIngests) {
  auto stray = store_->put_blob("unreferenced, but a pull is about to reference it");
  ASSERT_TRUE(stray);
  {
    auto lease = store_->lease();
    ASSERT_TRUE(lease);
    auto r = store_->gc();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::Conflict);
    EXPECT_NE(r.error().message.find("in progress"), std::string::npos);
    EXPECT_TRUE(store_->has(stray->digest));
  }
  {
    auto w = store_->begin(image::sha256_digest("in flight"), -1);
    ASSERT_TRUE(w);
    ASSERT_TRUE((*w)->write("in"));
    EXPECT_EQ(store_->gc().error().code, ErrorCode::Conflict);
    // Another open of the same directory (another process) sees the ingest too.
    auto other = ContentStore::open(root());
    ASSERT_TRUE(other);
    EXPECT_EQ((*other)->gc().error().code, ErrorCode::Conflict);
    EXPECT_EQ(list_dir(root() + "/ingest").size(), 1u) << "open() removed a live temp file";
    ASSERT_TRUE((*w)->write(" flight"));
    ASSERT_TRUE((*w)->commit());
  }
  auto r = store_->gc();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->blobs_removed, 2);
}

TEST_F(StoreTest, TwoOpensUpdatingReferencesDoNotLoseEntries) {
  auto img = make_image("amd64");
  auto other = ContentStore::open(root());
  ASSERT_TRUE(other);
  auto work = [&](ContentStore* s, const std::string& prefix) {
    for (int i = 0; i < 15; ++i) {
      auto st = s->set_reference(prefix + std::to_string(i) + ":latest", img);
      EXPECT_TRUE(st) << st.error().message;
    }
  };
  std::thread a(work, store_.get(), "one");
  std::thread b(work, other->get(), "two");
  std::thread c(work, store_.get(), "three");
  a.join();
  b.join();
  c.join();
  auto all = store_->list();
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 45u);
}

}  // namespace
}  // namespace twinbox::store
