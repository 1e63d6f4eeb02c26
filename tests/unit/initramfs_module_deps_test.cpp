#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "assets/module_deps.hpp"
#include "test_data.hpp"

namespace twinbox::assets {
namespace {

std::string read_data(const std::string& name) { return read_test_data("assets/" + name); }

ModuleIndex sample_index() {
  auto index = parse_modules_dep(read_data("modules.dep"));
  EXPECT_TRUE(index.has_value());
  return index.value_or(ModuleIndex{});
}

TEST(ModuleNameFromPath, StripsDirectoryAndSuffixAndNormalises) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"kernel/fs/ext4/ext4.ko", "ext4"},
      {"kernel/drivers/input/keyboard/gpio-keys.ko", "gpio_keys"},
      {"kernel/drivers/block/virtio_blk.ko.xz", "virtio_blk"},
      {"kernel/crypto/crc32c_generic.ko.zst", "crc32c_generic"},
      {"overlay.ko", "overlay"},
  };
  for (const auto& [path, want] : cases) EXPECT_EQ(module_name_from_path(path), want) << path;
}

TEST(ParseModulesDep, ReadsPathsAndDependencyNames) {
  ModuleIndex index = sample_index();
  ASSERT_EQ(index.count("ext4"), 1u);
  EXPECT_EQ(index["ext4"].path, "kernel/fs/ext4/ext4.ko");
  EXPECT_EQ(index["ext4"].deps, (std::vector<std::string>{"crc16", "mbcache", "jbd2"}));
  EXPECT_TRUE(index["virtio_blk"].deps.empty());
  EXPECT_EQ(index.count("gpio_keys"), 1u);
}

TEST(ParseModulesDep, RejectsLineWithoutColonNamingIt) {
  auto r = parse_modules_dep("kernel/a.ko:\nkernel/b.ko kernel/a.ko\n");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::InvalidArgument);
  EXPECT_NE(r.error().message.find("line 2"), std::string::npos) << r.error().message;
}

struct OrderCase {
  std::vector<std::string> names;
  std::vector<std::string> want;
};

TEST(ResolveLoadOrder, PutsDependenciesFirstAndEachModuleOnce) {
  const std::vector<OrderCase> cases = {
      {{"virtio_blk"}, {"kernel/drivers/block/virtio_blk.ko"}},
      {{"ext4"},
       {"kernel/lib/crc16.ko", "kernel/fs/mbcache.ko", "kernel/fs/jbd2/jbd2.ko",
        "kernel/fs/ext4/ext4.ko"}},
      {{"virtio_net", "virtio_pci"},
       {"kernel/net/core/failover.ko", "kernel/drivers/net/net_failover.ko",
        "kernel/drivers/net/virtio_net.ko", "kernel/drivers/virtio/virtio_pci_modern_dev.ko",
        "kernel/drivers/virtio/virtio_pci_legacy_dev.ko", "kernel/drivers/virtio/virtio_pci.ko"}},
      {{"jbd2", "ext4", "ext4"},
       {"kernel/fs/jbd2/jbd2.ko", "kernel/lib/crc16.ko", "kernel/fs/mbcache.ko",
        "kernel/fs/ext4/ext4.ko"}},
      {{"gpio-keys"}, {"kernel/drivers/input/keyboard/gpio-keys.ko"}},
      {{}, {}},
  };
  ModuleIndex index = sample_index();
  for (const auto& c : cases) {
    auto r = resolve_load_order(index, c.names);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(*r, c.want);
  }
}

TEST(ResolveLoadOrder, SkipsBuiltinModules) {
  auto builtin = parse_modules_builtin(read_data("modules.builtin"));
  auto r = resolve_load_order(sample_index(), {"amba-pl011", "gpio_pl061", "overlay"}, builtin);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(*r, (std::vector<std::string>{"kernel/fs/overlayfs/overlay.ko"}));
}

TEST(ResolveLoadOrder, UnknownModuleIsNotFoundAndSaysWhoNeedsIt) {
  auto r = resolve_load_order(sample_index(), {"9p"});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::NotFound);
  EXPECT_NE(r.error().message.find("module 9p is neither"), std::string::npos);

  auto index = parse_modules_dep("kernel/a.ko: kernel/missing.ko\n");
  ASSERT_TRUE(index.has_value());
  auto r2 = resolve_load_order(*index, {"a"});
  ASSERT_FALSE(r2.has_value());
  EXPECT_NE(r2.error().message.find("missing (needed by a)"), std::string::npos)
      << r2.error().message;
}

TEST(ResolveLoadOrder, ReportsCycles) {
  auto index = parse_modules_dep("kernel/a.ko: kernel/b.ko\nkernel/b.ko: kernel/a.ko\n");
  ASSERT_TRUE(index.has_value());
  auto r = resolve_load_order(*index, {"a"});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::Internal);
  EXPECT_NE(r.error().message.find("cycle"), std::string::npos);
}

}  // namespace
}  // namespace twinbox::assets
