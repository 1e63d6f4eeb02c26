#include "assets/initramfs_plan.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace twinbox::assets {
namespace {

InitramfsInputs sample_inputs() {
  InitramfsInputs in;
  in.init = "/src/vmtemplates/guest/stage1-init";
  in.busybox = "/cache/busybox";
  in.modules_root = "/rootfs/lib/modules";
  in.kernel_version = "6.1.0-56-arm64";
  in.module_paths = {"kernel/lib/crc16.ko", "kernel/fs/ext4/ext4.ko"};
  return in;
}

const InitramfsEntry* find(const std::vector<InitramfsEntry>& entries, const std::string& path) {
  for (const auto& e : entries)
    if (e.path == path) return &e;
  return nullptr;
}

TEST(PlanInitramfs, EveryDirectoryComesBeforeItsContents) {
  auto entries = plan_initramfs(sample_inputs());
  std::set<std::string> seen_dirs;
  std::set<std::string> seen;
  for (const auto& e : entries) {
    EXPECT_TRUE(seen.insert(e.path).second) << "duplicate " << e.path;
    auto slash = e.path.rfind('/');
    if (slash != std::string::npos) {
      EXPECT_TRUE(seen_dirs.count(e.path.substr(0, slash))) << e.path << " before its directory";
    }
    if (e.type == EntryType::Directory) seen_dirs.insert(e.path);
    EXPECT_NE(e.path.front(), '/') << "archive paths are relative: " << e.path;
  }
}

TEST(PlanInitramfs, HasInitBusyboxConsoleAndModules) {
  auto entries = plan_initramfs(sample_inputs());
  const auto* init = find(entries, "init");
  ASSERT_NE(init, nullptr);
  EXPECT_EQ(init->source, "/src/vmtemplates/guest/stage1-init");
  EXPECT_EQ(init->mode, 0755u);

  const auto* sh = find(entries, "bin/sh");
  ASSERT_NE(sh, nullptr);
  EXPECT_EQ(sh->type, EntryType::Symlink);
  EXPECT_EQ(sh->link_target, "busybox");

  const auto* console = find(entries, "dev/console");
  ASSERT_NE(console, nullptr);
  EXPECT_EQ(console->type, EntryType::CharDevice);
  EXPECT_EQ(console->dev_major, 5u);
  EXPECT_EQ(console->dev_minor, 1u);

  const auto* ext4 = find(entries, "lib/modules/6.1.0-56-arm64/kernel/fs/ext4/ext4.ko");
  ASSERT_NE(ext4, nullptr);
  EXPECT_EQ(ext4->source, "/rootfs/lib/modules/6.1.0-56-arm64/kernel/fs/ext4/ext4.ko");
  for (const char* d : {"proc", "sys", "dev", "newroot", "run"})
    EXPECT_NE(find(entries, d), nullptr) << d;
}

TEST(PlanInitramfs, LoadListKeepsOrderWithAbsolutePaths) {
  auto entries = plan_initramfs(sample_inputs());
  const auto* list = find(entries, kModuleLoadList);
  ASSERT_NE(list, nullptr);
  EXPECT_TRUE(list->source.empty());
  EXPECT_EQ(list->data,
            "/lib/modules/6.1.0-56-arm64/kernel/lib/crc16.ko\n"
            "/lib/modules/6.1.0-56-arm64/kernel/fs/ext4/ext4.ko\n");
}

}  // namespace
}  // namespace twinbox::assets
