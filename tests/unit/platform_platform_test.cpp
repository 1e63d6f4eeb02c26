// Platform strings with containerd's semantics: parsing, normalization, the preference vector,
// config matching and index selection.
#include "platform/platform.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace twinbox::platform {
namespace {

struct ParseCase {
  const char* in;
  const char* out;
};

void expect_parses(const std::vector<ParseCase>& cases) {
  for (const auto& c : cases) {
    auto p = parse_platform(c.in);
    ASSERT_TRUE(p.has_value()) << c.in << ": " << p.error().message;
    EXPECT_EQ(p->to_string(), c.out) << c.in;
  }
}

TEST(ParsePlatform, BareArchMeansLinux) {
  expect_parses({{"arm64", "linux/arm64"},
                 {"amd64", "linux/amd64"},
                 {"386", "linux/386"},
                 {"riscv64", "linux/riscv64"},
                 {"arm", "linux/arm/v7"}});
}

TEST(ParsePlatform, TrimsAndLowerCases) {
  expect_parses({{"  Linux/ARM64 ", "linux/arm64"},
                 {"\tLINUX/AMD64/V3\n", "linux/amd64/v3"},
                 {"macos/arm64", "darwin/arm64"}});
}

TEST(ParsePlatform, NormalizesX86Aliases) {
  expect_parses({{"x86_64", "linux/amd64"},
                 {"x86-64", "linux/amd64"},
                 {"linux/x86_64", "linux/amd64"},
                 {"linux/amd64/v1", "linux/amd64"},
                 {"linux/amd64/v2", "linux/amd64/v2"},
                 {"i386", "linux/386"},
                 {"linux/i386", "linux/386"}});
}

TEST(ParsePlatform, NormalizesAarch64Variants) {
  expect_parses({{"aarch64", "linux/arm64"},
                 {"linux/aarch64", "linux/arm64"},
                 {"linux/arm64/8", "linux/arm64"},
                 {"linux/arm64/v8", "linux/arm64"},
                 {"linux/aarch64/v8.0", "linux/arm64"},
                 {"linux/arm64/9", "linux/arm64/v9"},
                 {"linux/arm64/v9.0", "linux/arm64/v9"},
                 {"linux/arm64/v8.2", "linux/arm64/v8.2"}});
}

TEST(ParsePlatform, NormalizesArmVariants) {
  expect_parses({{"armhf", "linux/arm/v7"},
                 {"armel", "linux/arm/v6"},
                 {"linux/armhf", "linux/arm/v7"},
                 {"linux/arm", "linux/arm/v7"},
                 {"linux/arm/7", "linux/arm/v7"},
                 {"linux/arm/6", "linux/arm/v6"},
                 {"linux/arm/5", "linux/arm/v5"},
                 {"linux/arm/v8", "linux/arm/v8"}});
}

TEST(ParsePlatform, AcceptsUnknownArchWithOs) {
  expect_parses({{"linux/sparc128", "linux/sparc128"},
                 {"windows/amd64", "windows/amd64"},
                 {"freebsd/riscv64/rva22", "freebsd/riscv64/rva22"}});
}

TEST(ParsePlatform, ReadsArchSlashVariantAsLinux) {
  expect_parses({{"arm64/v8", "linux/arm64"}, {"arm/7", "linux/arm/v7"}});
}

TEST(ParsePlatform, RejectsMalformedSayingWhy) {
  struct Case {
    const char* in;
    const char* says;  // a substring of the message
  };
  for (auto c : std::vector<Case>{{"", "empty"},
                                  {"   ", "empty"},
                                  {"/", "component is empty"},
                                  {"linux/", "component is empty"},
                                  {"/arm64", "component is empty"},
                                  {"linux//arm64", "component is empty"},
                                  {"a/b/c/d", "too many components"},
                                  {"linux/arm64/v8/x", "too many components"},
                                  {"linux/*", "wildcards"},
                                  {"linux/arm 64", "may contain only"},
                                  {"linux/arm64:v8", "may contain only"},
                                  {"linux", "only an operating system"},
                                  {"amd46", "unknown architecture"},
                                  {"plan10/amd64", "unknown operating system"},
                                  {"beos/arm64/v8", "unknown operating system"},
                                  {"amd64/linux", "operating system comes first"}}) {
    auto p = parse_platform(c.in);
    ASSERT_FALSE(p.has_value()) << c.in << " parsed as " << p->to_string();
    EXPECT_EQ(p.error().code, ErrorCode::InvalidArgument) << c.in;
    EXPECT_NE(p.error().message.find(c.says), std::string::npos) << p.error().message;
    EXPECT_NE(p.error().message.find("accepted forms"), std::string::npos) << p.error().message;
  }
}

std::vector<std::string> strings(const std::vector<Platform>& ps) {
  std::vector<std::string> out;
  for (const auto& p : ps) out.push_back(p.to_string());
  return out;
}

TEST(CompatiblePlatforms, FollowsContainerdVector) {
  struct Case {
    Platform want;
    std::vector<std::string> order;
  };
  for (const auto& c : std::vector<Case>{
           {{"linux", "amd64", ""}, {"linux/amd64", "linux/386"}},
           {{"linux", "amd64", "v3"},
            {"linux/amd64/v3", "linux/amd64/v2", "linux/amd64", "linux/386"}},
           {{"linux", "x86_64", "v2"}, {"linux/amd64/v2", "linux/amd64", "linux/386"}},
           {{"linux", "arm64", ""},
            {"linux/arm64", "linux/arm/v8", "linux/arm/v7", "linux/arm/v6", "linux/arm/v5"}},
           {{"linux", "arm64", "v8.2"},
            {"linux/arm64/v8.2", "linux/arm64/v8.1", "linux/arm64", "linux/arm/v8", "linux/arm/v7",
             "linux/arm/v6", "linux/arm/v5"}},
           {{"linux", "arm64", "v9"},
            {"linux/arm64/v9", "linux/arm64/v8.5", "linux/arm64/v8.4", "linux/arm64/v8.3",
             "linux/arm64/v8.2", "linux/arm64/v8.1", "linux/arm64", "linux/arm/v8", "linux/arm/v7",
             "linux/arm/v6", "linux/arm/v5"}},
           {{"linux", "arm64", "v9.2"},
            {"linux/arm64/v9.2", "linux/arm64/v9.1", "linux/arm64/v9", "linux/arm64/v8.7",
             "linux/arm64/v8.6", "linux/arm64/v8.5", "linux/arm64/v8.4", "linux/arm64/v8.3",
             "linux/arm64/v8.2", "linux/arm64/v8.1", "linux/arm64", "linux/arm/v8", "linux/arm/v7",
             "linux/arm/v6", "linux/arm/v5"}},
           {{"linux", "arm", "v7"}, {"linux/arm/v7", "linux/arm/v6", "linux/arm/v5"}},
           {{"linux", "arm", "v5"}, {"linux/arm/v5"}},
           {{"linux", "386", ""}, {"linux/386"}},
           {{"linux", "s390x", ""}, {"linux/s390x"}},
       }) {
    EXPECT_EQ(strings(compatible_platforms(c.want)), c.order) << c.want.to_string();
  }
}

TEST(Matches, ConfigWithoutVariantMatchesOnOsAndArch) {
  struct Case {
    Platform want, have;
    bool ok;
  };
  for (const auto& c : std::vector<Case>{
           {{"linux", "arm", "v6"}, {"linux", "arm", ""}, true},
           {{"linux", "arm64", ""}, {"linux", "arm", ""}, true},
           {{"linux", "amd64", "v3"}, {"linux", "amd64", ""}, true},
           {{"linux", "arm64", ""}, {"linux", "aarch64", "v8"}, true},
           {{"linux", "amd64", ""}, {"linux", "386", ""}, true},
           {{"linux", "arm64", "v9"}, {"linux", "arm64", ""}, true},
           {{"linux", "arm64", "v9"}, {"linux", "arm64", "v8.4"}, true},
           {{"linux", "arm64", ""}, {"linux", "arm64", "v9"}, false},
           {{"linux", "amd64", ""}, {"linux", "amd64", "v2"}, false},
           {{"linux", "arm", "v6"}, {"linux", "arm", "v7"}, false},
           {{"linux", "arm64", ""}, {"linux", "amd64", ""}, false},
           {{"linux", "amd64", ""}, {"windows", "amd64", ""}, false},
           {{"linux", "amd64", ""}, {"linux", "arm64", ""}, false},
       }) {
    EXPECT_EQ(matches(c.want, c.have), c.ok) << c.want.to_string() << " vs " << c.have.to_string();
  }
}

TEST(SelectFromIndex, PrefersExactVariant) {
  std::vector<Platform> index = {
      {"linux", "arm", "v6"}, {"linux", "arm", "v7"}, {"linux", "arm64", "v8"}};
  EXPECT_EQ(select_from_index(index, {"linux", "arm", "v7"}), 1u);
  EXPECT_EQ(select_from_index(index, {"linux", "arm", "v6"}), 0u);
  EXPECT_EQ(select_from_index(index, {"linux", "arm64", ""}), 2u);
}

TEST(SelectFromIndex, FallsBackInPreferenceOrder) {
  std::vector<Platform> index = {
      {"linux", "386", ""}, {"linux", "arm", "v5"}, {"linux", "amd64", ""}, {"linux", "arm", "v7"}};
  EXPECT_EQ(select_from_index(index, {"linux", "amd64", "v3"}), 2u);
  EXPECT_EQ(select_from_index(index, {"linux", "arm64", ""}), 3u);
  EXPECT_EQ(select_from_index({{"linux", "386", ""}}, {"linux", "amd64", ""}), 0u);
  std::vector<Platform> arm64s = {
      {"linux", "arm", "v7"}, {"linux", "arm64", "v8"}, {"linux", "arm64", "v8.2"}};
  EXPECT_EQ(select_from_index(arm64s, {"linux", "arm64", "v9"}), 2u);
  EXPECT_EQ(select_from_index(arm64s, {"linux", "arm64", ""}), 1u);
}

TEST(SelectFromIndex, TiesGoToFirstInIndex) {
  // "arm" without a variant is arm/v7 (containerd), so both entries tie.
  std::vector<Platform> index = {{"linux", "arm", ""}, {"linux", "arm", "7"}};
  EXPECT_EQ(select_from_index(index, {"linux", "arm", "v7"}), 0u);
  std::vector<Platform> dup = {{"linux", "amd64", "v1"}, {"linux", "x86_64", ""}};
  EXPECT_EQ(select_from_index(dup, {"linux", "amd64", ""}), 0u);
}

TEST(SelectFromIndex, NoneWhenNothingCompatible) {
  std::vector<Platform> index = {
      {"linux", "amd64", "v2"}, {"windows", "amd64", ""}, {"linux", "s390x", ""}};
  EXPECT_EQ(select_from_index(index, {"linux", "amd64", ""}), std::nullopt);
  EXPECT_EQ(select_from_index({}, {"linux", "arm64", ""}), std::nullopt);
}

// Issue 18: variant levels are enumerated downwards, so a huge one allocated gigabytes
// (amd64/v300000000), spun for seconds (arm/v7685854) or overflowed an int (v-2147483648,
// v9.2147483647). They are refused at parse time, and a Platform built elsewhere (an index
// entry) with such a variant enumerates nothing below itself.
TEST(ParsePlatform, VariantLevelsAreBounded) {
  for (const char* bad :
       {"linux/amd64/v300000000", "linux/arm/v7685854", "linux/amd64/v-2147483648",
        "linux/arm64/v9.2147483647", "linux/arm64/v100", "linux/amd64/v003", "linux/arm64/v9.",
        "linux/arm64/v.5"}) {
    auto p = parse_platform(bad);
    ASSERT_FALSE(p.has_value()) << bad;
    EXPECT_EQ(p.error().code, ErrorCode::InvalidArgument) << bad;
    EXPECT_NE(p.error().message.find("is not a level twinbox reads"), std::string::npos)
        << p.error().message;
  }
  for (const char* good : {"linux/amd64/v3", "linux/amd64/v99", "linux/arm64/v9.2",
                           "linux/arm64/v8.99", "linux/arm/v7", "linux/arm/7", "linux/arm64/8"})
    EXPECT_TRUE(parse_platform(good).has_value()) << good;
  EXPECT_EQ(compatible_platforms({"linux", "amd64", "v300000000"}).size(), 2u);  // itself, 386
  EXPECT_EQ(compatible_platforms({"linux", "arm", "v7685854"}).size(), 1u);
  EXPECT_LE(compatible_platforms({"linux", "arm64", "v9.2147483647"}).size(), 20u);
  EXPECT_EQ(compatible_platforms(*parse_platform("linux/amd64/v99")).size(), 100u);
}

}  // namespace
}  // namespace twinbox::platform
