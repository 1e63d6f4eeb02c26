// Local endpoints and the answers built from both engines, with one or both of them down.
#include "unit_io/api_fixture.hpp"

namespace twinbox::fakes {
namespace {

using nlohmann::json;

TEST_F(TwoEngines, PingAnswersEvenWithBothBackendsDown) {
  backends_.set_state("hv", api::BackendState::Starting);
  backends_.set_state("rosetta", api::BackendState::Starting);
  auto c = client();
  for (const char* method : {"GET", "HEAD"}) {
    auto r = c.request(method, "/_ping");
    ASSERT_TRUE(r) << method;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->headers.get("Api-Version"), "1.41");
    EXPECT_EQ(r->headers.get("Ostype"), "linux");
    EXPECT_EQ(r->body, std::string(method) == "GET" ? "OK" : "");
  }
  EXPECT_EQ(hv_->requests().size() + rosetta_->requests().size(), 0u);
}

TEST_F(TwoEngines, InfoAggregatesAndWarnsAboutADownBackend) {
  auto c = client();
  create(c, "?name=a", R"({"Image":"a"})");
  create(c, "?name=b&platform=linux/amd64", R"({"Image":"a"})");
  create(c, "?name=c&platform=linux/amd64", R"({"Image":"a"})");
  auto both = c.request("GET", "/v1.41/info");
  ASSERT_TRUE(both);
  auto j = json_of(*both);
  EXPECT_EQ(j["Name"], "twinbox");
  EXPECT_EQ(j["Containers"], 3);
  EXPECT_EQ(j["Images"], 2);
  EXPECT_EQ(j["ID"], "ID-hv");
  EXPECT_EQ(j["Labels"].size(), 4u);
  EXPECT_EQ(j["Labels"][3].get<std::string>().rfind("io.twinbox.builds=", 0), 0u);
  EXPECT_EQ(j["Labels"][1],
            "io.twinbox.backend.rosetta=state=running arch=arm64 native=linux/arm64 "
            "translated=linux/amd64 "
            "accelerator=tcg translator=qemu-x86_64 (binfmt POCF) engine=none");
  EXPECT_EQ(j["Labels"][2],
            "io.twinbox.host-profile=apple-silicon (hv: linux/arm64; rosetta: linux/arm64, "
            "linux/amd64 (translated))");

  backends_.set_state("rosetta", api::BackendState::Failed, "qemu exited");
  auto one = c.request("GET", "/v1.41/info");
  ASSERT_TRUE(one);
  EXPECT_EQ(one->status, 200);
  auto k = json_of(*one);
  EXPECT_EQ(k["Containers"], 1);
  ASSERT_EQ(k["Warnings"].size(), 1u);
  EXPECT_NE(k["Warnings"][0].get<std::string>().find("rosetta is not running (state: failed): "
                                                     "qemu exited"),
            std::string::npos);
  EXPECT_EQ(rosetta_->count("GET", "/info"), 1u);  // not asked while down
}

TEST_F(TwoEngines, VersionIsHvsWithTwinboxComponent) {
  auto c = client();
  auto r = c.request("GET", "/v1.41/version");
  ASSERT_TRUE(r);
  auto j = json_of(*r);
  EXPECT_EQ(j["Version"], "20.10.24-hv");
  EXPECT_EQ(j["Platform"]["Name"], "twinbox dual-stack (hv + rosetta)");
  EXPECT_EQ(j["Components"].back()["Name"], "twinbox");
  EXPECT_EQ(j["Components"].back()["Version"], "0.1.0-test");
  backends_.set_state("hv", api::BackendState::Stopped);
  EXPECT_EQ(json_of(*c.request("GET", "/version"))["Version"], "20.10.24-rosetta");
}

// An engine's /version answer does not change while it runs: asked once per engine run and
// target, given again from memory (docker-py asks it for every client it makes).
TEST_F(TwoEngines, VersionIsAskedOncePerEngineRun) {
  auto c = client();
  // Runs unknown (0): asked every time.
  ASSERT_TRUE(c.request("GET", "/v1.41/version"));
  ASSERT_TRUE(c.request("GET", "/v1.41/version"));
  EXPECT_EQ(hv_->count("GET", "/version"), 2u);
  backends_.set_engine_run("hv", 1);
  backends_.set_engine_run("rosetta", 1);
  for (int i = 0; i < 3; ++i) {
    auto r = c.request("GET", "/v1.41/version");
    ASSERT_TRUE(r);
    EXPECT_EQ(json_of(*r)["Version"], "20.10.24-hv");
  }
  EXPECT_EQ(hv_->count("GET", "/version"), 3u);
  EXPECT_EQ(rosetta_->count("GET", "/version"), 3u);
  // Another API version is another question.
  ASSERT_TRUE(c.request("GET", "/v1.40/version"));
  EXPECT_EQ(hv_->count("GET", "/version"), 4u);
  EXPECT_EQ(hv_->requests().back().target, "/v1.40/version");
  // A new engine (hv rebooted, and upgraded) is asked again; rosetta's answer is still kept.
  backends_.set_engine_run("hv", 2);
  hv_->on("GET", "/version", FakeResponse{200, R"({"Version":"26.1.5","ApiVersion":"1.41"})"});
  auto r = c.request("GET", "/v1.40/version");
  ASSERT_TRUE(r);
  EXPECT_EQ(json_of(*r)["Version"], "26.1.5");
  EXPECT_EQ(hv_->count("GET", "/version"), 5u);
  EXPECT_EQ(rosetta_->count("GET", "/version"), 4u);
  // A failed answer is not kept.
  backends_.set_engine_run("hv", 3);
  hv_->on("GET", "/version", FakeResponse{500, R"({"message":"busy"})"});
  ASSERT_TRUE(c.request("GET", "/v1.40/version"));
  hv_->on("GET", "/version", FakeResponse{200, R"({"Version":"26.1.6","ApiVersion":"1.41"})"});
  r = c.request("GET", "/v1.40/version");
  ASSERT_TRUE(r);
  EXPECT_EQ(json_of(*r)["Version"], "26.1.6");
  EXPECT_EQ(hv_->count("GET", "/version"), 7u);
}

TEST_F(TwoEngines, ContainerListsMergeNewestFirstWithTheSameQuery) {
  auto c = client();
  create(c, "?name=first", R"({"Image":"a"})");
  create(c, "?name=second&platform=linux/amd64", R"({"Image":"a"})");
  create(c, "?name=third", R"({"Image":"a"})");
  auto r = c.request("GET", "/v1.41/containers/json?all=1&filters=%7B%7D");
  ASSERT_TRUE(r);
  auto j = json_of(*r);
  ASSERT_EQ(j.size(), 3u);
  EXPECT_EQ(j[0]["Names"][0], "/third");
  EXPECT_EQ(j[1]["Names"][0], "/second");
  EXPECT_EQ(j[2]["Names"][0], "/first");
  for (auto* e : {hv_.get(), rosetta_.get()})
    EXPECT_EQ(e->requests().back().target, "/v1.41/containers/json?all=1&filters=%7B%7D");
  auto limited = c.request("GET", "/v1.41/containers/json?limit=1");
  EXPECT_EQ(json_of(*limited).size(), 1u);
  auto images = c.request("GET", "/v1.41/images/json");
  ASSERT_EQ(json_of(*images).size(), 2u);
  EXPECT_EQ(json_of(*images)[0]["RepoTags"][0], "rosetta:latest");
}

// Issue 19: `docker container prune` reached hv only; rosetta's stopped containers stayed.
TEST_F(TwoEngines, PruneAsksEveryEngineWithTheSameFiltersAndForgetsWhatWasPruned) {
  auto c = client();
  std::string amd = create(c, "?name=amd&platform=linux/amd64", R"({"Image":"a"})");
  std::string arm = create(c, "?name=arm", R"({"Image":"a"})");
  hv_->on("POST", "/containers/prune",
          FakeResponse{200, R"({"ContainersDeleted":[")" + arm + R"("],"SpaceReclaimed":7})"});
  rosetta_->on("POST", "/containers/prune",
               FakeResponse{200, R"({"ContainersDeleted":[")" + amd + R"("],"SpaceReclaimed":5})"});
  auto r = c.request("POST", "/v1.41/containers/prune?filters=%7B%22label%22%3A%5B%22x%22%5D%7D");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  auto j = json_of(*r);
  EXPECT_EQ(j["ContainersDeleted"], json::array({arm, amd}));
  EXPECT_EQ(j["SpaceReclaimed"], 12);
  for (auto* e : {hv_.get(), rosetta_.get()})
    EXPECT_EQ(e->requests().back().target,
              "/v1.41/containers/prune?filters=%7B%22label%22%3A%5B%22x%22%5D%7D");
  // Out of the registry: the name is free for the other backend at once.
  EXPECT_FALSE(create(c, "?name=amd", R"({"Image":"a"})").empty());

  // system df: both engines' answers in one.
  hv_->on("GET", "/system/df", FakeResponse{200, R"({"LayersSize":3,"Images":[{"Id":"i1"}]})"});
  rosetta_->on("GET", "/system/df",
               FakeResponse{200, R"({"LayersSize":4,"Images":[{"Id":"i2"}]})"});
  auto df = c.request("GET", "/v1.41/system/df");
  ASSERT_TRUE(df);
  EXPECT_EQ(json_of(*df)["LayersSize"], 7);
  EXPECT_EQ(json_of(*df)["Images"].size(), 2u);
  // One engine failing: the other's answer, not an error.
  rosetta_->on("POST", "/images/prune", FakeResponse{500, R"({"message":"busy"})"});
  hv_->on("POST", "/images/prune",
          FakeResponse{200, R"({"ImagesDeleted":null,"SpaceReclaimed":0})"});
  auto ip = c.request("POST", "/v1.41/images/prune");
  ASSERT_TRUE(ip);
  EXPECT_EQ(ip->status, 200) << ip->body;
  hv_->on("POST", "/images/prune", FakeResponse{500, R"({"message":"busy too"})"});
  ip = c.request("POST", "/v1.41/images/prune");
  ASSERT_TRUE(ip);
  EXPECT_EQ(ip->status, 500) << ip->body;
  EXPECT_NE(ip->body.find("busy too"), std::string::npos) << ip->body;
}

// Issue 19: `docker events` showed hv's events only.
TEST_F(TwoEngines, EventsOfBothEnginesComeAsOneStreamInTimeOrder) {
  auto line = [](int64_t t, const std::string& id) {
    return R"({"status":"start","id":")" + id + R"(","time":1,"timeNano":)" + std::to_string(t) +
           "}\n";
  };
  hv_->on("GET", "/events",
          FakeResponse{200, line(10, "h1") + line(30, "h2"), "application/json", true});
  rosetta_->on("GET", "/events", FakeResponse{200, line(20, "r1"), "application/json", true});
  auto c = client();
  auto r = c.request("GET", "/v1.41/events?since=1&until=2&filters=%7B%7D");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->body, line(10, "h1") + line(20, "r1") + line(30, "h2"));
  for (auto* e : {hv_.get(), rosetta_.get()})
    EXPECT_EQ(e->requests().back().target, "/v1.41/events?since=1&until=2&filters=%7B%7D");
  // A query an engine refuses is refused as that engine says.
  hv_->on("GET", "/events", FakeResponse{400, R"({"message":"invalid filter 'x'"})"});
  c = client();  // the stream ended with the connection, as dockerd's does
  r = c.request("GET", "/v1.41/events?filters=%7B%22x%22%3A%5B%22y%22%5D%7D");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("invalid filter"), std::string::npos) << r->body;
}

TEST_F(TwoEngines, ListingWithBothDownIs503) {
  backends_.set_state("hv", api::BackendState::Starting, "booting");
  backends_.set_state("rosetta", api::BackendState::Starting, "booting");
  auto r = client().request("GET", "/v1.41/containers/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_NE(r->body.find("hv: not running (state: starting)"), std::string::npos) << r->body;
}

TEST_F(TwoEngines, StatusAndShutdownEndpoints) {
  auto c = client();
  auto s = c.request("GET", "/twinbox/v1/status");
  ASSERT_TRUE(s);
  auto j = json_of(*s);
  EXPECT_EQ(j["daemon"]["socket"], socket());
  EXPECT_EQ(j["daemon"]["pid"], ::getpid());
  EXPECT_EQ(j["backends"].size(), 2u);
  EXPECT_EQ(j["backends"][1]["translator"], "qemu-x86_64 (binfmt POCF)");
  auto down = c.request("POST", "/twinbox/v1/shutdown");
  EXPECT_EQ(down->status, 202);
  EXPECT_EQ(backends_.shutdown_requests.load(), 1);
  EXPECT_EQ(backends_.keep_vms_requests.load(), 0);
  auto keep = client().request("POST", "/twinbox/v1/shutdown?keep_vms=1");
  EXPECT_EQ(keep->status, 202);
  EXPECT_NE(keep->body.find("the utility VMs keep running"), std::string::npos) << keep->body;
  EXPECT_EQ(backends_.keep_vms_requests.load(), 1);
}

TEST_F(TwoEngines, TooNewApiVersionIsRefusedLikeDockerd) {
  auto r = client().request("GET", "/v1.45/info");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(json_of(*r)["message"],
            "client version 1.45 is too new. Maximum supported API version is 1.41");
}

// twinboxd speaks the lowest API version of its running engines, so a client that negotiates
// with /_ping is understood by whichever engine its request reaches.
TEST_F(TwoEngines, SpeaksTheLowestApiVersionOfItsEngines) {
  backends_.set_engine("hv", "26.1.5", "1.45");
  backends_.set_engine("rosetta", "20.10.24", "1.41");
  auto c = client();
  auto ping = c.request("GET", "/_ping");
  ASSERT_TRUE(ping);
  EXPECT_EQ(ping->headers.get("Api-Version"), "1.41");
  EXPECT_EQ(c.request("GET", "/v1.45/info")->status, 400);

  backends_.set_engine("rosetta", "26.1.5", "1.45");
  ping = c.request("GET", "/_ping");
  EXPECT_EQ(ping->headers.get("Api-Version"), "1.45");
  auto info = c.request("GET", "/v1.45/info");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->status, 200);
  EXPECT_EQ(hv_->requests().back().target, "/v1.45/info");  // forwarded with the client's version
  auto st = json_of(*c.request("GET", "/twinbox/v1/status"));
  EXPECT_EQ(st["daemon"]["api_version"], "1.45");
  EXPECT_EQ(st["backends"][0]["engine_version"], "26.1.5");
  EXPECT_EQ(st["backends"][1]["engine_api_version"], "1.45");

  // A backend that is not running does not hold the version down.
  backends_.set_engine("rosetta", "20.10.24", "1.41");
  backends_.set_state("rosetta", api::BackendState::Failed, "qemu exited");
  EXPECT_EQ(c.request("GET", "/_ping")->headers.get("Api-Version"), "1.45");
}

}  // namespace
}  // namespace twinbox::fakes
