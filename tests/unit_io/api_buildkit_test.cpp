// BuildKit's /grpc through twinboxd against two fake HTTP/2 engines: each call goes to its
// build's engine, a build whose frontend names its platform late moves before anything ran, the
// held /session follows, engine-wide calls go to rosetta, and a recorded buildx 0.13 build's
// bytes route as the real one did.
#include <fstream>
#include <future>
#include <sstream>

#include "api/buildkit_calls.hpp"
#include "fakes/fake_grpc.hpp"
#include "unit_io/api_fixture.hpp"

namespace twinbox::fakes {
namespace {

constexpr const char* kSolve = "/moby.buildkit.v1.Control/Solve";
constexpr const char* kStatus = "/moby.buildkit.v1.Control/Status";
constexpr const char* kPing = "/moby.buildkit.v1.frontend.LLBBridge/Ping";
constexpr const char* kBridgeSolve = "/moby.buildkit.v1.frontend.LLBBridge/Solve";
constexpr const char* kWorkers = "/moby.buildkit.v1.Control/ListWorkers";

class GrpcEngines : public ::testing::Test {
 protected:
  void SetUp() override {
    log::set_level(getenv("TB_DEBUG") ? log::Level::Debug : log::Level::Warn);
    char tmpl[] = "/tmp/twinbox-grpc-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    hv_ = std::make_unique<FakeGrpcEngine>("hv", dir_ + "/hv.sock");
    rosetta_ = std::make_unique<FakeGrpcEngine>("rosetta", dir_ + "/rosetta.sock");
    ASSERT_TRUE(hv_->start());
    ASSERT_TRUE(rosetta_->start());
    backends_.add("hv", hv_->socket_path(), api::BackendState::Running);
    backends_.add("rosetta", rosetta_->socket_path(), api::BackendState::Running);
    api::ServerOptions o;
    o.socket_path = dir_ + "/api.sock";
    o.registry_path = dir_ + "/workloads.json";
    o.daemon_version = "0.1.0-test";
    o.shutdown_grace = std::chrono::milliseconds(300);
    o.reconcile_on_running = false;
    server_ = std::make_unique<api::ApiServer>(o, backends_);
    auto st = server_->start();
    ASSERT_TRUE(st) << st.error().message;
  }
  void TearDown() override {
    if (server_) server_->stop();
    hv_->stop();
    rosetta_->stop();
    std::filesystem::remove_all(dir_);
  }
  std::unique_ptr<GrpcTestClient> client() {
    auto c = GrpcTestClient::connect(dir_ + "/api.sock");
    EXPECT_TRUE(c) << c.error().message;
    return c ? std::move(c).value() : nullptr;
  }
  std::string dir_;
  std::unique_ptr<FakeGrpcEngine> hv_, rosetta_;
  FakeBackends backends_;
  std::unique_ptr<api::ApiServer> server_;
};

std::string solve_request(const std::string& ref, const std::string& session,
                          const std::string& platform) {
  std::string m = pb_bytes(1, ref) + pb_bytes(5, session);
  if (!platform.empty()) m += pb_bytes(6, "dockerfile.v0") + pb_map_entry(7, "platform", platform);
  return m;
}

TEST_F(GrpcEngines, EachBuildGoesToTheEngineOfItsPlatform) {
  auto c = client();
  ASSERT_TRUE(c);
  int32_t amd = c->call(kSolve, {}, solve_request("ref-amd", "s1", "linux/amd64"));
  int32_t amd_status = c->call(kStatus, {}, pb_bytes(1, "ref-amd"));
  int32_t arm = c->call(kSolve, {}, solve_request("ref-arm", "s2", "linux/arm64"));
  int32_t workers = c->call(kWorkers, {}, "");
  // The engines finish a build when its frontend solves; answer both.
  int32_t amd_bridge = c->call(kBridgeSolve, {{"buildkit-controlapi-buildid", "ref-amd"}}, "");
  int32_t arm_bridge = c->call(kBridgeSolve, {{"buildkit-controlapi-buildid", "ref-arm"}}, "");
  ASSERT_TRUE(c->run_until(
      [&] {
        for (auto s : {amd, amd_status, arm, workers, amd_bridge, arm_bridge})
          if (!c->result(s).closed) return false;
        return true;
      },
      5000));
  for (auto s : {amd, amd_status, arm, workers, amd_bridge, arm_bridge}) {
    EXPECT_EQ(c->result(s).reset, 0u) << s;
    EXPECT_EQ(c->result(s).headers.at("grpc-status"), "0") << s;
  }
  EXPECT_EQ(rosetta_->count(kSolve), 1u);
  EXPECT_EQ(rosetta_->count(kStatus), 1u);
  EXPECT_EQ(rosetta_->count(kWorkers), 1u);  // rosetta's workers list both platforms
  EXPECT_EQ(hv_->count(kSolve), 1u);
  EXPECT_EQ(hv_->count(kStatus), 0u);
  EXPECT_EQ(hv_->calls().at(0).ref, "ref-arm");
  // The status stream starts with twinbox's step naming the engine, then the engine's answer.
  EXPECT_NE(c->result(amd_status).data.find("twinbox: building in rosetta"), std::string::npos);
}

TEST_F(GrpcEngines, ABuildWhoseFrontendNamesThePlatformLateMovesWithItsSession) {
  // The session arrives first and is held for the build.
  auto session = std::async(std::launch::async, [&] {
    auto t = TestClient::connect(dir_ + "/api.sock");
    if (!t) return std::string("no connection");
    auto r = t->request("POST", "/v1.41/session", "",
                        {{"Upgrade", "h2c"},
                         {"Connection", "Upgrade"},
                         {"X-Docker-Expose-Session-Uuid", "sess-late"}});
    return r ? std::to_string(r->status) : r.error().message;
  });
  auto c = client();
  ASSERT_TRUE(c);
  // buildx's client-side frontend: no Frontend, no platform in the Solve.
  int32_t solve = c->call(kSolve, {}, solve_request("ref-late", "sess-late", ""));
  int32_t status = c->call(kStatus, {}, pb_bytes(1, "ref-late"));
  int32_t ping = c->call(kPing, {{"buildkit-controlapi-buildid", "ref-late"}}, "");
  ASSERT_TRUE(c->run_until([&] { return c->result(ping).closed; }, 5000));
  EXPECT_EQ(hv_->count(kSolve), 1u);  // started in hv
  EXPECT_EQ(hv_->count(kPing), 1u);
  EXPECT_EQ(session.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout);
  // Its frontend asks for linux/amd64: the build moves to rosetta before anything ran.
  int32_t bridge =
      c->call(kBridgeSolve, {{"buildkit-controlapi-buildid", "ref-late"}},
              pb_bytes(2, "dockerfile.v0") + pb_map_entry(3, "platform", "linux/amd64"));
  ASSERT_TRUE(c->run_until(
      [&] {
        return c->result(solve).closed && c->result(bridge).closed && c->result(status).closed;
      },
      5000));
  EXPECT_EQ(c->result(solve).reset, 0u);
  EXPECT_EQ(c->result(solve).headers.at("grpc-status"), "0");
  EXPECT_EQ(rosetta_->count(kSolve), 1u);
  EXPECT_EQ(rosetta_->count(kStatus), 1u);
  EXPECT_EQ(rosetta_->count(kBridgeSolve), 1u);
  EXPECT_EQ(hv_->count(kBridgeSolve), 0u);
  c->run_until([&] { return hv_->resets().size() >= 2; }, 2000);
  auto resets = hv_->resets();
  EXPECT_EQ(std::count(resets.begin(), resets.end(), kSolve), 1) << resets.size();
  EXPECT_EQ(std::count(resets.begin(), resets.end(), kStatus), 1) << resets.size();
  // The session followed the build (the fake engines answer /session with no 101: 400/404).
  ASSERT_EQ(session.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_NE(c->result(status).data.find("twinbox: building in rosetta"), std::string::npos);
  EXPECT_NE(session.get(), "");
}

TEST_F(GrpcEngines, DiskUsageAndPruneCoverBothEngines) {
  auto c = client();
  ASSERT_TRUE(c);
  int32_t du = c->call("/moby.buildkit.v1.Control/DiskUsage", {}, "");
  int32_t prune = c->call("/moby.buildkit.v1.Control/Prune", {}, "");
  ASSERT_TRUE(c->run_until([&] { return c->result(du).closed && c->result(prune).closed; }, 5000));
  // buildx du: one answer listing both engines' records.
  std::string du_body = c->result(du).data;
  auto messages = api::buildkit::take_messages(du_body);
  ASSERT_EQ(messages.size(), 1u) << c->result(du).data.size() << " "
                                 << c->result(du).headers["grpc-status"] << " "
                                 << c->result(du).headers["grpc-message"] << " rst "
                                 << c->result(du).reset;
  EXPECT_NE(messages[0].find("cache-hv"), std::string::npos);
  EXPECT_NE(messages[0].find("cache-rosetta"), std::string::npos);
  EXPECT_EQ(c->result(du).headers.at("grpc-status"), "0");
  // buildx prune: one stream of what each engine removed.
  std::string prune_body = c->result(prune).data;
  EXPECT_EQ(api::buildkit::take_messages(prune_body).size(), 2u);
  EXPECT_EQ(c->result(prune).headers.at("grpc-status"), "0");
  EXPECT_EQ(hv_->count("/moby.buildkit.v1.Control/Prune"), 1u);
  EXPECT_EQ(rosetta_->count("/moby.buildkit.v1.Control/Prune"), 1u);
}

TEST_F(GrpcEngines, DiskUsageWithOneEngineDownIsTheOtherOnes) {
  rosetta_->stop();
  auto c = client();
  ASSERT_TRUE(c);
  int32_t du = c->call("/moby.buildkit.v1.Control/DiskUsage", {}, "");
  ASSERT_TRUE(c->run_until([&] { return c->result(du).closed; }, 5000));
  EXPECT_EQ(c->result(du).headers.at("grpc-status"), "0");
  EXPECT_NE(c->result(du).data.find("cache-hv"), std::string::npos);
}

TEST_F(GrpcEngines, AMultiPlatformBuildIsRefusedWithHowToBuildEach) {
  auto c = client();
  ASSERT_TRUE(c);
  int32_t solve = c->call(kSolve, {}, solve_request("ref-multi", "s9", "linux/amd64,linux/arm64"));
  ASSERT_TRUE(c->run_until([&] { return c->result(solve).closed; }, 5000));
  EXPECT_EQ(c->result(solve).headers.at("grpc-status"), "3");
  EXPECT_NE(c->result(solve)
                .headers.at("grpc-message")
                .find("--platform linux/amd64 and --platform linux/arm64"),
            std::string::npos);
  EXPECT_EQ(hv_->count(kSolve) + rosetta_->count(kSolve), 0u);
}

TEST_F(GrpcEngines, RecordedBuildxBuildRoutesAsTheRealOneDid) {
  // The client bytes of `docker buildx build --platform linux/amd64 --load` (buildx 0.13.1)
  // recorded on one /grpc connection: ListWorkers, two probe builds that only ping, then the
  // build itself.
  std::ifstream in(std::string(TWINBOX_TEST_DATA) + "/buildkit/buildx-0.13.1-amd64-build.h2",
                   std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  std::string recorded = bytes.str();
  ASSERT_GT(recorded.size(), 1000u);
  // It ends with the client's GOAWAY (9-byte frame head, 33 bytes), sent once every answer had
  // come; replayed at once, it would end the connection before the fake engines answered.
  ASSERT_EQ(static_cast<uint8_t>(recorded[recorded.size() - 42 + 3]), 0x7);
  recorded.resize(recorded.size() - 42);
  auto st = replay_client_bytes(dir_ + "/api.sock", recorded, 1500);
  ASSERT_TRUE(st) << st.error().message;
  std::string amd64_ref;
  for (int i = 0; i < 100 && (amd64_ref.empty() || hv_->count(kSolve) < 2); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    for (auto& call : rosetta_->calls())
      if (call.path == kSolve && call.platform == "linux/amd64") amd64_ref = call.ref;
  }
  auto seen = [&] {
    std::string out;
    for (auto* e : {hv_.get(), rosetta_.get()})
      for (auto& call : e->calls()) out += call.path + " " + call.ref + " " + call.platform + "\n";
    return out;
  };
  ASSERT_FALSE(amd64_ref.empty()) << "the amd64 build's Solve did not reach rosetta:\n" << seen();
  for (auto& call : hv_->calls()) {
    EXPECT_NE(call.ref, amd64_ref) << call.path;
    EXPECT_NE(call.buildid, amd64_ref) << call.path;
    EXPECT_NE(call.platform, "linux/amd64") << call.path;
  }
  EXPECT_EQ(hv_->count(kSolve), 2u);  // the two probe builds, which name no platform
  EXPECT_GE(rosetta_->count(kWorkers), 1u);
  EXPECT_EQ(hv_->count(kWorkers), 0u);
}

}  // namespace
}  // namespace twinbox::fakes
