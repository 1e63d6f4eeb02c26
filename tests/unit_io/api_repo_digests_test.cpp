// RepoDigests from the host content store: images reach the engines through `docker load`, which
// records none, yet `docker images --digests` and `docker inspect` must show what was pulled.
#include <gtest/gtest.h>

#include "api_fixture.hpp"
#include "store/content_store.hpp"
#include "store_images.hpp"

namespace twinbox::fakes {
namespace {

class RepoDigestsTest : public TwoEngines {
 protected:
  void SetUp() override {
    with_store_ = true;
    TwoEngines::SetUp();
    // The server reads the store on each request: what is written now is what it sees.
    auto s = store::ContentStore::open(content_store_);
    ASSERT_TRUE(s) << s.error().message;
    auto img = testing_store::put_image(**s, "arm64", "layer bytes");
    auto index = testing_store::put_index(**s, {img});
    ASSERT_TRUE((*s)->set_reference("127.0.0.1:5000/tb/multi:latest", index));
    image_id_ = img.config.digest.str();
    index_digest_ = index.digest.str();
  }

  std::string image_id_, index_digest_;
};

TEST_F(RepoDigestsTest, ImageListingShowsTheStoresDigestForALoadedImage) {
  hv_->on("GET", "/images/json",
          {200, R"([{"Id":")" + image_id_ +
                    R"(","RepoTags":["127.0.0.1:5000/tb/multi:latest"],)"
                    R"("RepoDigests":[],"Created":2}])"});
  rosetta_->on("GET", "/images/json",
               {200, R"([{"Id":"sha256:other","RepoTags":["x:1"],"RepoDigests":[],"Created":1}])"});
  auto c = client();
  auto r = c.request("GET", "/v1.41/images/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  auto j = json_of(*r);
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["RepoDigests"],
            nlohmann::json::array({"127.0.0.1:5000/tb/multi@" + index_digest_}));
  EXPECT_EQ(j[1]["RepoDigests"], nlohmann::json::array());
}

TEST_F(RepoDigestsTest, ImageInspectShowsItToo) {
  hv_->on("GET", "/images/127.0.0.1:5000/tb/multi/json",
          {200, R"({"Id":")" + image_id_ + R"(","RepoDigests":[],"Architecture":"arm64"})"});
  auto c = client();
  auto r = c.request("GET", "/v1.41/images/127.0.0.1:5000/tb/multi/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  auto j = json_of(*r);
  EXPECT_EQ(j["RepoDigests"], nlohmann::json::array({"127.0.0.1:5000/tb/multi@" + index_digest_}));
  EXPECT_EQ(j["Architecture"], "arm64");
  // An image the store does not know passes unchanged, and a 404 still falls back to rosetta.
  rosetta_->on("GET", "/images/unknown/json", {200, R"({"Id":"sha256:zzz","RepoDigests":[]})"});
  auto other = c.request("GET", "/v1.41/images/unknown/json");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 200) << other->body;
  EXPECT_EQ(json_of(*other)["RepoDigests"], nlohmann::json::array());
}

}  // namespace
}  // namespace twinbox::fakes
