// The workload registry as the server uses it: persisted and reloaded, probed on misses, and
// failing closed on ambiguous references.
#include "router/registry_store.hpp"
#include "unit_io/api_fixture.hpp"
#include "util/fs.hpp"

namespace twinbox::fakes {
namespace {

// The containers a daemon starting now would know: snapshot and journal as load() reads them.
std::map<std::string, router::ContainerRecord, std::less<>> persisted(const std::string& dir) {
  return router::RegistryStore::peek(dir + "/workloads.json").containers();
}

// "backend[ project]" of the container named `name` in `m`, "" when none.
std::string holder(const std::map<std::string, router::ContainerRecord, std::less<>>& m,
                   const std::string& name) {
  for (const auto& [id, c] : m) {
    if (c.name == name) return c.backend + (c.project.empty() ? "" : " " + c.project);
  }
  return "";
}

TEST_F(TwoEngines, RegistrySurvivesARestart) {
  {
    auto c = client();
    create(c, "?name=amd&platform=linux/amd64", R"({"Image":"a"})");
  }
  EXPECT_EQ(holder(persisted(dir_), "amd"), "rosetta");
  restart_server();
  auto c = client();
  EXPECT_EQ(c.request("POST", "/v1.41/containers/amd/start")->status, 204);
  EXPECT_EQ(rosetta_->count("POST", "/containers/amd/start"), 1u);
  // Known from the file: no engine was probed.
  EXPECT_EQ(hv_->count("GET", "/containers/amd/json"), 0u);
  EXPECT_EQ(rosetta_->count("GET", "/containers/amd/json"), 0u);
}

TEST_F(TwoEngines, CorruptRegistryIsMovedAsideAndRebuiltByProbing) {
  std::string id = rosetta_->add_container("legacy");
  server_->stop();
  ASSERT_TRUE(fs::write_file_atomic(dir_ + "/workloads.json", "{not json"));
  start_server();
  EXPECT_TRUE(fs::exists(dir_ + "/workloads.json.corrupt"));
  auto c = client();
  EXPECT_EQ(c.request("POST", "/v1.41/containers/legacy/stop")->status, 204);
  EXPECT_EQ(rosetta_->count("POST", "/containers/legacy/stop"), 1u);
}

TEST_F(TwoEngines, UnknownContainerIsFoundByAskingTheEngines) {
  std::string id = rosetta_->add_container("outsider");
  auto c = client();
  auto r = c.request("POST", "/v1.41/containers/outsider/stop");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 204);
  EXPECT_EQ(hv_->count("GET", "/containers/outsider/json"), 1u);  // probed
  EXPECT_EQ(rosetta_->count("POST", "/containers/outsider/stop"), 1u);
  // Recorded: the next request by id prefix goes straight there.
  EXPECT_EQ(c.request("POST", "/v1.41/containers/" + id.substr(0, 8) + "/start")->status, 204);
  EXPECT_EQ(hv_->count("GET", "/containers/" + id.substr(0, 8) + "/json"), 0u);
  EXPECT_EQ(rosetta_->count("POST", "/containers/" + id.substr(0, 8) + "/start"), 1u);
}

TEST_F(TwoEngines, UnknownEverywhereGetsHvsOwn404) {
  auto r = client().request("GET", "/v1.41/containers/ghost/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(json_of(*r)["message"], "No such container: ghost");
}

TEST_F(TwoEngines, UnknownEverywhereWithHvDownGetsRosettasOwn404) {
  backends_.set_state("hv", api::BackendState::Failed, "crashed");
  auto r = client().request("GET", "/v1.41/containers/ghost/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(json_of(*r)["message"], "No such container: ghost");
  EXPECT_EQ(rosetta_->count("GET", "/containers/ghost/json"), 2u);  // probe, then the request
  EXPECT_EQ(hv_->requests().size(), 0u);
}

TEST_F(TwoEngines, ProbeHittingBothEnginesIs409) {
  // Containers made behind twinbox's back, one per engine, with the same name.
  hv_->add_container("twin");
  rosetta_->add_container("twin");
  auto c = client();
  auto r = c.request("DELETE", "/v1.41/containers/twin?force=1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 409);
  auto msg = json_of(*r)["message"].get<std::string>();
  EXPECT_NE(msg.find("on hv"), std::string::npos) << msg;
  EXPECT_NE(msg.find("on rosetta"), std::string::npos) << msg;
  EXPECT_EQ(hv_->count("DELETE", "/containers/twin"), 0u);
  EXPECT_EQ(rosetta_->count("DELETE", "/containers/twin"), 0u);
}

TEST_F(TwoEngines, RegisteredPrefixAcrossBackendsIs409) {
  // Containers whose ids share "c0ffee" on both engines, known to the registry via listing.
  FakeEngine hv2("hv", dir_ + "/hv2.sock", "c0ffee1");
  FakeEngine ro2("rosetta", dir_ + "/ro2.sock", "c0ffee2");
  ASSERT_TRUE(hv2.start());
  ASSERT_TRUE(ro2.start());
  FakeBackends set;
  set.add("hv", hv2.socket_path(), api::BackendState::Running);
  set.add("rosetta", ro2.socket_path(), api::BackendState::Running);
  api::ServerOptions o;
  o.socket_path = dir_ + "/api2.sock";
  o.socket_mode = 0660;
  o.registry_path = dir_ + "/w2.json";
  o.daemon_version = "t";
  api::ApiServer server(o, set);
  ASSERT_TRUE(server.start());
  auto c = TestClient::connect(o.socket_path);
  ASSERT_TRUE(c);
  auto a = c->request("POST", "/v1.41/containers/create?name=x", R"({"Image":"a"})");
  auto b = c->request("POST", "/v1.41/containers/create?name=y&platform=amd64", R"({"Image":"a"})");
  ASSERT_EQ(a->status, 201);
  ASSERT_EQ(b->status, 201);
  auto r = c->request("POST", "/v1.41/containers/c0ffee/kill");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 409);
  EXPECT_NE(r->body.find("ambiguous"), std::string::npos) << r->body;
  EXPECT_EQ(c->request("POST", "/v1.41/containers/c0ffee2/kill")->status, 204);
  EXPECT_EQ(ro2.count("POST", "/containers/c0ffee2/kill"), 1u);
  server.stop();
}

TEST_F(TwoEngines, DeleteForgetsAndRenameMoves) {
  auto c = client();
  create(c, "?name=old&platform=linux/amd64", R"({"Image":"a"})");
  EXPECT_EQ(c.request("POST", "/v1.41/containers/old/rename?name=new")->status, 204);
  EXPECT_EQ(c.request("POST", "/v1.41/containers/new/start")->status, 204);
  EXPECT_EQ(rosetta_->count("POST", "/containers/new/start"), 1u);
  EXPECT_EQ(hv_->count("GET", "/containers/new/json"), 0u);  // known after rename, no probe
  EXPECT_EQ(holder(persisted(dir_), "new"), "rosetta");      // the rename is on disk
  EXPECT_EQ(holder(persisted(dir_), "old"), "");
  EXPECT_EQ(c.request("DELETE", "/v1.41/containers/new?force=1")->status, 204);
  EXPECT_EQ(holder(persisted(dir_), "new"), "");
}

TEST_F(TwoEngines, FullListingReconcilesTheRegistry) {
  auto c = client();
  create(c, "?name=gone&platform=linux/amd64", R"({"Image":"a"})");
  // Removed behind twinbox's back (docker run --rm): the engine forgets it, the registry not yet.
  ASSERT_EQ(rosetta_->container("gone").has_value(), true);
  EXPECT_EQ(holder(persisted(dir_), "gone"), "rosetta");
  rosetta_->on("GET", "/containers/json", FakeResponse{200, "[]"});
  EXPECT_EQ(c.request("GET", "/v1.41/containers/json?all=1")->status, 200);
  EXPECT_EQ(holder(persisted(dir_), "gone"), "");
}

}  // namespace
}  // namespace twinbox::fakes

namespace twinbox::fakes {
namespace {

// kill -9 leaves a registry file that may not know containers created just before; when the
// backends come up, their listings (with compose labels) rebuild it without any probing.
TEST_F(TwoEngines, BackendsComingUpRebuildTheRegistryFromTheirListings) {
  server_->stop();
  ASSERT_TRUE(fs::write_file_atomic(dir_ + "/workloads.json", "{\"version\":1}"));
  rosetta_->add_container("shop_db_1", 1700000000, "shop");
  hv_->add_container("solo");
  reconcile_ = true;
  start_server();
  for (int i = 0; i < 100; ++i) {
    auto saved = persisted(dir_);
    if (!holder(saved, "shop_db_1").empty() && !holder(saved, "solo").empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(holder(persisted(dir_), "shop_db_1"), "rosetta shop");
  EXPECT_EQ(holder(persisted(dir_), "solo"), "hv");
  auto c = client();
  EXPECT_EQ(c.request("POST", "/v1.41/containers/shop_db_1/stop")->status, 204);
  EXPECT_EQ(c.request("POST", "/v1.41/containers/solo/stop")->status, 204);
  EXPECT_EQ(rosetta_->count("POST", "/containers/shop_db_1/stop"), 1u);
  EXPECT_EQ(hv_->count("POST", "/containers/solo/stop"), 1u);
  EXPECT_EQ(hv_->count("GET", "/containers/shop_db_1/json"), 0u);  // no probe was needed
  EXPECT_EQ(rosetta_->count("GET", "/containers/solo/json"), 0u);
}

}  // namespace
}  // namespace twinbox::fakes
