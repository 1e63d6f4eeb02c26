#include <gtest/gtest.h>

#include "test_data.hpp"
#include "vm/accel.hpp"
#include "vm/domain_xml.hpp"

using namespace twinbox;
using namespace twinbox::vm;

namespace {

std::string utility_template() { return read_test_data("../../vmtemplates/utility-vm.xml"); }

DomainSpec rosetta_spec() {
  DomainSpec s;
  s.name = "twinbox-rosetta";
  s.role = "rosetta";
  s.guest_arch = "arm64";
  s.emulator = "/usr/bin/qemu-system-aarch64";
  s.kernel = "/cache/assets/h/vmlinuz";
  s.initrd = "/cache/assets/h/initramfs.img";
  s.cmdline = guest_cmdline("ttyAMA0", "rosetta");
  s.base_image = "/cache/assets/h/base.img";
  s.data_disk = "/state/vms/rosetta/data.img";
  s.console_log = "/state/vms/rosetta/console.log";
  return s;
}

}  // namespace

TEST(DomainXml, RosettaUnderTcgMatchesGolden) {
  auto spec = rosetta_spec();  // with a share and the global volumes: the schema check sees them
  spec.shares = {{"/home/me", "twinbox-share0"}};
  spec.volumes_dir = "/state/volumes";
  auto xml = render_domain_xml(utility_template(), spec);
  ASSERT_TRUE(xml) << xml.error().message;
  EXPECT_EQ(*xml, read_test_data("vm/rosetta-tcg.golden.xml"));
}

TEST(DomainXml, TcgCapsTranslationCacheAndUsesFastCpuModel) {
  auto xml = render_domain_xml(utility_template(), rosetta_spec());
  ASSERT_TRUE(xml);
  EXPECT_NE(xml->find("<tb-cache unit='MiB'>256</tb-cache>"), std::string::npos);
  EXPECT_NE(xml->find("<model fallback='forbid'>cortex-a72</model>"), std::string::npos);
  EXPECT_NE(xml->find("<domain type='qemu'>"), std::string::npos);
}

TEST(DomainXml, KvmUsesHostCpuAndNoTcgFeatures) {
  auto spec = rosetta_spec();
  spec.accelerator = Accelerator::Kvm;
  auto xml = render_domain_xml(utility_template(), spec);
  ASSERT_TRUE(xml);
  EXPECT_NE(xml->find("<domain type='kvm'>"), std::string::npos);
  EXPECT_NE(xml->find("host-passthrough"), std::string::npos);
  EXPECT_EQ(xml->find("tb-cache"), std::string::npos);
}

TEST(DomainXml, EscapesValues) {
  auto spec = rosetta_spec();
  spec.data_disk = "/state/a&b/<data>.img";
  auto xml = render_domain_xml(utility_template(), spec);
  ASSERT_TRUE(xml);
  EXPECT_NE(xml->find("/state/a&amp;b/&lt;data&gt;.img"), std::string::npos);
}

TEST(DomainXml, UnknownArchIsAnError) {
  auto spec = rosetta_spec();
  spec.guest_arch = "mips";
  auto xml = render_domain_xml(utility_template(), spec);
  ASSERT_FALSE(xml);
  EXPECT_NE(xml.error().message.find("mips"), std::string::npos);
}

TEST(RenderTemplate, UnknownPlaceholderIsAnError) {
  auto r = render_template("<a>{{nope}}</a>", {{"x", "1"}}, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::InvalidArgument);
  EXPECT_NE(r.error().message.find("{{nope}}"), std::string::npos);
}

TEST(RenderTemplate, UnterminatedPlaceholderIsAnError) {
  EXPECT_FALSE(render_template("<a>{{x</a>", {{"x", "1"}}, {}));
}

TEST(RenderTemplate, RawFragmentsAreNotEscaped) {
  auto r = render_template("{{f}}|{{v}}", {{"v", "<v>"}}, {{"f", "<f/>"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "<f/>|&lt;v&gt;");
}

TEST(GuestCmdline, NamesRoleDataDiskAndConsole) {
  EXPECT_EQ(guest_cmdline("ttyAMA0", "hv"),
            "console=ttyAMA0 root=/dev/vda ro twinbox.role=hv twinbox.data=/dev/vdb loglevel=4");
  // hv standing in for rosetta registers the translator too.
  GuestOptions translator;
  translator.register_translator = true;
  EXPECT_EQ(guest_cmdline("ttyAMA0", "hv", translator),
            "console=ttyAMA0 root=/dev/vda ro twinbox.role=hv twinbox.data=/dev/vdb loglevel=4 "
            "twinbox.translator=qemu-x86_64");
  // Host ports containers may reach (--host-access).
  GuestOptions ports;
  ports.host_access_ports = {5432, 8080};
  EXPECT_EQ(guest_cmdline("ttyAMA0", "rosetta", ports),
            "console=ttyAMA0 root=/dev/vda ro twinbox.role=rosetta twinbox.data=/dev/vdb "
            "loglevel=4 twinbox.host_ports=5432,8080");
}

TEST(GuestCmdline, ListsSharesPercentEncodedAndTheVolumeTag) {
  GuestOptions o;
  o.shares = {{"/home/me", "twinbox-share0"}, {"/srv/my data,v=2", "twinbox-share1"}};
  o.global_volumes = true;
  EXPECT_EQ(guest_cmdline("ttyAMA0", "hv", o),
            "console=ttyAMA0 root=/dev/vda ro twinbox.role=hv twinbox.data=/dev/vdb loglevel=4 "
            "twinbox.shares=twinbox-share0=/home/me,twinbox-share1=/srv/my%20data%2Cv%3D2 "
            "twinbox.volumes=twinbox-volumes");
}

TEST(GuestCmdline, NorandmapsWhenAslrIsOff) {
  GuestOptions o;
  o.no_randmaps = true;
  EXPECT_EQ(guest_cmdline("ttyAMA0", "hv", o),
            "console=ttyAMA0 root=/dev/vda ro twinbox.role=hv twinbox.data=/dev/vdb loglevel=4 "
            "norandmaps");
  EXPECT_FALSE(guest_randomises(false, Accelerator::Tcg));
  EXPECT_TRUE(guest_randomises(false, Accelerator::Kvm));  // no translation cache to reuse
  EXPECT_TRUE(guest_randomises(true, Accelerator::Tcg));
}

TEST(DomainXml, EachShareIsAPassthrough9pDeviceAndNoneWithoutShares) {
  auto spec = rosetta_spec();
  auto plain = render_domain_xml(utility_template(), spec);
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->find("<filesystem"), std::string::npos);
  spec.shares = {{"/home/a&b", "twinbox-share0"}};
  spec.volumes_dir = "/state/volumes";
  auto xml = render_domain_xml(utility_template(), spec);
  ASSERT_TRUE(xml);
  EXPECT_NE(xml->find("<filesystem type='mount' accessmode='passthrough' multidevs='remap'>"
                      "<driver type='path'/><source dir='/home/a&amp;b'/>"
                      "<target dir='twinbox-share0'/></filesystem>"),
            std::string::npos);
  EXPECT_NE(xml->find("<source dir='/state/volumes'/><target dir='twinbox-volumes'/>"),
            std::string::npos);
}

TEST(ChooseAccelerator, TableOfCases) {
  struct Case {
    std::string host, guest;
    bool probe_ok;
    Accelerator want;
  } cases[] = {
      {"amd64", "arm64", true, Accelerator::Tcg},  {"amd64", "arm64", false, Accelerator::Tcg},
      {"arm64", "arm64", true, Accelerator::Kvm},  {"arm64", "arm64", false, Accelerator::Tcg},
      {"amd64", "amd64", false, Accelerator::Tcg},
  };
  for (const auto& c : cases) {
    auto got = choose_accelerator(c.host, c.guest, c.probe_ok, "failed to set MSR");
    EXPECT_EQ(got.accelerator, c.want) << c.host << "/" << c.guest << "/" << c.probe_ok;
    EXPECT_FALSE(got.reason.empty());
  }
  EXPECT_NE(choose_accelerator("arm64", "arm64", false, "nested PVM").reason.find("nested PVM"),
            std::string::npos);
}
