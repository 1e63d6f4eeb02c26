// Networks and volumes exist in both VMs: creates and removals reach both engines, listings
// are merged by name, removal by one VM's ID removes the name everywhere.
#include "unit_io/api_fixture.hpp"

namespace twinbox::fakes {
namespace {

TEST_F(TwoEngines, NetworkCreateReachesBothEnginesAndAnswersWithHvs) {
  hv_->on("POST", "/networks/create", FakeResponse{201, R"({"Id":"hvnet","Warning":""})"});
  rosetta_->on("POST", "/networks/create", FakeResponse{201, R"({"Id":"rosnet","Warning":""})"});
  auto c = client();
  std::string body = R"({"Name":"shop_default","Labels":{"com.docker.compose.project":"shop"}})";
  auto r = c.request("POST", "/v1.41/networks/create", body);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 201);
  EXPECT_NE(r->body.find("hvnet"), std::string::npos) << r->body;
  ASSERT_EQ(hv_->count("POST", "/networks/create"), 1u);
  ASSERT_EQ(rosetta_->count("POST", "/networks/create"), 1u);
  EXPECT_EQ(rosetta_->requests().back().body, body);
}

TEST_F(TwoEngines, NetworkListIsMergedByName) {
  hv_->on("GET", "/networks",
          FakeResponse{200, R"([{"Name":"bridge","Id":"h1"},{"Name":"shop_default","Id":"h2"}])"});
  rosetta_->on(
      "GET", "/networks",
      FakeResponse{200, R"([{"Name":"bridge","Id":"r1"},{"Name":"only_here","Id":"r3"}])"});
  auto c = client();
  auto r = c.request("GET", "/v1.41/networks");
  ASSERT_TRUE(r);
  auto j = json_of(*r);
  ASSERT_EQ(j.size(), 3u) << r->body;
  EXPECT_EQ(j[0]["Id"], "h1");  // hv's copy of a shared name
  EXPECT_EQ(j[2]["Name"], "only_here");
}

TEST_F(TwoEngines, RemovingANetworkByIdRemovesItsNameEverywhere) {
  hv_->on("GET", "/networks/h2", FakeResponse{200, R"({"Name":"shop_default","Id":"h2"})"});
  hv_->on("DELETE", "/networks/shop_default", FakeResponse{204, ""});
  rosetta_->on("DELETE", "/networks/shop_default", FakeResponse{204, ""});
  auto c = client();
  auto r = c.request("DELETE", "/v1.41/networks/h2");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 204);
  EXPECT_EQ(hv_->count("DELETE", "/networks/shop_default"), 1u);
  EXPECT_EQ(rosetta_->count("DELETE", "/networks/shop_default"), 1u);
}

TEST_F(TwoEngines, VolumeListKeepsDockersShape) {
  hv_->on("GET", "/volumes", FakeResponse{200, R"({"Volumes":[{"Name":"data"}],"Warnings":null})"});
  rosetta_->on(
      "GET", "/volumes",
      FakeResponse{200, R"({"Volumes":[{"Name":"data"},{"Name":"cache"}],"Warnings":[]})"});
  auto c = client();
  auto j = json_of(*c.request("GET", "/v1.41/volumes"));
  ASSERT_TRUE(j["Volumes"].is_array());
  EXPECT_EQ(j["Volumes"].size(), 2u);
}

// A network's members on rosetta cannot be reached from hv: connecting an hv container to it is
// refused before hv's engine connects anything, naming the members and their backend.
TEST_F(TwoEngines, ConnectToANetworkWhoseMembersRunOnTheOtherBackendIsRefused) {
  auto c = client();
  create(c, "?name=arm&platform=linux%2Farm64", R"({"Image":"a"})");
  hv_->on("GET", "/networks/shop", FakeResponse{200, R"({"Name":"shop","Id":"h2"})"});
  rosetta_->on("GET", "/containers/json",
               FakeResponse{200, R"([{"Id":"r1","Names":["/db"]},{"Id":"r2","Names":["/web"]}])"});
  hv_->on("POST", "/networks/shop/connect", FakeResponse{200, ""});
  auto r = c.request("POST", "/v1.41/networks/shop/connect", R"({"Container":"arm"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400) << r->body;
  auto msg = json_of(*r)["message"].get<std::string>();
  EXPECT_NE(msg.find("cannot connect container arm (on hv) to network shop: its members db, web "
                     "run on rosetta"),
            std::string::npos)
      << msg;
  EXPECT_EQ(hv_->count("POST", "/networks/shop/connect"), 0u);
  // The members were asked for by the network's name, stopped ones included.
  auto asked = rosetta_->requests().back().target;
  EXPECT_NE(asked.find("all=1"), std::string::npos) << asked;
  EXPECT_NE(asked.find("shop"), std::string::npos) << asked;
}

TEST_F(TwoEngines, ConnectGoesThroughWhenNoMemberRunsElsewhere) {
  auto c = client();
  create(c, "?name=arm&platform=linux%2Farm64", R"({"Image":"a"})");
  hv_->on("GET", "/networks/shop", FakeResponse{200, R"({"Name":"shop","Id":"h2"})"});
  hv_->on("GET", "/containers/json", FakeResponse{200, R"([{"Id":"h9","Names":["/api"]}])"});
  rosetta_->on("GET", "/containers/json", FakeResponse{200, "[]"});
  hv_->on("POST", "/networks/shop/connect", FakeResponse{200, ""});
  hv_->on("POST", "/networks/bridge/connect", FakeResponse{200, ""});
  auto r = c.request("POST", "/v1.41/networks/shop/connect", R"({"Container":"arm"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(hv_->count("POST", "/networks/shop/connect"), 1u);
  // The default bridge is each VM's own in any case.
  hv_->on("GET", "/networks/bridge", FakeResponse{200, R"({"Name":"bridge","Id":"h1"})"});
  rosetta_->on("GET", "/containers/json", FakeResponse{200, R"([{"Id":"r1","Names":["/db"]}])"});
  r = c.request("POST", "/v1.41/networks/bridge/connect", R"({"Container":"arm"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
}

}  // namespace
}  // namespace twinbox::fakes
