// Engine connections kept between requests (issue 23): a GET without a body goes on a kept
// connection, and again on a new one when the engine closed the kept one; other requests get
// a connection of their own.
#include "unit_io/api_fixture.hpp"

namespace twinbox::fakes {
namespace {

using nlohmann::json;

TEST_F(TwoEngines, GetsShareOneEngineConnection) {
  auto c = client();
  std::string id = create(c, "?name=web", R"({"Image":"a"})");
  size_t before = hv_->connections();
  for (int i = 0; i < 4; ++i) {
    auto r = c.request("GET", "/v1.41/containers/web/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(json_of(*r)["Id"], id);
  }
  // Another client, other GETs (a listing asks both engines): the same kept connection.
  auto other = client();
  ASSERT_TRUE(other.request("GET", "/v1.41/containers/json?all=1"));
  ASSERT_TRUE(other.request("GET", "/v1.41/info"));
  // (none at all when the create's own follow-up left one kept)
  EXPECT_LE(hv_->connections() - before, 1u);
  EXPECT_EQ(hv_->count("GET", "/containers/web/json"), 4u);
}

TEST_F(TwoEngines, RequestsWithEffectsGetAConnectionEach) {
  auto c = client();
  create(c, "?name=web", R"({"Image":"a"})");
  size_t before = hv_->connections();
  ASSERT_EQ(c.request("POST", "/v1.41/containers/web/start")->status, 204);
  ASSERT_EQ(c.request("POST", "/v1.41/containers/web/stop")->status, 204);
  EXPECT_EQ(hv_->connections() - before, 2u);
  EXPECT_EQ(hv_->count("POST", "/containers/web/start"), 1u);
  EXPECT_EQ(hv_->count("POST", "/containers/web/stop"), 1u);
}

TEST_F(TwoEngines, AKeptConnectionTheEngineClosedIsReplaced) {
  auto c = client();
  std::string id = create(c, "?name=web", R"({"Image":"a"})");
  ASSERT_TRUE(c.request("GET", "/v1.41/containers/web/json"));
  ASSERT_TRUE(c.request("GET", "/v1.41/containers/web/json"));  // now one is kept
  size_t before = hv_->connections();
  // The engine drops the kept connection as the next request arrives on it: asked again on a
  // new connection, answered once, and the client never knows.
  hv_->drop_next_reused();
  auto r = c.request("GET", "/v1.41/containers/web/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(json_of(*r)["Id"], id);
  EXPECT_EQ(hv_->connections() - before, 1u);
  EXPECT_EQ(hv_->count("GET", "/containers/web/json"), 3u);
  // The same for twinboxd's own questions (a listing).
  hv_->drop_next_reused();
  auto l = c.request("GET", "/v1.41/containers/json?all=1");
  ASSERT_TRUE(l);
  EXPECT_EQ(l->status, 200);
  EXPECT_EQ(json_of(*l).size(), 1u);
  EXPECT_EQ(hv_->connections() - before, 2u);
}

}  // namespace
}  // namespace twinbox::fakes
