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

TEST(ParseFlags, HostAccessIsOptIn) {
  EXPECT_TRUE(Config{}.host_access_ports.empty());
  auto c = parse_flags({"--host-access", "5432, 8080"}, Config{});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->host_access_ports, (std::vector<int>{5432, 8080}));
  EXPECT_EQ(c->host_loopback_ports, (std::vector<int>{5000}));
  auto bad = parse_flags({"--host-access", "0"}, Config{});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("--host-access: port out of range"), std::string::npos);
}

TEST(ParseFlags, MaxConcurrentDownloadsAsDockerd) {
  EXPECT_EQ(Config{}.max_concurrent_downloads, 3u);
  auto c = parse_flags({"--max-concurrent-downloads", "6"}, Config{});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->max_concurrent_downloads, 6u);
  for (const char* bad : {"0", "17", "x"}) {
    auto r = parse_flags({"--max-concurrent-downloads", bad}, Config{});
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().message.find("--max-concurrent-downloads"), std::string::npos)
        << r.error().message;
  }
}

TEST(ParseFlags, VmRestartOnByDefaultWithABoundedDelay) {
  EXPECT_TRUE(Config{}.vm_restart);
  EXPECT_EQ(Config{}.vm_restart_max_delay_s, 60);
  EXPECT_FALSE(Config{}.exit_with_parent);
  auto c = parse_flags({"--no-vm-restart", "--vm-restart-max-delay", "5", "--exit-with-parent"},
                       Config{});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_FALSE(c->vm_restart);
  EXPECT_EQ(c->vm_restart_max_delay_s, 5);
  EXPECT_TRUE(c->exit_with_parent);
  for (const char* bad : {"0", "3601", "-1", ""}) {
    auto r = parse_flags({"--vm-restart-max-delay", bad}, Config{});
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().message.find("--vm-restart-max-delay"), std::string::npos);
  }
}

TEST(ParseFlags, SocketModeAndGroup) {
  Config base;
  EXPECT_EQ(base.socket_mode, 0660u);
  EXPECT_EQ(base.socket_group, "");
  auto c = parse_flags({"--socket-mode", "0600", "--socket-group", "twinbox"}, base);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->socket_mode, 0600u);
  EXPECT_EQ(c->socket_group, "twinbox");
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
      {{"--socket-mode", "0666"}, "others may not have access"},
      {{"--socket-mode", "rw"}, "expected an octal mode"},
      {{"--socket-group", ""}, "--socket-group needs a group name or gid"},
  };
  for (const auto& c : cases) {
    auto r = parse_flags(c.args, Config{});
    ASSERT_FALSE(r) << c.needle;
    EXPECT_EQ(r.error().code, ErrorCode::InvalidArgument);
    EXPECT_NE(r.error().message.find(c.needle), std::string::npos) << r.error().message;
  }
}

namespace twinbox::daemon {
namespace {

// The router sees --no-rosetta as a disabled backend, and the fallback only when one is.
TEST(ConfigFlags, TranslatorConfigForTheRouter) {
  auto t = translator_config(Config{});
  EXPECT_TRUE(t.disabled.empty());
  EXPECT_TRUE(t.fallback.empty());
  Config ignored;
  ignored.hv_fallback_translator = "qemu-x86_64";  // rosetta on: the fallback is not used
  EXPECT_TRUE(translator_config(ignored).fallback.empty());
  auto c = parse_flags({"--no-rosetta", "--hv-fallback-translator", "qemu-x86_64"}, Config{});
  ASSERT_TRUE(c.has_value()) << c.error().message;
  auto off = translator_config(*c);
  EXPECT_EQ(off.disabled, std::vector<std::string>{"rosetta"});
  EXPECT_FALSE(off.enabled("rosetta"));
  EXPECT_TRUE(off.enabled("hv"));
  EXPECT_EQ(off.fallback, "qemu-x86_64 (binfmt POCF, hv fallback)");
}

TEST(ConfigFlags, HvFallbackTranslatorIsTheOneTheGuestHas) {
  auto c = parse_flags(
      {"--no-rosetta", "--hv-fallback-translator", "qemu-x86_64", "--host-profile", "generic-arm64",
       "--insecure-registry", "reg:5000", "--experimental-mixed-projects"},
      Config{});
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_FALSE(c->rosetta_enabled);
  EXPECT_EQ(c->hv_fallback_translator, "qemu-x86_64");
  EXPECT_EQ(hv_fallback_label(c->hv_fallback_translator), "qemu-x86_64 (binfmt POCF, hv fallback)");
  EXPECT_EQ(c->host_profile, "generic-arm64");
  EXPECT_EQ(c->insecure_registries, std::vector<std::string>{"reg:5000"});
  EXPECT_TRUE(c->mixed_projects);
  auto bad = parse_flags({"--hv-fallback-translator", "box64"}, Config{});
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find("qemu-x86_64"), std::string::npos);
  auto profile = parse_flags({"--host-profile", "intel"}, Config{});
  ASSERT_FALSE(profile.has_value());
  EXPECT_NE(profile.error().message.find("apple-silicon"), std::string::npos)
      << profile.error().message;
}

}  // namespace
}  // namespace twinbox::daemon

TEST(DaemonConfig, FirstShareReplacesTheDefaultsAndNoShareLeavesNone) {
  Config base;
  base.shares = {"/home/me", "/tmp"};
  auto kept = parse_flags({}, base);
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->shares, (std::vector<std::string>{"/home/me", "/tmp"}));
  auto c = parse_flags({"--share", "/srv/a", "--share", "/work"}, base);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->shares, (std::vector<std::string>{"/srv/a", "/work"}));
  auto none = parse_flags({"--no-share"}, base);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->shares.empty());
  auto again = parse_flags({"--no-share", "--share", "/srv"}, base);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->shares, (std::vector<std::string>{"/srv"}));
  EXPECT_FALSE(parse_flags({"--share"}, base));
  EXPECT_TRUE(Config{}.global_volumes);
  EXPECT_FALSE(parse_flags({"--no-global-volumes"}, base)->global_volumes);
  EXPECT_FALSE(Config{}.guest_aslr);
  EXPECT_TRUE(parse_flags({"--guest-aslr"}, base)->guest_aslr);
}
