// Groups as tables: compose projects placed as one (decide_project), late containers joining a
// placed project or a pod (decide_run with a GroupContext), and pod references of create bodies.
#include <gtest/gtest.h>

#include "router/groups.hpp"

using namespace twinbox;
using namespace twinbox::router;
using nlohmann::json;

namespace {

std::optional<std::vector<platform::Platform>> offers(const std::string& list) {
  auto ps = parse_platform_list(list);
  return ps ? *ps : std::nullopt;
}

ServiceSpec svc(std::string name, std::string image_platforms,
                std::optional<std::string> platform = std::nullopt) {
  return ServiceSpec{std::move(name), std::move(platform), offers(image_platforms)};
}

struct ProjectCase {
  const char* name;
  std::vector<ServiceSpec> services;
  bool mixed;
  // "rosetta web=linux/amd64 db=linux/amd64" or "error 409 SUBSTRING".
  std::string want;
};

void PrintTo(const ProjectCase& c, std::ostream* os) { *os << c.name; }

class Project : public ::testing::TestWithParam<ProjectCase> {};

TEST_P(Project, Table) {
  const auto& c = GetParam();
  RouteEnv env;
  env.mixed_projects = c.mixed;
  auto d = decide_project("shop", c.services, env);
  if (c.want.rfind("error ", 0) == 0) {
    ASSERT_FALSE(d.has_value()) << d->backend << ": " << d->reason;
    EXPECT_EQ(std::to_string(error_code_http_status(d.error().code)), c.want.substr(6, 3));
    EXPECT_NE(d.error().message.find(c.want.substr(10)), std::string::npos) << d.error().message;
    return;
  }
  ASSERT_TRUE(d.has_value()) << d.error().message;
  std::string got = d->backend;
  for (const auto& s : d->services) got += " " + s.service + "=" + s.decision.platform;
  EXPECT_EQ(got, c.want) << d->reason;
  EXPECT_NE(d->reason.find("host profile apple-silicon"), std::string::npos) << d->reason;
}

INSTANTIATE_TEST_SUITE_P(
    Rules, Project,
    ::testing::Values(
        ProjectCase{"all_arm64_capable",
                    {svc("web", "linux/amd64,linux/arm64"), svc("cache", "linux/arm64")},
                    false,
                    "hv web=linux/arm64 cache=linux/arm64"},
        ProjectCase{"one_amd64_only_moves_all",
                    {svc("web", "linux/amd64,linux/arm64"), svc("legacy", "linux/amd64")},
                    false,
                    "rosetta web=linux/arm64 legacy=linux/amd64"},
        ProjectCase{"pinned_amd64_moves_all",
                    {svc("web", "linux/amd64,linux/arm64"),
                     svc("db", "linux/amd64,linux/arm64", "linux/amd64")},
                    false,
                    "rosetta web=linux/arm64 db=linux/amd64"},
        ProjectCase{"unknown_platforms_follow",
                    {svc("web", "unknown"), svc("legacy", "linux/amd64")},
                    false,
                    "rosetta web=linux/arm64 legacy=linux/amd64"},
        ProjectCase{"arm64_only_next_to_amd64_only",
                    {svc("arm", "linux/arm64"), svc("legacy", "linux/amd64")},
                    false,
                    "rosetta arm=linux/arm64 legacy=linux/amd64"},
        ProjectCase{"arm32_next_to_amd64_only",
                    {svc("arm", "linux/arm/v7"), svc("legacy", "linux/amd64")},
                    false,
                    "error 404 service arm"},
        ProjectCase{"service_runs_nowhere",
                    {svc("web", "linux/arm64"), svc("mainframe", "linux/s390x")},
                    false,
                    "error 404 service mainframe"},
        ProjectCase{"mixed_experimental",
                    {svc("arm", "linux/arm64"), svc("legacy", "linux/amd64")},
                    true,
                    "mixed arm=linux/arm64 legacy=linux/amd64"},
        ProjectCase{"mixed_experimental_same_backend",
                    {svc("arm", "linux/arm64"), svc("web", "linux/arm64,linux/amd64")},
                    true,
                    "hv arm=linux/arm64 web=linux/arm64"}));

TEST(Project, ReasonNamesTheForcingService) {
  auto d = decide_project(
      "shop", {svc("web", "linux/arm64,linux/amd64"), svc("legacy", "linux/amd64")}, RouteEnv{});
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->forced_by, "legacy");
  EXPECT_NE(d->reason.find("service legacy's image offers only linux/amd64"), std::string::npos)
      << d->reason;
  auto pinned = decide_project("shop", {svc("db", "unknown", "amd64")}, RouteEnv{});
  ASSERT_TRUE(pinned.has_value());
  EXPECT_NE(pinned->reason.find("service db pins platform amd64"), std::string::npos)
      << pinned->reason;
}

TEST(Project, EmptyIsInvalid) {
  auto d = decide_project("shop", {}, RouteEnv{});
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().code, ErrorCode::InvalidArgument);
}

TEST(Project, DoesNotCheckBackendStates) {
  RouteEnv env;
  env.backends.set("rosetta", "starting");
  auto d = decide_project("shop", {svc("legacy", "linux/amd64")}, env);
  ASSERT_TRUE(d.has_value()) << d.error().message;
  EXPECT_EQ(d->backend, "rosetta");
}

// A later container of a placed project, or a pod member.
RunRequest joining(std::string name, std::string image_platforms,
                   std::optional<std::string> platform = std::nullopt) {
  RunRequest r;
  r.name = std::move(name);
  r.query_platform = std::move(platform);
  r.image_platforms = offers(image_platforms);
  return r;
}

ProjectPlacement placed(std::string backend, bool declared) {
  return ProjectPlacement{"shop", std::move(backend),
                          declared ? PlacementSource::Declared : PlacementSource::FirstContainer,
                          declared ? "" : "container web"};
}

TEST(JoinProject, MultiArchOnRosettaRunsItsArm64VariantNatively) {
  auto r = joining("api", "linux/arm64,linux/amd64");
  r.group.project_name = "shop";
  r.group.project = placed("rosetta", true);
  auto d = decide_run(r, RouteEnv{});
  ASSERT_TRUE(d.has_value()) << d.error().message;
  EXPECT_EQ(d->backend, "rosetta");
  EXPECT_EQ(d->platform, "linux/arm64");
  EXPECT_EQ(d->translator, "none");
  EXPECT_NE(d->reason.find("linux/arm64 runs on rosetta (native"), std::string::npos) << d->reason;
  EXPECT_NE(d->reason.find("joins project shop on rosetta (declared)"), std::string::npos)
      << d->reason;
}

TEST(JoinProject, ConflictingLateServiceNamesTheFix) {
  auto r = joining("legacy", "linux/amd64");
  r.group.project = placed("hv", false);
  auto d = decide_run(r, RouteEnv{});
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().code, ErrorCode::Conflict);
  const std::string& m = d.error().message;
  for (const char* part :
       {"service legacy", "project shop on hv", "decided by its first container web", "linux/amd64",
        "twinbox compose -f FILE up", "docker-compose down", "host profile apple-silicon"})
    EXPECT_NE(m.find(part), std::string::npos) << part << " not in: " << m;
}

TEST(JoinProject, PinnedArm64JoinsARosettaProjectNatively) {
  auto r = joining("db", "linux/arm64,linux/amd64", "linux/arm64");
  r.group.project = placed("rosetta", true);
  auto d = decide_run(r, RouteEnv{});
  ASSERT_TRUE(d.has_value()) << d.error().message;
  EXPECT_EQ(d->backend, "rosetta");
  EXPECT_EQ(d->platform, "linux/arm64");
  EXPECT_EQ(d->translator, "none");
}

TEST(JoinProject, PinnedPlatformAgainstDeclaredProject) {
  auto r = joining("db", "linux/arm64,linux/amd64", "linux/amd64");
  r.group.project = placed("hv", true);
  auto d = decide_run(r, RouteEnv{});
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().code, ErrorCode::Conflict);
  EXPECT_NE(d.error().message.find("--platform linux/amd64 requested"), std::string::npos)
      << d.error().message;
  EXPECT_NE(d.error().message.find("(declared)"), std::string::npos) << d.error().message;
}

TEST(JoinProject, MixedProjectsDecideEachContainer) {
  auto r = joining("legacy", "linux/amd64");
  r.group.project = placed("hv", false);
  RouteEnv env;
  env.mixed_projects = true;
  auto d = decide_run(r, env);
  ASSERT_TRUE(d.has_value()) << d.error().message;
  EXPECT_EQ(d->backend, "rosetta");
  EXPECT_NE(d->reason.find("mixed-backend projects (experimental)"), std::string::npos);
}

TEST(JoinProject, FirstContainerPlacesTheProject) {
  auto r = joining("web", "linux/arm64");
  r.group.project_name = "shop";
  auto d = decide_run(r, RouteEnv{});
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->backend, "hv");
  EXPECT_NE(d->reason.find("first container of project shop"), std::string::npos) << d->reason;
}

TEST(JoinProject, ItsBackendDownIsUnavailable) {
  auto r = joining("api", "linux/arm64,linux/amd64");
  r.group.project = placed("rosetta", true);
  RouteEnv env;
  env.backends.set("rosetta", "failed");
  auto d = decide_run(r, env);
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().code, ErrorCode::Unavailable);
  EXPECT_NE(d.error().message.find("backend rosetta is not running (state: failed)"),
            std::string::npos);
}

TEST(Pod, JoinsThePeersBackend) {
  auto r = joining("sidecar", "linux/arm64,linux/amd64");
  r.group.pod_peers = {{"db", "rosetta", "network_mode container:db"}};
  auto d = decide_run(r, RouteEnv{});
  ASSERT_TRUE(d.has_value()) << d.error().message;
  EXPECT_EQ(d->backend, "rosetta");
  EXPECT_EQ(d->platform, "linux/arm64");
  EXPECT_NE(d->reason.find("joins pod peer db (network_mode container:db) on rosetta"),
            std::string::npos)
      << d->reason;
}

TEST(Pod, PlatformConflictNamesThePeer) {
  auto r = joining("legacy", "linux/amd64");
  r.group.pod_peers = {{"db", "hv", "volumes_from db"}};
  auto d = decide_run(r, RouteEnv{});
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().code, ErrorCode::Conflict);
  EXPECT_NE(d.error().message.find("cannot join pod peer db (volumes_from db) on hv"),
            std::string::npos)
      << d.error().message;
}

TEST(Pod, PeersOnTwoBackendsConflict) {
  auto r = joining("x", "linux/arm64");
  r.group.pod_peers = {{"a", "hv", "links a"}, {"b", "rosetta", "volumes_from b"}};
  auto d = decide_run(r, RouteEnv{});
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().code, ErrorCode::Conflict);
  EXPECT_NE(d.error().message.find("a (links a) on hv and with b (volumes_from b) on rosetta"),
            std::string::npos)
      << d.error().message;
}

TEST(Pod, PeerAndProjectDisagree) {
  auto r = joining("x", "linux/arm64,linux/amd64");
  r.group.pod_peers = {{"db", "hv", "pid container:db"}};
  r.group.project = placed("rosetta", true);
  auto d = decide_run(r, RouteEnv{});
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().code, ErrorCode::Conflict);
}

TEST(Pod, UnknownPlatformsFollowThePeer) {
  auto r = joining("x", "unknown");
  r.group.pod_peers = {{"db", "rosetta", "ipc container:db"}};
  auto d = decide_run(r, RouteEnv{});
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->backend, "rosetta");
}

TEST(PodRefs, FromCreateBody) {
  json body = {{"Image", "busybox"},
               {"HostConfig",
                {{"NetworkMode", "container:db"},
                 {"PidMode", "container:/db"},
                 {"IpcMode", "shareable"},
                 {"VolumesFrom", {"data:ro", "/logs"}},
                 {"Links", {"/cache:/web/cache", "queue:q", "data"}}}}};
  auto refs = pod_refs_from_create_body(body);
  std::vector<std::string> got;
  for (const auto& r : refs) got.push_back(r.container + "|" + r.relation);
  EXPECT_EQ(
      got, (std::vector<std::string>{"db|network_mode container:db", "db|pid container:db",
                                     "data|volumes_from data", "logs|volumes_from logs",
                                     "cache|links cache", "queue|links queue", "data|links data"}));
}

TEST(PodRefs, NoneForPlainBodies) {
  EXPECT_TRUE(pod_refs_from_create_body(json::parse(R"({"Image":"x"})")).empty());
  EXPECT_TRUE(pod_refs_from_create_body(json("text")).empty());
  EXPECT_TRUE(pod_refs_from_create_body(
                  json::parse(R"({"HostConfig":{"NetworkMode":"bridge","Links":null}})"))
                  .empty());
}

TEST(PodRefs, ComposeLabels) {
  json body = {
      {"Labels", {{"com.docker.compose.project", "shop"}, {"com.docker.compose.service", "web"}}}};
  EXPECT_EQ(compose_project_of(body), "shop");
  EXPECT_EQ(compose_service_of(body), "web");
  EXPECT_EQ(compose_project_of(json::parse(R"({"Labels":{"com.docker.compose.project":""}})")),
            std::nullopt);
  EXPECT_EQ(compose_project_of(json::parse(R"({"Labels":null})")), std::nullopt);
}

TEST(PodRefs, ResolvedThroughTheRegistry) {
  WorkloadRegistry reg;
  reg.record_container({"abc123" + std::string(58, '0'), "rosetta", "db"});
  auto peers = resolve_pod_peers({{"db", "network_mode container:db"}}, reg);
  ASSERT_TRUE(peers.has_value());
  ASSERT_EQ(peers->size(), 1u);
  EXPECT_EQ((*peers)[0].backend, "rosetta");
  auto missing = resolve_pod_peers({{"nope", "links nope"}}, reg);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::NotFound);
  EXPECT_NE(missing.error().message.find("pod peer nope (links nope)"), std::string::npos);
}

}  // namespace
