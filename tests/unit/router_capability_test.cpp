// What each backend runs, natively or translated, as one table: every platform twinbox meets,
// alone and as a member of a group (pod or compose project) placed on hv or on rosetta, under
// each host profile and with and without a translator. Both utility VMs are arm64 guests, so a
// group that follows an amd64 member to rosetta keeps its arm64 members, natively.
#include <gtest/gtest.h>

#include "platform/host_profile.hpp"
#include "router/groups.hpp"
#include "router/run_decision.hpp"

using namespace twinbox;
using namespace twinbox::router;

namespace {

enum class Group { None, PodOnHv, PodOnRosetta, ProjectOnHv, ProjectOnRosetta };
enum class Translators { Rosetta, HvFallback, None };

struct Case {
  const char* profile;
  Group group;
  Translators translators;
  const char* platform;  // --platform
  // "BACKEND PLATFORM native|translated" or "error STATUS".
  const char* want;
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.profile << " group=" << static_cast<int>(c.group)
      << " translators=" << static_cast<int>(c.translators) << " " << c.platform;
}

RouteEnv env_of(const Case& c) {
  RouteEnv e;
  e.profile = platform::find_profile(c.profile);
  if (c.translators != Translators::Rosetta) {
    e.translator.disabled = {"rosetta"};
    e.backends.set("rosetta", "");  // twinboxd runs no rosetta VM then
  }
  if (c.translators == Translators::HvFallback)
    e.translator.fallback = "qemu-x86_64 (binfmt POCF, hv fallback)";
  return e;
}

RunRequest request_of(const Case& c) {
  RunRequest r;
  r.name = "member";
  r.query_platform = c.platform;
  switch (c.group) {
    case Group::None:
      break;
    case Group::PodOnHv:
      r.group.pod_peers = {{"app", "hv", "network_mode container:app"}};
      break;
    case Group::PodOnRosetta:
      r.group.pod_peers = {{"legacy", "rosetta", "network_mode container:legacy"}};
      break;
    case Group::ProjectOnHv:
      r.group.project = ProjectPlacement{"shop", "hv", PlacementSource::Declared, ""};
      break;
    case Group::ProjectOnRosetta:
      r.group.project = ProjectPlacement{"shop", "rosetta", PlacementSource::Declared, ""};
      break;
  }
  return r;
}

std::string got_of(const Result<RunDecision>& d) {
  if (!d) return "error " + std::to_string(error_code_http_status(d.error().code));
  // The execution and the translator agree: native runs name no translator.
  bool no_translator = d->translator == kTranslatorNone;
  if (no_translator != (d->execution == kExecutionNative))
    return "inconsistent: " + d->execution + " with translator " + d->translator;
  return d->backend + " " + d->platform + " " + d->execution;
}

class Capability : public ::testing::TestWithParam<Case> {};

TEST_P(Capability, Table) {
  const auto& c = GetParam();
  auto d = decide_run(request_of(c), env_of(c));
  EXPECT_EQ(got_of(d), c.want) << (d ? d->reason : d.error().message);
  if (d) {
    EXPECT_NE(d->reason.find(std::string("host profile ") + c.profile), std::string::npos);
  }
}

constexpr const char* kApple = "apple-silicon";
constexpr const char* kGeneric = "generic-arm64";

INSTANTIATE_TEST_SUITE_P(
    Rules, Capability,
    ::testing::Values(
        // Alone: arm64 prefers hv (the fast default) although rosetta runs it natively too.
        Case{kApple, Group::None, Translators::Rosetta, "linux/arm64", "hv linux/arm64 native"},
        Case{kApple, Group::None, Translators::Rosetta, "linux/amd64",
             "rosetta linux/amd64 translated"},
        Case{kApple, Group::None, Translators::HvFallback, "linux/amd64",
             "hv linux/amd64 translated"},
        Case{kApple, Group::None, Translators::None, "linux/amd64", "error 503"},
        Case{kApple, Group::None, Translators::Rosetta, "linux/386", "error 400"},
        Case{kApple, Group::None, Translators::Rosetta, "linux/arm/v7", "error 400"},
        Case{kApple, Group::None, Translators::Rosetta, "linux/arm/v6", "error 400"},
        Case{kGeneric, Group::None, Translators::Rosetta, "linux/arm/v7", "hv linux/arm/v7 native"},
        Case{kGeneric, Group::None, Translators::Rosetta, "linux/386", "error 400"},
        // An arm64-only member of a group anchored on rosetta runs there, natively.
        Case{kApple, Group::PodOnRosetta, Translators::Rosetta, "linux/arm64",
             "rosetta linux/arm64 native"},
        Case{kApple, Group::ProjectOnRosetta, Translators::Rosetta, "linux/arm64",
             "rosetta linux/arm64 native"},
        Case{kApple, Group::PodOnRosetta, Translators::Rosetta, "linux/amd64",
             "rosetta linux/amd64 translated"},
        Case{kApple, Group::PodOnRosetta, Translators::Rosetta, "linux/386", "error 400"},
        Case{kApple, Group::PodOnRosetta, Translators::Rosetta, "linux/arm/v7", "error 400"},
        Case{kGeneric, Group::PodOnRosetta, Translators::Rosetta, "linux/arm/v7",
             "rosetta linux/arm/v7 native"},
        Case{kGeneric, Group::ProjectOnRosetta, Translators::Rosetta, "linux/arm/v6",
             "rosetta linux/arm/v6 native"},
        Case{kGeneric, Group::PodOnRosetta, Translators::Rosetta, "linux/386", "error 400"},
        // An amd64 member of a group on hv: only with hv's fallback translator.
        Case{kApple, Group::PodOnHv, Translators::Rosetta, "linux/amd64", "error 409"},
        Case{kApple, Group::ProjectOnHv, Translators::Rosetta, "linux/amd64", "error 409"},
        Case{kApple, Group::PodOnHv, Translators::HvFallback, "linux/amd64",
             "hv linux/amd64 translated"},
        Case{kApple, Group::ProjectOnHv, Translators::HvFallback, "linux/amd64",
             "hv linux/amd64 translated"},
        Case{kApple, Group::PodOnHv, Translators::None, "linux/amd64", "error 503"},
        Case{kApple, Group::PodOnHv, Translators::Rosetta, "linux/arm64", "hv linux/arm64 native"},
        Case{kApple, Group::PodOnHv, Translators::Rosetta, "linux/arm/v7", "error 400"},
        Case{kGeneric, Group::PodOnHv, Translators::Rosetta, "linux/arm/v7",
             "hv linux/arm/v7 native"},
        Case{kGeneric, Group::PodOnHv, Translators::Rosetta, "linux/amd64", "error 409"}));

TEST(CapabilityProfile, RosettaRunsArm64NativelyAndAmd64Translated) {
  const auto& prof = *platform::find_profile(kApple);
  auto arm = prof.runs_on("rosetta", {"linux", "arm64", ""});
  ASSERT_TRUE(arm.runs.has_value()) << arm.reason;
  EXPECT_EQ(arm.runs->execution, platform::Execution::Native);
  auto amd = prof.runs_on("rosetta", {"linux", "x86_64", ""});
  ASSERT_TRUE(amd.runs.has_value()) << amd.reason;
  EXPECT_EQ(amd.runs->execution, platform::Execution::Translated);
  ASSERT_NE(amd.runs->translator, nullptr);
  EXPECT_EQ(amd.runs->translator->name, "qemu-x86_64");
  EXPECT_EQ(amd.runs->translator->flags, "POCF");
  EXPECT_EQ(amd.runs->how(), "translated by qemu-x86_64");
  auto hv_amd = prof.runs_on("hv", {"linux", "amd64", ""});
  EXPECT_FALSE(hv_amd.backend.has_value());
  EXPECT_EQ(hv_amd.reason,
            "hv does not run linux/amd64 (host profile apple-silicon; hv runs "
            "linux/arm64)");
  auto v7 = prof.runs_on("rosetta", {"linux", "arm", "v7"});
  EXPECT_FALSE(v7.backend.has_value());
  EXPECT_NE(v7.reason.find("no AArch32"), std::string::npos) << v7.reason;
}

// A profile whose hv carries a translator of its own decides over that capability, not over
// backend names: an amd64 pod member joins hv translated, an ungrouped one still prefers the
// profile's first translating backend.
TEST(CapabilityProfile, ATranslatorOnHvIsACapabilityLikeAnyOther) {
  platform::HostProfile prof = *platform::find_profile(kApple);
  prof.name = "hv-translates";
  prof.backends[0].translators.push_back(
      {"box64", {{"linux", "amd64", ""}}, "F", "a second translator"});
  RouteEnv e;
  e.profile = &prof;
  RunRequest r;
  r.query_platform = "linux/amd64";
  auto alone = decide_run(r, e);
  ASSERT_TRUE(alone.has_value()) << alone.error().message;
  EXPECT_EQ(alone->backend, "hv");  // the first backend that translates it
  EXPECT_EQ(alone->translator, "box64 (binfmt F)");
  r.group.pod_peers = {{"legacy", "rosetta", "network_mode container:legacy"}};
  auto pod = decide_run(r, e);
  ASSERT_TRUE(pod.has_value()) << pod.error().message;
  EXPECT_EQ(pod->backend, "rosetta");
  EXPECT_EQ(pod->translator, kTranslatorRosetta);
}

}  // namespace

namespace {

// Adding a backend to a profile is one entry of its table: a third VM that runs linux/riscv64
// natively takes riscv64 work, a group placed on it keeps its riscv64 members, a compose project
// follows its riscv64-only service there, and nothing about hv and rosetta changes.
TEST(CapabilityProfile, AddingABackendIsOneTableEntry) {
  platform::HostProfile prof = *platform::find_profile(kApple);
  prof.name = "with-riscv";
  prof.backends.push_back(
      {"riscv", {{"linux", "riscv64", ""}}, {}, {"riscv64"}, "riscv runs linux/riscv64 only"});
  RouteEnv e;
  e.profile = &prof;
  auto run = [&](std::optional<std::string> platform, std::string offers, GroupContext g = {}) {
    RunRequest r;
    r.name = "member";
    r.query_platform = std::move(platform);
    r.image_platforms = *parse_platform_list(offers);
    r.group = std::move(g);
    return got_of(decide_run(r, e));
  };
  EXPECT_EQ(run("linux/riscv64", "unknown"), "riscv linux/riscv64 native");
  EXPECT_EQ(run(std::nullopt, "linux/riscv64"), "riscv linux/riscv64 native");
  EXPECT_EQ(run(std::nullopt, "linux/riscv64, linux/arm64"), "hv linux/arm64 native");
  EXPECT_EQ(run(std::nullopt, "linux/riscv64, linux/amd64"), "riscv linux/riscv64 native");
  EXPECT_EQ(run("linux/amd64", "unknown"), "rosetta linux/amd64 translated");
  GroupContext on_riscv;
  on_riscv.pod_peers = {{"sim", "riscv", "network_mode container:sim"}};
  EXPECT_EQ(run(std::nullopt, "linux/riscv64, linux/arm64", on_riscv),
            "riscv linux/riscv64 native");
  EXPECT_EQ(run("linux/arm64", "unknown", on_riscv), "error 409");
  EXPECT_NE(prof.accepted_text().find("riscv: linux/riscv64"), std::string::npos);

  auto project =
      decide_project("lab",
                     {{"web", std::nullopt, *parse_platform_list("linux/arm64, linux/riscv64")},
                      {"sim", std::nullopt, *parse_platform_list("linux/riscv64")}},
                     e);
  ASSERT_TRUE(project.has_value()) << project.error().message;
  EXPECT_EQ(project->backend, "riscv");
  EXPECT_EQ(project->forced_by, "sim");
  ASSERT_EQ(project->services.size(), 2u);
  EXPECT_EQ(project->services[0].decision.platform, "linux/riscv64");
}

}  // namespace
