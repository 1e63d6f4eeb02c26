#include <gtest/gtest.h>

#include "store/archive_rules.hpp"

namespace twinbox::store {
namespace {

struct PathCase {
  const char* in;
  const char* want;  // nullptr: refused
  const char* message_part;
};

TEST(StoreArchivePath, NormalizesOrRefuses) {
  const PathCase cases[] = {
      {"index.json", "index.json", nullptr},
      {"./index.json", "index.json", nullptr},
      {"./blobs//sha256/abc", "blobs/sha256/abc", nullptr},
      {"blobs/sha256/", "blobs/sha256", nullptr},
      {"./", ".", nullptr},
      {"a/./b", "a/b", nullptr},
      {"../x", nullptr, "\"..\""},
      {"/abs", nullptr, "absolute path"},
      {"/", nullptr, "absolute path"},
      {"a/../../b", nullptr, "\"..\""},
      {"a/../b", nullptr, "\"..\""},  // harmless, but no image archive needs ".."
      {"blobs/..", nullptr, "\"..\""},
      {"", nullptr, "empty name"},
      {"a\nb", nullptr, "control character"},
  };
  for (const auto& c : cases) {
    auto r = normalize_archive_path(c.in);
    if (c.want) {
      ASSERT_TRUE(r) << c.in << ": " << r.error().message;
      EXPECT_EQ(*r, c.want) << c.in;
    } else {
      ASSERT_FALSE(r) << c.in << " accepted as " << *r;
      EXPECT_EQ(r.error().code, ErrorCode::InvalidArgument);
      EXPECT_NE(r.error().message.find(c.message_part), std::string::npos) << r.error().message;
      EXPECT_NE(r.error().message.find("archive entry \"" + std::string(c.in) + "\""),
                std::string::npos)
          << r.error().message;
    }
  }
}

TEST(StoreArchivePath, SymlinkTargetsResolveRelativeToTheLink) {
  // What docker 20.10's save writes for a layer shared by two images.
  auto r = resolve_link_target("bbb/layer.tar", "../aaa/layer.tar", false);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, "aaa/layer.tar");
  r = resolve_link_target("x/y/link", "z", false);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "x/y/z");
}

TEST(StoreArchivePath, HardlinkTargetsAreArchivePaths) {
  auto r = resolve_link_target("blobs/sha256/b", "./blobs/sha256/a", true);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, "blobs/sha256/a");
}

TEST(StoreArchivePath, LinksEscapingTheRootAreRefused) {
  auto r = resolve_link_target("layer.tar", "../../etc/passwd", false);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("escapes the archive root"), std::string::npos);
  EXPECT_NE(r.error().message.find("\"layer.tar\""), std::string::npos);
  r = resolve_link_target("a/b", "/etc/shadow", false);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("absolute path \"/etc/shadow\""), std::string::npos);
  r = resolve_link_target("x", "../y", true);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("hardlink"), std::string::npos);
  r = resolve_link_target("a/l", "..", false);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("is the root"), std::string::npos);
}

using Ann = std::map<std::string, std::string>;

TEST(StoreArchiveName, ContainerdNameWins) {
  auto r = oci_archive_reference({{"io.containerd.image.name", "docker.io/library/busybox:1.36"},
                                  {"org.opencontainers.image.ref.name", "1.36"}},
                                 "");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, "docker.io/library/busybox:1.36");
}

TEST(StoreArchiveName, FullRefNameIsNormalized) {
  auto r = oci_archive_reference({{"org.opencontainers.image.ref.name", "busybox:1.36"}}, "");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "docker.io/library/busybox:1.36");
  r = oci_archive_reference(
      {{"org.opencontainers.image.ref.name", "127.0.0.1:5000/twinbox/busybox:latest"}}, "ignored");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "127.0.0.1:5000/twinbox/busybox:latest");
}

TEST(StoreArchiveName, TagOnlyNeedsName) {
  Ann a{{"org.opencontainers.image.ref.name", "latest"}};
  auto r = oci_archive_reference(a, "");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::InvalidArgument);
  EXPECT_NE(r.error().message.find("--name"), std::string::npos);
  EXPECT_NE(r.error().message.find("\"latest\""), std::string::npos);
  r = oci_archive_reference(a, "127.0.0.1:5000/twinbox/busybox");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, "127.0.0.1:5000/twinbox/busybox:latest");
  // --name with its own tag keeps that tag.
  r = oci_archive_reference(a, "twinbox/busybox:ci");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "docker.io/twinbox/busybox:ci");
}

TEST(StoreArchiveName, UnnamedEntryTakesNameOrFails) {
  auto r = oci_archive_reference({}, "");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("names no image"), std::string::npos);
  r = oci_archive_reference({}, "localhost:5000/app");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "localhost:5000/app:latest");
  r = oci_archive_reference({}, "Bad Name");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("invalid reference format"), std::string::npos);
}

}  // namespace
}  // namespace twinbox::store
