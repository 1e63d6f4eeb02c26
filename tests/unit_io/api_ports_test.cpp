// Published ports through a real ApiServer: one host port space across both backends, the
// guest told to bind the reserved port, forwards added and removed, conflicts naming the holder.
#include "unit_io/api_fixture.hpp"

namespace twinbox::fakes {
namespace {

using nlohmann::json;

const char* kWeb8080 =
    R"({"Image":"a","HostConfig":{"PortBindings":{"80/tcp":[{"HostIp":"","HostPort":"8080"}]}}})";

TEST_F(TwoEngines, PublishedPortIsForwardedOnLoopbackAndBoundInTheGuest) {
  auto c = client();
  std::string id = create(c, "?name=web", kWeb8080);
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(backends_.forwards_snapshot(), (std::set<std::string>{"hv tcp 127.0.0.1:8080"}));
  auto reqs = hv_->requests();
  ASSERT_FALSE(reqs.empty());
  auto body = json::parse(reqs.back().body, nullptr, false);
  EXPECT_EQ(body["HostConfig"]["PortBindings"]["80/tcp"][0]["HostIp"], "");
  EXPECT_EQ(body["HostConfig"]["PortBindings"]["80/tcp"][0]["HostPort"], "8080");
  EXPECT_EQ(body["Labels"]["io.twinbox.published"], "tcp:127.0.0.1:8080:80");
  EXPECT_EQ(body["Labels"]["io.twinbox.port-bindings"],
            R"({"80/tcp":[{"HostIp":"","HostPort":"8080"}]})");

  // Removing the holder frees the port for rosetta.
  EXPECT_EQ(c.request("DELETE", "/v1.41/containers/web")->status, 204);
  EXPECT_TRUE(backends_.forwards_snapshot().empty());
  std::string amd = create(c, "?name=amd&platform=linux/amd64", kWeb8080);
  EXPECT_FALSE(amd.empty());
  EXPECT_EQ(backends_.forwards_snapshot(), (std::set<std::string>{"rosetta tcp 127.0.0.1:8080"}));
}

// Issue 19: as in one dockerd, a port conflicts only with a running holder, and only at start.
TEST_F(TwoEngines, ARunningHolderRefusesTheStartNotTheCreate) {
  auto c = client();
  std::string web = create(c, "?name=web", kWeb8080);
  ASSERT_EQ(c.request("POST", "/v1.41/containers/web/start")->status, 204);

  // The same host port on the other backend: the create succeeds, without the port...
  std::string amd = create(c, "?name=amd&platform=linux/amd64", kWeb8080);
  ASSERT_FALSE(amd.empty());
  EXPECT_EQ(backends_.forwards_snapshot(), (std::set<std::string>{"hv tcp 127.0.0.1:8080"}));
  auto body = json::parse(rosetta_->requests().back().body, nullptr, false);
  EXPECT_EQ(body["HostConfig"]["PortBindings"]["80/tcp"][0]["HostPort"], "8080");
  // ...and its start is dockerd's 500, naming the holder and its backend; rosetta never starts it.
  auto r = c.request("POST", "/v1.41/containers/amd/start");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500) << r->body;
  EXPECT_NE(r->body.find("Bind for 127.0.0.1:8080 failed: port is already allocated"),
            std::string::npos)
      << r->body;
  EXPECT_NE(r->body.find("web"), std::string::npos) << r->body;
  EXPECT_NE(r->body.find("on hv"), std::string::npos) << r->body;
  EXPECT_EQ(rosetta_->count("POST", "/containers/" + amd + "/start"), 0u);

  // Once web has stopped, amd's start takes the port: the forward moves to rosetta.
  ASSERT_EQ(c.request("POST", "/v1.41/containers/web/stop")->status, 204);
  r = c.request("POST", "/v1.41/containers/amd/start");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 204) << r->body;
  EXPECT_EQ(backends_.forwards_snapshot(), (std::set<std::string>{"rosetta tcp 127.0.0.1:8080"}));
  // Now web is the one refused, and it keeps existing.
  r = c.request("POST", "/v1.41/containers/web/start");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500) << r->body;
  EXPECT_NE(r->body.find("amd"), std::string::npos) << r->body;
  EXPECT_NE(r->body.find("on rosetta"), std::string::npos) << r->body;
  EXPECT_TRUE(hv_->container(web).has_value());
}

TEST_F(TwoEngines, AnExitedHolderYieldsItsPortsAndTakesThemBackAtItsStart) {
  auto c = client();
  std::string web = create(c, "?name=web", kWeb8080);
  ASSERT_EQ(c.request("POST", "/v1.41/containers/web/start")->status, 204);
  ASSERT_EQ(c.request("POST", "/v1.41/containers/web/stop")->status, 204);

  // An exited container does not keep the port from a new create, on either backend.
  std::string amd = create(c, "?name=amd&platform=linux/amd64", kWeb8080);
  ASSERT_FALSE(amd.empty());
  EXPECT_EQ(backends_.forwards_snapshot(), (std::set<std::string>{"rosetta tcp 127.0.0.1:8080"}));
  // amd is created, not running: web's restart takes the port back.
  auto r = c.request("POST", "/v1.41/containers/web/restart?t=0");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 204) << r->body;
  EXPECT_EQ(backends_.forwards_snapshot(), (std::set<std::string>{"hv tcp 127.0.0.1:8080"}));
  // Removing amd (which holds nothing now) leaves web's forward alone.
  EXPECT_EQ(c.request("DELETE", "/v1.41/containers/amd")->status, 204);
  EXPECT_EQ(backends_.forwards_snapshot(), (std::set<std::string>{"hv tcp 127.0.0.1:8080"}));
}

TEST_F(TwoEngines, EphemeralPortSkipsHostPortsOthersHold) {
  backends_.taken_ports = {49152};
  auto c = client();
  std::string id =
      create(c, "?name=eph",
             R"({"Image":"a","HostConfig":{"PortBindings":{"80/tcp":[{"HostPort":""}]}}})");
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(backends_.forwards_snapshot(), (std::set<std::string>{"hv tcp 127.0.0.1:49153"}));
  auto body = json::parse(hv_->requests().back().body, nullptr, false);
  EXPECT_EQ(body["HostConfig"]["PortBindings"]["80/tcp"][0]["HostPort"], "49153");
}

TEST_F(TwoEngines, AHolderTheEngineRemovedOnItsOwnIsFreed) {
  auto c = client();
  std::string id = create(c, "?name=gone", kWeb8080);
  ASSERT_FALSE(id.empty());
  // `docker run --rm`: the engine removes the container; twinbox never sees a DELETE.
  hv_->on("GET", "/containers/" + id + "/json",
          FakeResponse{404, R"({"message":"No such container"})"});
  std::string again = create(c, "?name=again&platform=linux/amd64", kWeb8080);
  EXPECT_FALSE(again.empty());
  EXPECT_EQ(backends_.forwards_snapshot(), (std::set<std::string>{"rosetta tcp 127.0.0.1:8080"}));
}

TEST_F(TwoEngines, EngineRefusingTheCreateFreesThePorts) {
  hv_->on("POST", "/containers/create", FakeResponse{404, R"({"message":"No such image: a"})"});
  auto c = client();
  auto r = c.request("POST", "/v1.41/containers/create?name=x", kWeb8080);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_TRUE(backends_.forwards_snapshot().empty());
}

}  // namespace
}  // namespace twinbox::fakes
