// docker load through twinboxd: the archive goes into the host content store, and each platform
// is delivered to the engine of the backend that runs it, not to whichever engine got the upload.
#include <gtest/gtest.h>

#include "api_fixture.hpp"
#include "store/archive_io.hpp"
#include "store/content_store.hpp"
#include "store_images.hpp"
#include "util/fs.hpp"

namespace twinbox::fakes {
namespace {

class LoadTest : public TwoEngines {
 protected:
  void SetUp() override {
    with_store_ = true;
    TwoEngines::SetUp();
    // The client's side: a store the archives are written from.
    auto s = store::ContentStore::open(dir_ + "/client-store");
    ASSERT_TRUE(s) << s.error().message;
    client_store_ = std::move(*s);
  }
  void TearDown() override {
    client_store_.reset();
    TwoEngines::TearDown();
  }

  // What `docker save` writes for one image.
  std::string docker_archive(const testing_store::TestImage& img, const std::string& tag) {
    std::string out;
    auto st = store::write_docker_archive(*client_store_, img.manifest.digest, {tag},
                                          [&](std::string_view b) -> Status {
                                            out.append(b);
                                            return {};
                                          });
    EXPECT_TRUE(st) << st.error().message;
    return out;
  }

  // An OCI archive of `reference` (what `skopeo copy --all ... oci-archive:` writes).
  std::string oci_archive(const std::string& reference, const image::Descriptor& d) {
    EXPECT_TRUE(client_store_->set_reference(reference, d));
    std::string path = dir_ + "/out.tar";
    auto st = store::export_archive(*client_store_, {reference}, path);
    EXPECT_TRUE(st) << st.error().message;
    auto bytes = fs::read_file(path);
    return bytes ? *bytes : "";
  }

  std::unique_ptr<store::ContentStore> server_store() {
    auto s = store::ContentStore::open(content_store_);
    EXPECT_TRUE(s) << s.error().message;
    return s ? std::move(*s) : nullptr;
  }

  std::unique_ptr<store::ContentStore> client_store_;
};

TEST_F(LoadTest, AnAmd64ImageLandsInRosettaOnly) {
  auto img = testing_store::put_image(*client_store_, "amd64", "amd64 layer");
  std::string tar = docker_archive(img, "tb/app:v1");
  auto c = client();
  auto r = c.request_chunked("POST", "/v1.41/images/load?quiet=1", tar, 7);  // as the CLI sends
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_NE(r->body.find(R"({"stream":"Loaded image: tb/app:v1\n"})"), std::string::npos)
      << r->body;
  EXPECT_NE(r->body.find("twinbox: linux/amd64 loaded into rosetta ("), std::string::npos)
      << r->body;
  EXPECT_EQ(r->body.find("\"error\""), std::string::npos) << r->body;
  EXPECT_EQ(rosetta_->count("POST", "/images/load"), 1u);
  EXPECT_EQ(hv_->count("POST", "/images/load"), 0u);
  auto stored = server_store()->resolve("docker.io/tb/app:v1");
  ASSERT_TRUE(stored) << stored.error().message;
  EXPECT_EQ(stored->digest, img.manifest.digest);
  EXPECT_EQ(c.request("GET", "/_ping")->status, 200);  // the connection is still usable
}

TEST_F(LoadTest, AMultiPlatformArchiveFeedsBothEngines) {
  auto arm = testing_store::put_image(*client_store_, "arm64", "arm64 layer");
  auto amd = testing_store::put_image(*client_store_, "amd64", "amd64 layer");
  std::string tar = oci_archive("127.0.0.1:5000/tb/multi:2",
                                testing_store::put_index(*client_store_, {arm, amd}));
  auto c = client();
  auto r = c.request("POST", "/v1.41/images/load", tar);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_NE(r->body.find("loaded into hv ("), std::string::npos) << r->body;
  EXPECT_NE(r->body.find("loaded into rosetta ("), std::string::npos) << r->body;
  EXPECT_NE(r->body.find("Loaded image: 127.0.0.1:5000/tb/multi:2"), std::string::npos) << r->body;
  EXPECT_EQ(hv_->count("POST", "/images/load"), 1u);
  EXPECT_EQ(rosetta_->count("POST", "/images/load"), 1u);
}

// rosetta runs arm64 natively: a multi-arch name whose rosetta copy is the amd64 variant (pulled
// there by a build, say) gets the arm64 variant delivered when a create decides arm64 there, and
// an engine copy of the decided platform stays.
TEST_F(LoadTest, ACreateGetsTheDecidedPlatformsImageEvenWhenTheNameIsAnothers) {
  auto arm = testing_store::put_image(*client_store_, "arm64", "arm64 layer");
  auto amd = testing_store::put_image(*client_store_, "amd64", "amd64 layer");
  const std::string name = "127.0.0.1:5000/tb/multi:2";
  std::string tar = oci_archive(name, testing_store::put_index(*client_store_, {arm, amd}));
  auto c = client();
  ASSERT_EQ(c.request("POST", "/v1.41/images/load", tar)->status, 200);
  ASSERT_EQ(rosetta_->count("POST", "/images/load"), 1u);
  create(c, "?name=legacy&platform=linux/amd64", R"({"Image":"a"})");
  const std::string pod_member =
      R"({"Image":")" + name + R"(","HostConfig":{"NetworkMode":"container:legacy"}})";

  rosetta_->on("GET", "/images/" + name + "/json",
               {200, R"({"Id":"sha256:aa","Os":"linux","Architecture":"amd64"})"});
  create(c, "?name=sidecar", pod_member);
  EXPECT_EQ(rosetta_->count("POST", "/images/load"), 2u) << "the arm64 variant is delivered";
  auto sent = rosetta_->requests();
  auto labels = nlohmann::json::parse(sent.back().body, nullptr, false)["Labels"];
  EXPECT_EQ(labels["io.twinbox.platform"], "linux/arm64");
  EXPECT_EQ(labels["io.twinbox.execution"], "native");

  rosetta_->on("GET", "/images/" + name + "/json",
               {200, R"({"Id":"sha256:bb","Os":"linux","Architecture":"arm64","Variant":"v8"})"});
  create(c, "?name=sidecar2", pod_member);
  EXPECT_EQ(rosetta_->count("POST", "/images/load"), 2u) << "an arm64 copy stays";
}

TEST_F(LoadTest, ABrokenArchiveIsRefusedAndNothingIsLoadedOrKept) {
  auto c = client();
  auto r = c.request_chunked("POST", "/v1.41/images/load", std::string(5000, 'x'), 3);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 400) << r->body;
  EXPECT_NE(r->body.find("docker load"), std::string::npos) << r->body;
  EXPECT_EQ(hv_->count("POST", "/images/load"), 0u);
  EXPECT_EQ(rosetta_->count("POST", "/images/load"), 0u);
  auto listed = server_store()->list();
  ASSERT_TRUE(listed);
  EXPECT_TRUE(listed->empty());
  std::vector<std::string> temps;
  for (const auto& e : std::filesystem::directory_iterator(content_store_))
    if (e.path().filename().string().rfind("import-", 0) == 0) temps.push_back(e.path());
  EXPECT_TRUE(temps.empty());
}

}  // namespace
}  // namespace twinbox::fakes
