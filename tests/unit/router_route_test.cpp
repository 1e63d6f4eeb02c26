// The routing decision as a table: method, path, query and body platform in, decision out.
#include "router/route.hpp"

#include <gtest/gtest.h>

using namespace twinbox::router;
using Kind = Decision::Kind;

namespace {

const std::string kWeb = "abc123" + std::string(58, '0');
const std::string kAmd = "abd456" + std::string(58, '0');

WorkloadRegistry registry() {
  WorkloadRegistry r;
  r.record_container({kWeb, "hv", "web"});
  r.record_container({kAmd, "rosetta", "amd"});
  r.record_exec("e1", "rosetta", kAmd);
  return r;
}

RouteInput input(std::string method, std::string path,
                 std::vector<std::pair<std::string, std::string>> query = {},
                 std::optional<std::string> body_platform = std::nullopt,
                 std::string version = "1.41") {
  RouteInput in;
  in.method = std::move(method);
  in.path = std::move(path);
  in.api_version = std::move(version);
  in.query = std::move(query);
  in.body_platform = std::move(body_platform);
  return in;
}

struct Case {
  const char* name;
  RouteInput in;
  Kind kind;
  std::string where;  // backend, local handler name, probe path, or the error's HTTP code
  FollowUp follow_up = FollowUp::None;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

std::string where_of(const Decision& d) {
  switch (d.kind) {
    case Kind::Local:
      return local_handler_name(d.local);
    case Kind::Backend:
      return d.backend;
    case Kind::Probe:
      return d.probe_path;
    case Kind::Error:
      return std::to_string(twinbox::error_code_http_status(d.error.code));
    case Kind::Replicate:
      return "replicate";
  }
  return "";
}

class Decide : public ::testing::TestWithParam<Case> {};

TEST_P(Decide, Table) {
  const auto& c = GetParam();
  auto d = decide(c.in, registry());
  EXPECT_EQ(d.kind, c.kind) << d.reason;
  EXPECT_EQ(where_of(d), c.where) << d.reason;
  EXPECT_EQ(d.follow_up, c.follow_up);
  EXPECT_FALSE(d.reason.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Table, Decide,
    ::testing::Values(
        Case{"ping", input("GET", "/_ping", {}, {}, ""), Kind::Local, "ping"},
        Case{"ping_head", input("HEAD", "/_ping"), Kind::Local, "ping"},
        Case{"version", input("GET", "/version"), Kind::Local, "version"},
        Case{"info", input("GET", "/info"), Kind::Local, "info"},
        Case{"ps", input("GET", "/containers/json", {{"all", "1"}}), Kind::Local, "containers"},
        Case{"images", input("GET", "/images/json"), Kind::Local, "images"},
        Case{"status", input("GET", "/twinbox/v1/status", {}, {}, ""), Kind::Local, "status"},
        Case{"shutdown", input("POST", "/twinbox/v1/shutdown", {}, {}, ""), Kind::Local,
             "shutdown"},
        Case{"twinbox_unknown", input("GET", "/twinbox/v2/x"), Kind::Error, "404"},
        Case{"too_new", input("GET", "/info", {}, {}, "1.44"), Kind::Error, "400"},
        Case{"too_old", input("GET", "/info", {}, {}, "1.11"), Kind::Error, "400"},
        Case{"oldest_ok", input("GET", "/info", {}, {}, "1.12"), Kind::Local, "info"},
        Case{"create_amd", input("POST", "/containers/create", {{"platform", "linux/amd64"}}),
             Kind::Backend, "rosetta", FollowUp::RecordContainer},
        Case{"create_arm", input("POST", "/containers/create", {{"platform", "aarch64"}}),
             Kind::Backend, "hv", FollowUp::RecordContainer},
        Case{"create_default", input("POST", "/containers/create", {{"name", "x"}}), Kind::Backend,
             "hv", FollowUp::RecordContainer},
        Case{"create_body", input("POST", "/containers/create", {}, "linux/amd64"), Kind::Backend,
             "rosetta", FollowUp::RecordContainer},
        Case{"create_query_beats_body",
             input("POST", "/containers/create", {{"platform", "arm64"}}, "linux/amd64"),
             Kind::Backend, "hv", FollowUp::RecordContainer},
        Case{"create_bad_platform",
             input("POST", "/containers/create", {{"platform", "linux/s390x"}}), Kind::Error,
             "400"},
        Case{
            "pull_amd",
            input("POST", "/images/create", {{"fromImage", "alpine"}, {"platform", "linux/amd64"}}),
            Kind::Backend, "rosetta"},
        Case{"pull_default", input("POST", "/images/create", {{"fromImage", "alpine"}}),
             Kind::Backend, "hv"},
        Case{"build_amd", input("POST", "/build", {{"platform", "amd64"}}), Kind::Backend,
             "rosetta"},
        Case{"build_default", input("POST", "/build"), Kind::Backend, "hv"},
        Case{"start_by_name", input("POST", "/containers/amd/start"), Kind::Backend, "rosetta"},
        Case{"inspect_by_id", input("GET", "/containers/" + kWeb + "/json"), Kind::Backend, "hv"},
        Case{"wait_by_prefix", input("POST", "/containers/abd/wait"), Kind::Backend, "rosetta"},
        Case{"ambiguous_prefix", input("POST", "/containers/ab/stop"), Kind::Error, "409"},
        Case{"delete", input("DELETE", "/containers/web", {{"force", "1"}}), Kind::Backend, "hv",
             FollowUp::ForgetContainer},
        Case{"exec_create", input("POST", "/containers/amd/exec"), Kind::Backend, "rosetta",
             FollowUp::RecordExec},
        Case{"rename", input("POST", "/containers/web/rename", {{"name", "front"}}), Kind::Backend,
             "hv", FollowUp::RenameContainer},
        Case{"unknown_container", input("GET", "/containers/ghost/json"), Kind::Probe,
             "/containers/ghost/json"},
        Case{"unknown_container_delete", input("DELETE", "/containers/ghost"), Kind::Probe,
             "/containers/ghost/json", FollowUp::ForgetContainer},
        Case{"exec_start", input("POST", "/exec/e1/start"), Kind::Backend, "rosetta"},
        Case{"exec_unknown", input("GET", "/exec/e9/json"), Kind::Probe, "/exec/e9/json"},
        Case{"prune", input("POST", "/containers/prune"), Kind::Local, "prune"},
        Case{"image_prune", input("POST", "/images/prune"), Kind::Local, "prune"},
        Case{"network_prune", input("POST", "/networks/prune"), Kind::Local, "prune"},
        Case{"volume_prune", input("POST", "/volumes/prune"), Kind::Local, "prune"},
        Case{"build_prune", input("POST", "/build/prune"), Kind::Local, "prune"},
        Case{"system_df", input("GET", "/system/df"), Kind::Local, "system-df"},
        Case{"commit_follows_the_container",
             input("POST", "/commit", {{"container", "amd"}, {"repo", "x"}}), Kind::Backend,
             "rosetta"},
        Case{"commit_of_an_unknown_container", input("POST", "/commit", {{"container", "ghost"}}),
             Kind::Probe, "/containers/ghost/json"},
        Case{"swarm", input("GET", "/swarm"), Kind::Backend, "hv"},
        Case{"services", input("GET", "/services"), Kind::Backend, "hv"},
        Case{"image_inspect", input("GET", "/images/library/alpine:3/json"), Kind::Backend, "hv"},
        Case{"image_delete", input("DELETE", "/images/alpine"), Kind::Backend, "hv"},
        Case{"image_with_platform",
             input("GET", "/images/alpine/json", {{"platform", "linux/amd64"}}), Kind::Backend,
             "rosetta"},
        Case{"load", input("POST", "/images/load"), Kind::Backend, "hv"},
        Case{"networks", input("GET", "/networks"), Kind::Local, "networks"},
        Case{"volumes", input("GET", "/volumes"), Kind::Local, "volumes"},
        Case{"network_create", input("POST", "/networks/create"), Kind::Replicate, "replicate"},
        Case{"volume_rm", input("DELETE", "/volumes/data"), Kind::Replicate, "replicate"},
        Case{"network_inspect", input("GET", "/networks/shop_default"), Kind::Backend, "hv"},
        Case{"events", input("GET", "/events"), Kind::Local, "events"},
        Case{"session_without_uuid", input("POST", "/session"), Kind::Error, "400"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Decide, CreateCarriesPlatformNameAndReason) {
  auto d = decide(input("POST", "/containers/create", {{"platform", "linux/amd64"}, {"name", "w"}}),
                  registry());
  ASSERT_TRUE(d.platform.has_value());
  EXPECT_EQ(d.platform->platform, "linux/amd64");
  EXPECT_EQ(d.name, "w");
  EXPECT_EQ(d.reason,
            "--platform linux/amd64 requested: linux/amd64 runs on rosetta (translated by "
            "qemu-x86_64, host profile apple-silicon)");
}

TEST(Decide, ImagesByNameFallBackToRosettaUnlessAPlatformChose) {
  auto d = decide(input("GET", "/images/alpine/json"), registry());
  EXPECT_EQ(d.fallback_backend, "rosetta");
  auto tagged = decide(input("POST", "/images/my/app:1/tag", {{"repo", "x"}}), registry());
  EXPECT_EQ(tagged.backend, "hv");
  EXPECT_EQ(tagged.fallback_backend, "rosetta");
  auto chosen =
      decide(input("GET", "/images/alpine/json", {{"platform", "linux/arm64"}}), registry());
  EXPECT_EQ(chosen.fallback_backend, "");
  // docker save of one image looks for it the same way; of several, hv answers alone.
  auto saved = decide(input("GET", "/images/get", {{"names", "amd64-only:1"}}), registry());
  EXPECT_EQ(saved.backend, "hv");
  EXPECT_EQ(saved.fallback_backend, "rosetta");
  auto several =
      decide(input("GET", "/images/get", {{"names", "a:1"}, {"names", "b:1"}}), registry());
  EXPECT_EQ(several.backend, "hv");
  EXPECT_EQ(several.fallback_backend, "");
}

// Issue 19: every endpoint of the Engine API has a rule that says why; none falls to hv by default.
TEST(ApiVersion, CommonIsTheLowestCappedWithAFallback) {
  EXPECT_EQ(common_api_version({}), "1.41");
  EXPECT_EQ(common_api_version({"1.45", "1.41"}), "1.41");
  EXPECT_EQ(common_api_version({"1.45", "1.45"}), "1.45");
  EXPECT_EQ(common_api_version({"1.47"}), "1.45");  // newer than twinboxd speaks
  EXPECT_EQ(common_api_version({"x", "1.43"}), "1.43");
  EXPECT_EQ(common_api_version({"1.9", "1.41"}), "1.9");  // numbers, not strings
}

TEST(ApiVersion, RequestsUpToTheCurrentMaximumPass) {
  auto in = input("GET", "/info");
  in.api_version = "1.45";
  EXPECT_EQ(decide(in, registry()).kind, Kind::Error);
  in.api_max = "1.45";
  EXPECT_NE(decide(in, registry()).kind, Kind::Error);
  in.api_version = "1.46";
  auto d = decide(in, registry());
  ASSERT_EQ(d.kind, Kind::Error);
  EXPECT_EQ(d.error.message,
            "client version 1.46 is too new. Maximum supported API version is 1.45");
}

TEST(Decide, EveryEndpointHasARule) {
  std::vector<RouteInput> all = {input("GET", "/swarm"),
                                 input("POST", "/swarm/init"),
                                 input("GET", "/nodes"),
                                 input("GET", "/services"),
                                 input("GET", "/tasks"),
                                 input("GET", "/secrets"),
                                 input("GET", "/configs"),
                                 input("GET", "/plugins"),
                                 input("GET", "/distribution/alpine/json"),
                                 input("GET", "/images/search", {{"term", "x"}}),
                                 input("GET", "/images/get", {{"names", "a:1"}, {"names", "b:1"}}),
                                 input("POST", "/commit", {{"container", "amd"}}),
                                 input("GET", "/events"),
                                 input("GET", "/system/df"),
                                 input("POST", "/build/prune"),
                                 input("POST", "/grpc"),
                                 input("POST", "/images/prune")};
  for (const auto& in : all) {
    auto d = decide(in, registry());
    EXPECT_EQ(d.reason.find("no routing rule"), std::string::npos)
        << in.method << " " << in.path << ": " << d.reason;
  }
}

TEST(Decide, HijackEndpoints) {
  EXPECT_TRUE(decide(input("POST", "/containers/web/attach"), registry()).hijack_endpoint);
  EXPECT_TRUE(decide(input("POST", "/exec/e1/start"), registry()).hijack_endpoint);
  EXPECT_FALSE(decide(input("POST", "/exec/e1/resize"), registry()).hijack_endpoint);
  EXPECT_FALSE(decide(input("GET", "/containers/web/logs"), registry()).hijack_endpoint);
}

TEST(Decide, ResolvedIdsTravelWithTheDecision) {
  auto d = decide(input("POST", "/containers/web/rename", {{"name", "front"}}), registry());
  EXPECT_EQ(d.container_id, kWeb);
  EXPECT_EQ(d.name, "front");
  auto ex = decide(input("POST", "/exec/e1/start"), registry());
  EXPECT_EQ(ex.container_id, kAmd);
}

TEST(Decide, AmbiguousPrefixMessageNamesBothBackends) {
  auto d = decide(input("POST", "/containers/ab/stop"), registry());
  ASSERT_EQ(d.kind, Kind::Error);
  EXPECT_NE(d.error.message.find("on hv"), std::string::npos) << d.error.message;
  EXPECT_NE(d.error.message.find("on rosetta"), std::string::npos) << d.error.message;
}

TEST(Decide, BodyPlatformOnlyReadForCreate) {
  EXPECT_TRUE(needs_body_platform("POST", "/containers/create"));
  EXPECT_FALSE(needs_body_platform("GET", "/containers/create"));
  EXPECT_FALSE(needs_body_platform("POST", "/build"));
}

}  // namespace

namespace {

TEST(Decide, BuildKitSessionWaitsForTheBuildThatNamesIt) {
  WorkloadRegistry reg;
  auto session = input("POST", "/session");
  session.session_uuid = "s-1";
  auto d = decide(session, reg);
  EXPECT_EQ(d.kind, Kind::Backend);
  EXPECT_EQ(d.session_wait, "s-1");
  EXPECT_TRUE(d.hijack_endpoint);
  EXPECT_EQ(d.backend, "hv");  // only when no build claims it

  auto build =
      decide(input("POST", "/build", {{"platform", "linux/amd64"}, {"session", "s-1"}}), reg);
  EXPECT_EQ(build.backend, "rosetta");
  EXPECT_EQ(build.session_claim, "s-1");

  auto anonymous = decide(input("POST", "/session"), reg);
  EXPECT_EQ(anonymous.kind, Kind::Error);
  EXPECT_NE(anonymous.error.message.find("X-Docker-Expose-Session-Uuid"), std::string::npos);
}

}  // namespace

namespace {

TEST(Decide, NetworkConnectFollowsTheContainer) {
  auto in = input("POST", "/networks/shop_default/connect");
  in.body_container = "amd";
  auto d = decide(in, registry());
  EXPECT_EQ(d.kind, Kind::Backend);
  EXPECT_EQ(d.backend, "rosetta");
  in.body_container = "nobody";
  EXPECT_EQ(decide(in, registry()).kind, Kind::Probe);
  EXPECT_TRUE(needs_body_container("POST", "/networks/x/connect"));
  EXPECT_FALSE(needs_body_container("POST", "/networks/create"));
}

}  // namespace
