// GET /events of both engines as one stream in time order (issue 19).
#include <gtest/gtest.h>

#include "api/event_merge.hpp"

using twinbox::api::EventMerger;

namespace {

std::string ev(int64_t t, const std::string& what) {
  return R"({"status":")" + what + R"(","time":)" + std::to_string(t / 1000000000) +
         R"(,"timeNano":)" + std::to_string(t) + "}\n";
}

constexpr int64_t kHold = 300;

TEST(EventMerger, BacklogsOfBothEnginesComeOutInTimeOrder) {
  EventMerger m({"hv", "rosetta"});
  m.feed("hv", ev(10, "a") + ev(30, "c"), 0);
  // Nothing from rosetta yet: nothing can go (it may still send something older).
  EXPECT_TRUE(m.ready(1, kHold).empty());
  m.feed("rosetta", ev(20, "b") + ev(40, "d"), 1);
  auto out = m.ready(2, kHold);  // both have sent up to 30: 10, 20, 30 may go
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0], ev(10, "a"));
  EXPECT_EQ(out[1], ev(20, "b"));
  EXPECT_EQ(out[2], ev(30, "c"));
  m.close("hv");
  out = m.ready(3, kHold);  // hv ended: rosetta alone decides
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], ev(40, "d"));
  EXPECT_FALSE(m.finished());
  m.close("rosetta");
  EXPECT_TRUE(m.finished());
}

TEST(EventMerger, AQuietEngineHoldsALiveEventBackOnlyForTheHoldTime) {
  EventMerger m({"hv", "rosetta"});
  m.feed("rosetta", ev(50, "live"), 1000);
  EXPECT_TRUE(m.ready(1000 + kHold - 1, kHold).empty());
  auto out = m.ready(1000 + kHold, kHold);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], ev(50, "live"));
}

TEST(EventMerger, LinesSplitAcrossReadsAndOverlongLinesDropped) {
  EventMerger m({"hv"});
  std::string e = ev(7, "split");
  m.feed("hv", e.substr(0, 5), 0);
  m.feed("hv", e.substr(5), 0);
  m.feed("hv", std::string(EventMerger::kMaxLine + 10, 'x'), 0);
  m.feed("hv", "yyy\n" + ev(8, "after"), 0);
  m.close("hv");
  auto out = m.ready(0, kHold);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0], e);
  EXPECT_EQ(out[1], ev(8, "after"));
  EXPECT_EQ(m.dropped(), 1u);
}

}  // namespace
