#include <gtest/gtest.h>

#include "daemon/config.hpp"

using namespace twinbox;
using twinbox::daemon::Config;
using twinbox::daemon::parse_flags;

TEST(ParseFlags, OverridesDefaults) {
  Config base;
  base.state_dir = "/default";
  auto c = parse_flags({"--state-dir", "/s", "--memory-mib", "1024", "--host-loopback-ports",
                        "5000,5001", "--no-rosetta", "--libvirt-uri", "qemu+ssh://h/system"},
                       base);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->state_dir, "/s");
  EXPECT_EQ(c->memory_mib, 1024u);
  EXPECT_EQ(c->host_loopback_ports, (std::vector<int>{5000, 5001}));
  EXPECT_FALSE(c->rosetta_enabled);
  EXPECT_EQ(c->libvirt_uri, "qemu+ssh://h/system");
}

TEST(ParseFlags, EmptyLoopbackListMeansNone) {
  auto c = parse_flags({"--host-loopback-ports", ""}, Config{});
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->host_loopback_ports.empty());
}

TEST(ParseFlags, BadInputsSayWhatWasWrong) {
  struct Case {
    std::vector<std::string> args;
    std::string needle;
  } cases[] = {
      {{"--memory-mib", "lots"}, "--memory-mib: expected a number, got 'lots'"},
      {{"--memory-mib"}, "--memory-mib needs a value"},
      {{"--host-loopback-ports", "5000,70000"}, "port out of range"},
      {{"--frobnicate"}, "unknown option '--frobnicate'"},
  };
  for (const auto& c : cases) {
    auto r = parse_flags(c.args, Config{});
    ASSERT_FALSE(r) << c.needle;
    EXPECT_EQ(r.error().code, ErrorCode::InvalidArgument);
    EXPECT_NE(r.error().message.find(c.needle), std::string::npos) << r.error().message;
  }
}
