// The translator's binfmt entry as the guest reports it on its console.
#include "guest/binfmt_report.hpp"

#include <gtest/gtest.h>

#include <string>

#include "platform/host_profile.hpp"

namespace twinbox::guest {
namespace {

// The flags the guest really registered, as its init reports them on the console.
TEST(BinfmtReport, ReadsTheLastReportOfOneTranslator) {
  std::string console =
      "[    1.2] random: crng init done\r\n"
      "twinbox-guest: stage1 done\r\n"
      "twinbox-guest: binfmt qemu-x86_64: /usr/libexec/qemu-binfmt/x86_64-binfmt-P flags=POC\r\n"
      "twinbox-guest: binfmt qemu-i386: /usr/bin/qemu-i386 flags=F\r\n"
      "twinbox-guest: binfmt qemu-x86_64: /usr/libexec/qemu-binfmt/x86_64-binfmt-P flags=POCF\r\n"
      "twinbox-guest: role=rosetta translator=qemu-x86_64 (binfmt POCF)\r\n";
  auto r = find_binfmt_report(console, "qemu-x86_64");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->flags, "POCF");
  EXPECT_EQ(r->interpreter, "/usr/libexec/qemu-binfmt/x86_64-binfmt-P");
  EXPECT_EQ(find_binfmt_report(console, "qemu-i386")->flags, "F");
  EXPECT_EQ(platform::translator_label(r->name, r->flags), "qemu-x86_64 (binfmt POCF)");
}

TEST(BinfmtReport, NoneOrNoiseGivesNothing) {
  EXPECT_FALSE(find_binfmt_report("", "qemu-x86_64").has_value());
  EXPECT_FALSE(find_binfmt_report("twinbox-guest: role=hv translator=none\n", "qemu-x86_64"));
  // A line cut by the console, or flags that are not binfmt flags, are not believed.
  EXPECT_FALSE(
      find_binfmt_report("twinbox-guest: binfmt qemu-x86_64: /q flags=PO\x1b[0m\n", "qemu-x86_64"));
  EXPECT_FALSE(
      find_binfmt_report("twinbox-guest: binfmt qemu-x86_64: relative flags=F\n", "qemu-x86_64"));
  EXPECT_FALSE(find_binfmt_report("twinbox-guest: binfmt qemu-x86_64: /q\n", "qemu-x86_64"));
  EXPECT_FALSE(
      find_binfmt_report("twinbox-guest: binfmt qemu-x86_64x: /q flags=F\n", "qemu-x86_64"));
  EXPECT_EQ(platform::translator_label("qemu-x86_64", ""), "qemu-x86_64 (binfmt no flags)");
}

}  // namespace
}  // namespace twinbox::guest
