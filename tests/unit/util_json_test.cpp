// JSON from untrusted input: nesting is bounded before anything recursive touches a value.
#include <gtest/gtest.h>

#include <string>

#include "util/json.hpp"

namespace twinbox {
namespace {

std::string nested(size_t levels, const std::string& open = "[", const std::string& close = "]") {
  std::string s;
  for (size_t i = 0; i < levels; ++i) s += open;
  s += "1";
  for (size_t i = 0; i < levels; ++i) s += close;
  return s;
}

TEST(JsonNesting, CountsArraysAndObjectsButNotStrings) {
  EXPECT_FALSE(json_nesting_exceeds(nested(3), 3));
  EXPECT_TRUE(json_nesting_exceeds(nested(4), 3));
  EXPECT_FALSE(json_nesting_exceeds(R"({"a":{"b":[1,2]}})", 3));
  EXPECT_TRUE(json_nesting_exceeds(R"({"a":{"b":[[1]]}})", 3));
  // Brackets inside strings, escaped quotes included, do not nest.
  EXPECT_FALSE(json_nesting_exceeds(R"({"k":"[[[[[[\"[[[[{{{{"})", 2));
  EXPECT_FALSE(json_nesting_exceeds(R"(["\\", "[[[["])", 1));
  // Closing more than opened (invalid JSON) never underflows.
  EXPECT_FALSE(json_nesting_exceeds("]]]]}}[", 1));
}

// Issue 18: a 200 000-level body overflowed the stack when it was dumped. It is refused whole.
TEST(ParseJson, DiscardsDeepDocumentsAndKeepsRealOnes) {
  auto deep =
      parse_json(R"({"HostConfig":{"PortBindings":)" + nested(200000, R"({"a":)", "}") + "}}");
  EXPECT_TRUE(deep.is_discarded());
  EXPECT_TRUE(parse_json(nested(kMaxJsonDepth + 1)).is_discarded());
  auto edge = parse_json(nested(kMaxJsonDepth));
  ASSERT_FALSE(edge.is_discarded());
  EXPECT_TRUE(edge.is_array());
  auto ok = parse_json(R"({"Image":"busybox","HostConfig":{"PortBindings":{"80/tcp":[{}]}}})");
  ASSERT_TRUE(ok.is_object());
  EXPECT_EQ(ok["Image"], "busybox");
  EXPECT_TRUE(parse_json("not json").is_discarded());
  EXPECT_TRUE(parse_json("").is_discarded());
}

}  // namespace
}  // namespace twinbox
