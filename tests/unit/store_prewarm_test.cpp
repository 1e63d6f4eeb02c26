#include <gtest/gtest.h>

#include "store/prewarm.hpp"

namespace twinbox::store {
namespace {

TEST(StorePrewarm, ParsesReferencesCommentsAndBlankLines) {
  auto r = parse_prewarm_list(
      "# images CI needs\n"
      "\n"
      "busybox\n"
      "  127.0.0.1:5000/twinbox/busybox:latest   # the fixture\r\n"
      "alpine@sha256:3c36f6eac98834e036bf30358b49b6e8c9fee97fe9fccada85420cadb46e0e4d\n"
      "docker.io/library/busybox:latest\n");  // same as line 3 once normalized
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].canonical(), "docker.io/library/busybox:latest");
  EXPECT_EQ((*r)[1].canonical(), "127.0.0.1:5000/twinbox/busybox:latest");
  EXPECT_EQ((*r)[2].digest,
            "sha256:3c36f6eac98834e036bf30358b49b6e8c9fee97fe9fccada85420cadb46e0e4d");
}

TEST(StorePrewarm, EmptyListIsEmpty) {
  auto r = parse_prewarm_list("# nothing yet\n\n");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->empty());
}

TEST(StorePrewarm, ErrorsNameTheLine) {
  auto r = parse_prewarm_list("busybox\n\nNot/Valid\n");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::InvalidArgument);
  EXPECT_NE(r.error().message.find("prewarm list line 3"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("invalid reference format"), std::string::npos);

  r = parse_prewarm_list("busybox linux/amd64\n");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("prewarm list line 1"), std::string::npos);
  EXPECT_NE(r.error().message.find("one image reference per line"), std::string::npos);
}

}  // namespace
}  // namespace twinbox::store
