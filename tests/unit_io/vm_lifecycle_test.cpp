// Adopting a domain an earlier twinboxd left running: when it may be adopted, and the published
// forwards it still has (a fake VmDriver stands for libvirt and QEMU's monitor); the restart
// backoff; which QEMUs are orphans.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "layout/state_layout.hpp"
#include "util/strings.hpp"
#include "vm/orphans.hpp"
#include "vm/utility_vm.hpp"

using namespace twinbox;
using namespace twinbox::vm;

namespace {

constexpr const char* kUsernet =
    "Hub -1 (hostnet0):\r\n"
    "  Protocol[State]    FD  Source Address  Port   Dest. Address  Port RecvQ SendQ\r\n"
    "  TCP[HOST_FORWARD]  33       127.0.0.1 18080       10.0.2.15 18080     0     0\r\n"
    "  TCP[ESTABLISHED]   21       127.0.0.1 48263       10.0.2.15    22     0     0\r\n"
    "  TCP[HOST_FORWARD]  20       127.0.0.1 48263       10.0.2.15    22     0     0\r\n"
    "  UDP[HOST_FORWARD]  34               * 5353       10.0.2.15  5353     0     0\r\n";

// QEMU's slirp as far as hostfwd_add / info usernet go; the domain's state as set.
class FakeDriver final : public VmDriver {
 public:
  std::map<std::string, DomainState> states;
  std::vector<HostForward> forwards;
  std::set<int> taken;  // host ports another program holds
  std::vector<std::string> commands;

  std::string uri() const override { return "fake:///"; }
  Status start(const std::string& name, const std::string&) override {
    states[name] = DomainState::Running;
    return {};
  }
  Status shutdown(const std::string& name) override {
    states[name] = DomainState::Stopped;
    return {};
  }
  Status destroy(const std::string& name) override { return shutdown(name); }
  Result<DomainState> state(const std::string& name) override {
    auto it = states.find(name);
    return it == states.end() ? DomainState::Stopped : it->second;
  }
  Result<DomainState> lookup(const std::string& name) override { return state(name); }
  Result<std::string> monitor_command(const std::string&, const std::string& hmp) override {
    commands.push_back(hmp);
    if (hmp == "info usernet") {
      std::string out = "Hub -1 (hostnet0):\r\n  Protocol[State]    FD  Source Address  Port\r\n";
      for (const auto& f : forwards)
        out += "  " + std::string(f.proto == "tcp" ? "TCP" : "UDP") + "[HOST_FORWARD]  20  " +
               (f.host_ip == "0.0.0.0" ? "*" : f.host_ip) + " " + std::to_string(f.host_port) +
               "  " + f.guest_ip + " " + std::to_string(f.guest_port) + "  0  0\r\n";
      return out;
    }
    // hostfwd_add hostnet0 tcp:127.0.0.1:H-:G
    auto rule = split(hmp, ' ').back();
    auto parts = split(rule, ':');
    int host_port = std::stoi(parts[2].substr(0, parts[2].find('-')));
    bool present = false;
    for (const auto& f : forwards) present |= f.host_port == host_port;
    if (present || taken.count(host_port))
      return "Could not set up host forwarding rule '" + rule + "'\r\n";
    forwards.push_back({parts[0], parts[1], host_port, "10.0.2.15", std::stoi(parts[3])});
    return std::string();
  }
};

TEST(Usernet, ReadsTheHostForwardRowsOnly) {
  auto f = parse_usernet_forwards(kUsernet);
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0], (HostForward{"tcp", "127.0.0.1", 18080, "10.0.2.15", 18080}));
  EXPECT_EQ(f[1], (HostForward{"tcp", "127.0.0.1", 48263, "10.0.2.15", 22}));
  EXPECT_EQ(f[2], (HostForward{"udp", "0.0.0.0", 5353, "10.0.2.15", 5353})) << "'*' is any address";
  EXPECT_TRUE(parse_usernet_forwards("").empty());
  EXPECT_TRUE(parse_usernet_forwards("  TCP[HOST_FORWARD]  20  127.0.0.1 x 10.0.2.15 22").empty());
}

class AdoptTest : public ::testing::Test {
 protected:
  FakeDriver driver;
  const std::string xml = "<domain>\n  <name>twinbox-hv</name>\n  <memory>2048</memory>\n</domain>";
  void SetUp() override {
    driver.states["twinbox-hv"] = DomainState::Running;
    driver.forwards.push_back({"tcp", "127.0.0.1", 48263, "10.0.2.15", 22});
  }
};

TEST_F(AdoptTest, TheSameDomainWithItsSshForwardIsAdoptable) {
  auto port = adoptable_ssh_port(driver, "twinbox-hv", xml, xml, 48263);
  ASSERT_TRUE(port) << port.error().message;
  EXPECT_EQ(*port, 48263);
}

TEST_F(AdoptTest, AnotherConfigurationIsNotAndTheReasonNamesTheLine) {
  std::string now = xml;
  now.replace(now.find("2048"), 4, "4096");
  auto port = adoptable_ssh_port(driver, "twinbox-hv", xml, now, 48263);
  ASSERT_FALSE(port);
  EXPECT_NE(port.error().message.find("another configuration"), std::string::npos);
  EXPECT_NE(port.error().message.find("line 3, which now reads: <memory>4096</memory>"),
            std::string::npos)
      << port.error().message;
  EXPECT_TRUE(driver.commands.empty()) << "decided without asking QEMU";
}

TEST_F(AdoptTest, NothingRecordedOrTheForwardGoneIsNotAdoptable) {
  EXPECT_FALSE(adoptable_ssh_port(driver, "twinbox-hv", std::nullopt, xml, 48263));
  EXPECT_FALSE(adoptable_ssh_port(driver, "twinbox-hv", xml, xml, 0));
  auto other = adoptable_ssh_port(driver, "twinbox-hv", xml, xml, 40000);
  ASSERT_FALSE(other);
  EXPECT_NE(other.error().message.find("ssh forward 127.0.0.1:40000 is gone"), std::string::npos);
  // A published port that happens to be the recorded number is not the sshd's forward.
  driver.forwards = {{"tcp", "127.0.0.1", 48263, "10.0.2.15", 48263}};
  EXPECT_FALSE(adoptable_ssh_port(driver, "twinbox-hv", xml, xml, 48263));
}

class ForwardTest : public ::testing::Test {
 protected:
  FakeDriver driver;
  layout::StateLayout layout{"/nonexistent/twinbox-state"};
  UtilityVmConfig cfg() {
    UtilityVmConfig c;
    c.role = "hv";
    return c;
  }
};

TEST_F(ForwardTest, AForwardTheAdoptedDomainAlreadyHasCountsAsDone) {
  UtilityVm vm(cfg(), layout, driver, AccelChoice{});
  driver.forwards.push_back({"tcp", "127.0.0.1", 18080, "10.0.2.15", 18080});
  auto st = vm.forward_port("tcp", "127.0.0.1", 18080, 18080);
  EXPECT_TRUE(st) << st.error().message;
  EXPECT_EQ(driver.forwards.size(), 1u);
}

TEST_F(ForwardTest, APortAnotherProgramHoldsIsStillAConflict) {
  UtilityVm vm(cfg(), layout, driver, AccelChoice{});
  driver.taken.insert(18080);
  auto st = vm.forward_port("tcp", "127.0.0.1", 18080, 18080);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::Conflict);
  // ... and so is the same host port forwarded elsewhere (another address or guest port).
  driver.taken.clear();
  driver.forwards.push_back({"tcp", "127.0.0.1", 18081, "10.0.2.15", 9999});
  EXPECT_FALSE(vm.forward_port("tcp", "127.0.0.1", 18081, 18081));
  driver.forwards.push_back({"udp", "127.0.0.1", 18082, "10.0.2.15", 18082});
  EXPECT_FALSE(vm.forward_port("tcp", "127.0.0.1", 18082, 18082));
}

TEST_F(ForwardTest, ANewForwardIsAdded) {
  UtilityVm vm(cfg(), layout, driver, AccelChoice{});
  ASSERT_TRUE(vm.forward_port("tcp", "0.0.0.0", 18090, 18090));
  ASSERT_EQ(driver.forwards.size(), 1u);
  EXPECT_EQ(driver.forwards[0], (HostForward{"tcp", "0.0.0.0", 18090, "10.0.2.15", 18090}));
}

TEST(RestartDelay, DoublesFromOneSecondUpToTheMaximum) {
  std::vector<int> got;
  for (unsigned n = 0; n < 8; ++n) got.push_back(restart_delay_s(n, 60));
  EXPECT_EQ(got, (std::vector<int>{1, 2, 4, 8, 16, 32, 60, 60}));
  EXPECT_EQ(restart_delay_s(1000, 60), 60) << "no overflow after many attempts";
  EXPECT_EQ(restart_delay_s(0, 1), 1);
  EXPECT_EQ(restart_delay_s(5, 1), 1);
}

}  // namespace

// --- orphans: which QEMUs a starting twinboxd ends (vm/orphans)

namespace {

std::string cmdline(std::initializer_list<std::string> args) {
  std::string out;
  for (const auto& a : args) out += a + '\0';
  return out;
}

TEST(Orphans, ReadsTheDomainAndStateDirFromQemusCommandLine) {
  auto q = parse_twinbox_qemu(cmdline(
      {"/usr/bin/qemu-system-aarch64", "-name", "guest=twinbox-hv,debug-threads=on", "-blockdev",
       R"({"driver":"file","filename":"/tmp/tbe2e.X1/vms/hv/data.img","node-name":"libvirt-1"})"}));
  ASSERT_TRUE(q);
  EXPECT_EQ(q->domain, "twinbox-hv");
  EXPECT_EQ(q->state_dir, "/tmp/tbe2e.X1");
  auto old_style =
      parse_twinbox_qemu(cmdline({"qemu-system-aarch64", "-name", "guest=twinbox-rosetta", "-drive",
                                  "file=/var/lib/s t/vms/rosetta/data.img,format=raw"}));
  ASSERT_TRUE(old_style);
  EXPECT_EQ(old_style->state_dir, "/var/lib/s t");
}

TEST(Orphans, OtherProcessesAndOtherVmsAreNotOurs) {
  EXPECT_FALSE(parse_twinbox_qemu(cmdline({"/usr/bin/qemu-system-x86_64", "-name", "guest=win10",
                                           "-drive", "file=/x/vms/win10/data.img"})));
  EXPECT_FALSE(
      parse_twinbox_qemu(cmdline({"vim", "-name", "guest=twinbox-hv", "/tmp/s/vms/hv/data.img"})));
  // A twinbox name without a data disk of ours: no state dir to judge it by.
  EXPECT_FALSE(parse_twinbox_qemu(
      cmdline({"qemu-system-aarch64", "-name", "guest=twinbox-hv", "-drive", "file=/d.img"})));
  EXPECT_FALSE(parse_twinbox_qemu(""));
}

TEST(Orphans, OnlyVmsNobodyComesBackForAreEnded) {
  OrphanFacts f;
  f.state_dir_exists = false;
  EXPECT_EQ(orphan_reason(f), "its state directory is gone");
  f.own = true;
  EXPECT_EQ(orphan_reason(f), "") << "our own is adopted";
  f = OrphanFacts{};
  f.state_dir_exists = true;
  EXPECT_EQ(orphan_reason(f), "") << "a twinboxd started there again adopts it";
  f.exit_with_parent = true;
  EXPECT_EQ(orphan_reason(f), "its twinboxd (--exit-with-parent) is gone");
  f.daemon_running = true;
  EXPECT_EQ(orphan_reason(f), "") << "its twinboxd runs it";
}

}  // namespace
