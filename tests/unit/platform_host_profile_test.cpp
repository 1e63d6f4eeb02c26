// Host profiles: what hv and rosetta run on Apple silicon and on a generic arm64 host, and which
// manifest of an index each would run.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "platform/host_profile.hpp"
#include "test_data.hpp"

namespace twinbox::platform {
namespace {

const HostProfile& profile(std::string_view name) {
  const HostProfile* p = find_profile(name);
  EXPECT_NE(p, nullptr) << name;
  return p ? *p : default_profile();
}

struct Case {
  const char* platform;
  const char* backend;  // nullptr: refused
};

void expect_backends(const HostProfile& prof, const std::vector<Case>& cases) {
  for (const auto& c : cases) {
    auto p = parse_platform(c.platform);
    ASSERT_TRUE(p.has_value()) << c.platform;
    auto m = prof.backend_for(*p);
    if (c.backend == nullptr) {
      EXPECT_FALSE(m.backend.has_value()) << prof.name << " " << c.platform;
    } else {
      ASSERT_TRUE(m.backend.has_value()) << prof.name << " " << c.platform << ": " << m.reason;
      EXPECT_EQ(*m.backend, c.backend) << prof.name << " " << c.platform;
    }
    EXPECT_FALSE(m.reason.empty());
  }
}

TEST(HostProfile, AppleSiliconIsTheDefault) {
  EXPECT_EQ(default_profile().name, "apple-silicon");
  EXPECT_EQ(find_profile("generic-arm64")->name, "generic-arm64");
  EXPECT_EQ(find_profile("x86"), nullptr);
  EXPECT_EQ(profile_names_text(), "apple-silicon, generic-arm64");
}

TEST(HostProfile, AppleSiliconRunsArm64OnHvAndAmd64OnRosetta) {
  expect_backends(profile("apple-silicon"), {{"linux/arm64", "hv"},
                                             {"aarch64", "hv"},
                                             {"linux/arm64/v8", "hv"},
                                             {"linux/amd64", "rosetta"},
                                             {"x86_64", "rosetta"},
                                             {"linux/amd64/v1", "rosetta"}});
}

TEST(HostProfile, AppleSiliconRejectsArmV7OnHv) {
  expect_backends(profile("apple-silicon"), {{"linux/arm/v7", nullptr},
                                             {"armhf", nullptr},
                                             {"armel", nullptr},
                                             {"linux/arm/v5", nullptr}});
  auto m = profile("apple-silicon").backend_for({"linux", "arm", "v7"});
  EXPECT_NE(m.reason.find("no AArch32"), std::string::npos) << m.reason;
  EXPECT_NE(m.reason.find("hv: linux/arm64; rosetta: linux/arm64, linux/amd64 (translated)"),
            std::string::npos)
      << m.reason;
}

TEST(HostProfile, RosettaRejects386AndHigherAmd64Levels) {
  for (const char* name : {"apple-silicon", "generic-arm64"}) {
    expect_backends(profile(name), {{"linux/386", nullptr},
                                    {"i386", nullptr},
                                    {"linux/amd64/v2", nullptr},
                                    {"linux/amd64/v3", nullptr}});
  }
  auto m = profile("apple-silicon").backend_for({"linux", "386", ""});
  EXPECT_NE(m.reason.find("no 386"), std::string::npos) << m.reason;
  auto ok = profile("apple-silicon").backend_for({"linux", "x86_64", ""});
  EXPECT_EQ(ok.reason,
            "linux/amd64 runs on rosetta (translated by qemu-x86_64, host profile "
            "apple-silicon)");
}

TEST(HostProfile, GenericArm64AcceptsContainerdArmFallbacks) {
  expect_backends(profile("generic-arm64"), {{"linux/arm64", "hv"},
                                             {"linux/arm/v8", "hv"},
                                             {"armhf", "hv"},
                                             {"linux/arm/v6", "hv"},
                                             {"linux/arm/v5", "hv"},
                                             {"linux/amd64", "rosetta"},
                                             {"linux/arm64/v9", nullptr}});
}

TEST(HostProfile, RejectsOtherOperatingSystemsAndArches) {
  for (const auto& prof : all_profiles()) {
    auto m = prof.backend_for({"windows", "amd64", ""});
    EXPECT_FALSE(m.backend.has_value());
    EXPECT_NE(m.reason.find("Linux containers only"), std::string::npos) << m.reason;
    auto s390x = prof.backend_for({"linux", "s390x", ""});
    EXPECT_FALSE(s390x.backend.has_value());
    EXPECT_NE(s390x.reason.find("no backend runs s390x"), std::string::npos) << s390x.reason;
  }
}

TEST(HostProfile, ListsAcceptedPlatformsPerBackend) {
  EXPECT_EQ(profile("apple-silicon").accepted_text(),
            "hv: linux/arm64; rosetta: linux/arm64, linux/amd64 (translated)");
  EXPECT_EQ(profile("generic-arm64").accepted_text(),
            "hv: linux/arm64, linux/arm/v8, linux/arm/v7, linux/arm/v6, linux/arm/v5; rosetta: "
            "linux/arm64, linux/arm/v8, linux/arm/v7, linux/arm/v6, linux/arm/v5, linux/amd64 "
            "(translated)");
  EXPECT_EQ(profile("apple-silicon").accepted("rosetta").size(), 2u);
  EXPECT_EQ(profile("apple-silicon").accepted("hv").size(), 1u);
  EXPECT_TRUE(profile("apple-silicon").accepted("qemu").empty());
  EXPECT_EQ(profile("apple-silicon").default_backend(), "hv");
}

std::vector<Platform> index_platforms(const std::string& file) {
  auto doc = nlohmann::json::parse(read_test_data("platform/" + file), nullptr, false);
  EXPECT_FALSE(doc.is_discarded()) << file;
  std::vector<Platform> out;
  for (const auto& m : doc.value("manifests", nlohmann::json::array())) {
    const auto& p = m.at("platform");
    out.push_back({p.value("os", ""), p.value("architecture", ""), p.value("variant", "")});
  }
  return out;
}

TEST(HostProfileSelectFromIndex, PicksPerBackendAndRequest) {
  struct IndexCase {
    const char* profile;
    const char* index;
    const char* want;    // "" = no platform requested
    const char* chosen;  // nullptr: no match
    const char* backend;
  };
  for (const auto& c : std::vector<IndexCase>{
           {"apple-silicon", "busybox-index.json", "", "linux/arm64", "hv"},
           {"apple-silicon", "busybox-index.json", "linux/amd64", "linux/amd64", "rosetta"},
           {"apple-silicon", "busybox-index.json", "linux/amd64/v3", "linux/amd64", "rosetta"},
           {"apple-silicon", "busybox-index.json", "linux/arm/v7", nullptr, ""},
           {"generic-arm64", "busybox-index.json", "linux/arm/v7", "linux/arm/v7", "hv"},
           {"apple-silicon", "amd64-only-index.json", "", "linux/amd64", "rosetta"},
           {"apple-silicon", "amd64-only-index.json", "linux/arm64", nullptr, ""},
           {"apple-silicon", "arm32-only-index.json", "", nullptr, ""},
           {"apple-silicon", "arm32-only-index.json", "linux/arm64", nullptr, ""},
           {"generic-arm64", "arm32-only-index.json", "", "linux/arm/v7", "hv"},
           {"generic-arm64", "arm32-only-index.json", "linux/arm64", "linux/arm/v7", "hv"},
           {"generic-arm64", "arm32-only-index.json", "linux/arm/v6", "linux/arm/v6", "hv"},
       }) {
    auto entries = index_platforms(c.index);
    std::optional<Platform> want;
    if (*c.want) want = parse_platform(c.want).value();
    auto got = profile(c.profile).select_from_index(entries, want);
    std::string label = std::string(c.profile) + " " + c.index + " want=" + c.want;
    if (c.chosen == nullptr) {
      ASSERT_FALSE(got.has_value()) << label << " chose " << got->platform.to_string();
      EXPECT_EQ(got.error().code, ErrorCode::NotFound);
      EXPECT_NE(got.error().message.find("no matching manifest"), std::string::npos);
      continue;
    }
    ASSERT_TRUE(got.has_value()) << label << ": " << got.error().message;
    EXPECT_EQ(got->platform.to_string(), c.chosen) << label;
    EXPECT_EQ(normalize(entries[got->entry]), got->platform) << label;
    EXPECT_EQ(got->backend, c.backend) << label;
    EXPECT_FALSE(got->reason.empty());
  }
}

}  // namespace
}  // namespace twinbox::platform
