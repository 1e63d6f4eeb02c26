// Platform strings to backends through the host profile: the accepted forms, query-over-body
// precedence. Parsing itself is tested in platform_platform_test.cpp.
#include <gtest/gtest.h>

#include "router/platform_route.hpp"

using namespace twinbox::router;

namespace {

TEST(BackendForPlatform, Table) {
  struct Case {
    const char* in;
    const char* backend;  // nullptr: refused
  };
  for (auto c : std::vector<Case>{{"linux/arm64", "hv"},
                                  {"arm64", "hv"},
                                  {"aarch64", "hv"},
                                  {"linux/arm64/v8", "hv"},
                                  {"linux/amd64", "rosetta"},
                                  {"amd64", "rosetta"},
                                  {"x86_64", "rosetta"},
                                  {"LINUX/AMD64", "rosetta"},
                                  {"linux/arm/v7", nullptr},
                                  {"linux/amd64/v3", nullptr},
                                  {"linux/arm64/v9", nullptr},
                                  {"windows/amd64", nullptr},
                                  {"linux/riscv64", nullptr},
                                  {"linux/s390x", nullptr},
                                  {"a/b/c/d", nullptr}}) {
    auto r = backend_for_platform(c.in, "--platform requested");
    if (!c.backend) {
      ASSERT_FALSE(r.has_value()) << c.in;
      EXPECT_EQ(r.error().code, twinbox::ErrorCode::InvalidArgument);
      EXPECT_NE(r.error().message.find("linux/arm64"), std::string::npos) << r.error().message;
      EXPECT_NE(r.error().message.find("x86_64"), std::string::npos) << r.error().message;
      continue;
    }
    ASSERT_TRUE(r.has_value()) << c.in << ": " << r.error().message;
    EXPECT_EQ(r->backend, c.backend) << c.in;
  }
}

TEST(ChoosePlatform, QueryWinsOverBody) {
  auto c = choose_platform("linux/amd64", "linux/arm64");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->backend, "rosetta");
  EXPECT_EQ(c->platform, "linux/amd64");
  EXPECT_EQ(c->reason,
            "--platform linux/amd64 requested: linux/amd64 runs on rosetta (translated by "
            "qemu-x86_64, host profile apple-silicon)");
}

TEST(ChoosePlatform, BodyUsedWhenQueryAbsentOrEmpty) {
  for (std::optional<std::string> q :
       {std::optional<std::string>{}, std::optional<std::string>{""}}) {
    auto c = choose_platform(q, "x86_64");
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(c->backend, "rosetta");
    EXPECT_EQ(c->platform, "linux/amd64");
    EXPECT_NE(c->reason.find("request body"), std::string::npos) << c->reason;
  }
}

TEST(ChoosePlatform, NoPlatformMeansHv) {
  auto c = choose_platform(std::nullopt, std::nullopt);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->backend, "hv");
  EXPECT_EQ(c->platform, "linux/arm64");
  EXPECT_NE(c->reason.find("no platform requested"), std::string::npos);
}

TEST(ChoosePlatform, BadQueryIsAnErrorEvenWithAGoodBody) {
  auto c = choose_platform("linux/ppc64le", "linux/arm64");
  ASSERT_FALSE(c.has_value());
  EXPECT_NE(c.error().message.find("--platform linux/ppc64le requested"), std::string::npos)
      << c.error().message;
}

}  // namespace
