#include <gtest/gtest.h>

#include "vm/shares.hpp"

using namespace twinbox;
using namespace twinbox::vm;

TEST(LexicalNormal, CollapsesSlashesDotsAndDotDots) {
  EXPECT_EQ(lexical_normal("/"), "/");
  EXPECT_EQ(lexical_normal("//home//me/"), "/home/me");
  EXPECT_EQ(lexical_normal("/home/./me/../you"), "/home/you");
  EXPECT_EQ(lexical_normal("/.."), "/");
  EXPECT_EQ(lexical_normal("/../tmp/x/.."), "/tmp");
  EXPECT_EQ(lexical_normal("relative/path"), "");
  EXPECT_EQ(lexical_normal(""), "");
}

TEST(PathWithin, ComparesWholeComponents) {
  EXPECT_TRUE(path_within("/tmp", "/tmp"));
  EXPECT_TRUE(path_within("/tmp/a/b", "/tmp"));
  EXPECT_FALSE(path_within("/tmpx", "/tmp"));
  EXPECT_FALSE(path_within("/tm", "/tmp"));
  EXPECT_TRUE(path_within("/anything", "/"));
}

TEST(PlanShares, NormalizesDropsNestedAndDuplicatesAndTagsInOrder) {
  auto s = plan_shares({"/home/me/", "/tmp", "/home/me/src", "/tmp/", "/srv/data"});
  ASSERT_TRUE(s) << s.error().message;
  ASSERT_EQ(s->size(), 3U);
  EXPECT_EQ((*s)[0].path, "/home/me");
  EXPECT_EQ((*s)[0].tag, "twinbox-share0");
  EXPECT_EQ((*s)[1].path, "/tmp");
  EXPECT_EQ((*s)[2].path, "/srv/data");
  EXPECT_EQ((*s)[2].tag, "twinbox-share2");
  // A parent given after its child still carries it.
  auto p = plan_shares({"/home/me/src", "/home/me"});
  ASSERT_TRUE(p);
  ASSERT_EQ(p->size(), 1U);
  EXPECT_EQ((*p)[0].path, "/home/me");
  auto none = plan_shares({});
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST(PlanShares, RefusesRelativePathsAndTheGuestsOwnDirectories) {
  auto rel = plan_shares({"src"});
  ASSERT_FALSE(rel);
  EXPECT_NE(rel.error().message.find("absolute"), std::string::npos);
  for (const char* bad : {"/", "/usr", "/usr/local/share", "/var", "/var/lib", "/var/lib/docker",
                          "/etc", "/run/user/1000", "/data"}) {
    auto r = plan_shares({"/tmp", bad});
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::InvalidArgument);
    EXPECT_NE(r.error().message.find(std::string("--share ") + bad), std::string::npos) << bad;
  }
  for (const char* ok : {"/var/tmp", "/srv", "/opt/work", "/mnt/data", "/root", "/home"})
    EXPECT_TRUE(plan_shares({ok})) << ok;
}

TEST(ShareHolding, FindsTheShareOfAPath) {
  std::vector<Share> shares = {{"/home/me", "twinbox-share0"}, {"/tmp", "twinbox-share1"}};
  ASSERT_NE(share_holding("/tmp/x", shares), nullptr);
  EXPECT_EQ(share_holding("/tmp/x", shares)->tag, "twinbox-share1");
  EXPECT_EQ(share_holding("/home/meow", shares), nullptr);
  EXPECT_EQ(share_holding("/srv", shares), nullptr);
}
