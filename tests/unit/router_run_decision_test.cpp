// Run decisions as a table: explicit platform, image platforms, backend states, translator
// configuration and host profile in; backend, translator, platform and reason (or error) out.
#include <gtest/gtest.h>

#include "platform/host_profile.hpp"
#include "router/run_decision.hpp"

using namespace twinbox;
using namespace twinbox::router;

namespace {

std::optional<std::vector<platform::Platform>> offers(const std::string& list) {
  auto ps = parse_platform_list(list);
  EXPECT_TRUE(ps.has_value()) << list;
  return ps ? *ps : std::nullopt;
}

RunRequest req(std::optional<std::string> query, std::string image_platforms = "unknown",
               std::optional<std::string> body = std::nullopt) {
  RunRequest r;
  r.name = "web";
  r.query_platform = std::move(query);
  r.body_platform = std::move(body);
  r.image_platforms = offers(image_platforms);
  return r;
}

RouteEnv env(bool rosetta = true, std::string fallback = "", std::string hv = "running",
             std::string ros = "running", const char* profile = "apple-silicon") {
  RouteEnv e;
  if (!rosetta) e.translator.disabled = {"rosetta"};
  e.translator.fallback = std::move(fallback);
  e.backends.set("hv", std::move(hv)).set("rosetta", std::move(ros));
  e.profile = platform::find_profile(profile);
  return e;
}

struct Case {
  const char* name;
  RunRequest req;
  RouteEnv env;
  // "hv linux/arm64 none" (backend platform translator) or "error 404 SUBSTRING".
  std::string want;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

std::string got_of(const Result<RunDecision>& d) {
  if (!d)
    return "error " + std::to_string(error_code_http_status(d.error().code)) + " " +
           d.error().message;
  return d->backend + " " + d->platform + " " + d->translator;
}

class RunDecide : public ::testing::TestWithParam<Case> {};

TEST_P(RunDecide, Table) {
  const auto& c = GetParam();
  auto d = decide_run(c.req, c.env);
  std::string got = got_of(d);
  if (c.want.rfind("error ", 0) == 0) {
    // "error 404 text": the status and a substring of the message.
    ASSERT_FALSE(d.has_value()) << got;
    EXPECT_EQ(got.substr(0, 9), c.want.substr(0, 9));
    EXPECT_NE(got.find(c.want.substr(10)), std::string::npos) << got;
    EXPECT_NE(got.find("host profile"), std::string::npos) << "errors name the profile: " << got;
  } else {
    ASSERT_TRUE(d.has_value()) << got;
    EXPECT_EQ(got, c.want) << d->reason;
    EXPECT_NE(d->reason.find("host profile"), std::string::npos) << d->reason;
    EXPECT_EQ(d->reason.find('\n'), std::string::npos) << "one line: " << d->reason;
  }
}

const std::string kRos = "rosetta linux/amd64 qemu-x86_64 (binfmt POCF)";
const std::string kHvArm = "hv linux/arm64 none";

INSTANTIATE_TEST_SUITE_P(
    Rules, RunDecide,
    ::testing::Values(
        // Explicit platform, image platforms unknown.
        Case{"arm64_to_hv", req("linux/arm64"), env(), kHvArm},
        Case{"aarch64_alias", req("aarch64"), env(), kHvArm},
        Case{"arm64_v8_alias", req("linux/arm64/v8"), env(), kHvArm},
        Case{"amd64_to_rosetta", req("linux/amd64"), env(), kRos},
        Case{"x86_64_alias", req("x86_64"), env(), kRos},
        Case{"x86_dash_64_alias", req("x86-64"), env(), kRos},
        Case{"amd64_v1_alias", req("linux/amd64/v1"), env(), kRos},
        Case{"query_wins_over_body", req("linux/arm64", "unknown", "linux/amd64"), env(), kHvArm},
        Case{"body_used_without_query", req(std::nullopt, "unknown", "linux/amd64"), env(), kRos},
        Case{"empty_query_falls_to_body", req("", "unknown", "linux/amd64"), env(), kRos},
        Case{"garbage_platform", req("linux/arm64/v8/x"), env(), "error 400 too many components"},
        Case{"typo_arch", req("amd46"), env(), "error 400 unknown architecture"},
        Case{"386_not_on_apple", req("linux/386"), env(), "error 400 no 386"},
        Case{"i386_alias_not_on_apple", req("i386"), env(), "error 400 linux/386"},
        Case{"armv7_not_on_apple", req("linux/arm/v7"), env(), "error 400 no AArch32"},
        Case{"armhf_not_on_apple", req("armhf"), env(), "error 400 linux/arm/v7"},
        Case{"armv7_on_generic", req("linux/arm/v7"),
             env(true, "", "running", "running", "generic-arm64"), "hv linux/arm/v7 none"},
        Case{"386_not_on_generic", req("linux/386"),
             env(true, "", "running", "running", "generic-arm64"), "error 400 generic-arm64"},
        Case{"amd64_v3_refused_unknown_image", req("linux/amd64/v3"), env(), "error 400 amd64/v2"},
        Case{"riscv_refused", req("linux/riscv64"), env(), "error 400 no backend runs riscv64"},
        // Translator configuration.
        Case{"rosetta_off_fallback", req("linux/amd64"), env(false, "qemu-x86_64 (hv fallback)"),
             "hv linux/amd64 qemu-x86_64 (hv fallback)"},
        Case{"rosetta_off_no_fallback", req("linux/amd64"), env(false),
             "error 503 translator disabled and no fallback"},
        Case{"rosetta_off_arm64_unaffected", req("linux/arm64"), env(false), kHvArm},
        Case{"rosetta_off_multiarch_prefers_hv", req(std::nullopt, "linux/amd64,linux/arm64"),
             env(false), kHvArm},
        Case{"rosetta_off_amd64_only_fallback", req(std::nullopt, "linux/amd64"),
             env(false, "qemu-x86_64 (hv fallback)"), "hv linux/amd64 qemu-x86_64 (hv fallback)"},
        Case{"rosetta_off_amd64_only_no_fallback", req(std::nullopt, "linux/amd64"), env(false),
             "error 503 translator disabled"},
        // No platform: what the image offers.
        Case{"multiarch_prefers_native", req(std::nullopt, "linux/amd64,linux/arm64"), env(),
             kHvArm},
        Case{"arm64_only", req(std::nullopt, "linux/arm64/v8"), env(), kHvArm},
        Case{"amd64_only", req(std::nullopt, "linux/amd64"), env(), kRos},
        Case{"neither_lists_offered", req(std::nullopt, "linux/s390x,linux/ppc64le"), env(),
             "error 404 linux/s390x, linux/ppc64le"},
        Case{"armv7_only_on_apple", req(std::nullopt, "linux/arm/v7"), env(),
             "error 404 linux/arm/v7"},
        Case{"armv7_only_on_generic", req(std::nullopt, "linux/arm/v7"),
             env(true, "", "running", "running", "generic-arm64"), "hv linux/arm/v7 none"},
        Case{"unknown_platforms_default_hv", req(std::nullopt), env(), kHvArm},
        // Explicit platform against what the image offers.
        Case{"explicit_amd64_multiarch", req("linux/amd64", "linux/amd64,linux/arm64"), env(),
             kRos},
        Case{"explicit_arm64_not_offered", req("linux/arm64", "linux/amd64"), env(),
             "error 404 the index has: linux/amd64"},
        Case{"explicit_v3_finds_baseline", req("linux/amd64/v3", "linux/amd64,linux/arm64"), env(),
             kRos},
        Case{"explicit_386_offered_but_not_runnable", req("linux/386", "linux/386"), env(),
             "error 400 no 386"},
        // Backend states.
        Case{"rosetta_failed", req("linux/amd64"), env(true, "", "running", "failed"),
             "error 503 backend rosetta is not running (state: failed)"},
        Case{"hv_starting", req(std::nullopt, "linux/arm64"), env(true, "", "starting"),
             "error 503 backend hv is not running (state: starting)"},
        Case{"hv_not_configured", req("linux/arm64"), env(true, "", ""),
             "error 503 backend hv is not configured"},
        Case{"rosetta_down_arm64_fine", req("linux/arm64"), env(true, "", "running", "stopped"),
             kHvArm},
        Case{"fallback_needs_hv_up", req("linux/amd64"),
             env(false, "qemu-x86_64 (hv fallback)", "failed"), "error 503 backend hv"}));

TEST(RunDecision, ReasonSaysUnknownPlatforms) {
  auto d = decide_run(req(std::nullopt), env());
  ASSERT_TRUE(d.has_value());
  EXPECT_NE(d->reason.find("platforms are unknown"), std::string::npos) << d->reason;
  EXPECT_NE(d->reason.find("apple-silicon"), std::string::npos) << d->reason;
}

TEST(RunDecision, ReasonNamesFallbackTranslatorAndGenericProfile) {
  auto d = decide_run(
      req("amd64"), env(false, "qemu-x86_64 (hv fallback)", "running", "running", "generic-arm64"));
  ASSERT_TRUE(d.has_value());
  EXPECT_NE(d->reason.find("fallback translator qemu-x86_64 (hv fallback)"), std::string::npos)
      << d->reason;
  EXPECT_NE(d->reason.find("generic-arm64"), std::string::npos) << d->reason;
}

TEST(RunDecision, NotOfferedListsOfferedPlatforms) {
  auto d = decide_run(req("linux/amd64", "linux/arm64,linux/arm/v7"), env());
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().code, ErrorCode::NotFound);
  EXPECT_NE(d.error().message.find("--platform linux/amd64 requested"), std::string::npos);
  EXPECT_NE(d.error().message.find("linux/arm64, linux/arm/v7"), std::string::npos)
      << d.error().message;
}

TEST(RunDecision, ParsePlatformList) {
  auto ps = parse_platform_list("linux/amd64, aarch64  arm64/v8");
  ASSERT_TRUE(ps.has_value());
  ASSERT_TRUE(ps->has_value());
  EXPECT_EQ(platforms_text(*ps), "linux/amd64, linux/arm64, linux/arm64");
  auto unknown = parse_platform_list("unknown");
  ASSERT_TRUE(unknown.has_value());
  EXPECT_FALSE(unknown->has_value());
  auto bad = parse_platform_list("linux/amd64,bogus");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find("bogus"), std::string::npos);
}

TEST(RunDecision, TranslatorLabelsMatchTheDaemonsStrings) {
  // api::BackendStatus::translator and the io.twinbox.translator label use these exact strings.
  EXPECT_EQ(kTranslatorNone, "none");
  EXPECT_EQ(kTranslatorRosetta, "qemu-x86_64 (binfmt POCF)");
  // The constant is the default profile's translator, labelled with its rule's flags.
  const auto& rosetta = *platform::default_profile().support("rosetta");
  ASSERT_EQ(rosetta.translators.size(), 1u);
  EXPECT_EQ(platform::translator_label(rosetta.translators[0].name, rosetta.translators[0].flags),
            kTranslatorRosetta);
}

}  // namespace

namespace {

TEST(RunDecision, RequestedPlatformQueryWinsEmptyIsAbsent) {
  auto q = requested_platform(std::string(" linux/arm64 "), std::string("linux/amd64"));
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->platform, "linux/arm64");
  EXPECT_EQ(q->origin, "--platform linux/arm64 requested");
  auto b = requested_platform(std::string("  "), std::string("amd64"));
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->origin, "platform amd64 in the request body");
  EXPECT_FALSE(requested_platform(std::nullopt, std::string("")).has_value());
  EXPECT_EQ(explicit_platform(req(std::nullopt, "unknown", "amd64")),
            "platform amd64 in the request body");
}

}  // namespace
