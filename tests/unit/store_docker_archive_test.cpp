#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "store/docker_archive.hpp"

namespace twinbox::store {
namespace {

TEST(StoreDockerArchive, ManifestJsonHasDockersKeys) {
  std::string s =
      docker_archive_manifest_json({{"abc.json",
                                     {"busybox:latest", "127.0.0.1:5000/twinbox/busybox:v1"},
                                     {"blobs/sha256/l1", "blobs/sha256/l2"}}});
  auto j = nlohmann::json::parse(s);
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["Config"], "abc.json");
  EXPECT_EQ(j[0]["RepoTags"],
            nlohmann::json({"busybox:latest", "127.0.0.1:5000/twinbox/busybox:v1"}));
  EXPECT_EQ(j[0]["Layers"], nlohmann::json({"blobs/sha256/l1", "blobs/sha256/l2"}));
}

TEST(StoreDockerArchive, RoundTrips) {
  std::vector<DockerArchiveItem> items{{"a.json", {}, {"x/layer.tar"}},
                                       {"b.json", {"t:1"}, {"y/layer.tar", "z/layer.tar"}}};
  auto r = parse_docker_archive_manifest(docker_archive_manifest_json(items));
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[1].config, "b.json");
  EXPECT_EQ((*r)[1].repo_tags, std::vector<std::string>{"t:1"});
  EXPECT_EQ((*r)[1].layers.size(), 2u);
  EXPECT_TRUE((*r)[0].repo_tags.empty());
}

TEST(StoreDockerArchive, ParsesDocker2010Output) {
  // As docker 20.10 `docker save` writes it (RepoTags null for an untagged image).
  auto r = parse_docker_archive_manifest(
      R"([{"Config":"3f57d9401f8d42f986df300f0c69192fc41da28ccc8d797829467780db3dd741.json",)"
      R"("RepoTags":null,"Layers":[)"
      R"("5b8c72934dfc08c7d2bd707e93197550f06c0751023dabb3a045b723c5e7b373/layer.tar"]}])");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE((*r)[0].repo_tags.empty());
  EXPECT_EQ((*r)[0].layers[0],
            "5b8c72934dfc08c7d2bd707e93197550f06c0751023dabb3a045b723c5e7b373/layer.tar");
}

TEST(StoreDockerArchive, BadManifestsNameTheField) {
  struct Case {
    const char* text;
    const char* part;
  } cases[] = {
      {"{", "not valid JSON"},
      {"{}", "expected an array"},
      {"[1]", "manifest.json[0]: expected an object"},
      {R"([{"Layers":[]}])", "manifest.json[0].Config"},
      {R"([{"Config":"a.json"}])", "manifest.json[0].Layers: missing"},
      {R"([{"Config":"a.json","Layers":[1]}])", "manifest.json[0].Layers[0]"},
      {R"([{"Config":"a.json","Layers":[],"RepoTags":"x"}])", "manifest.json[0].RepoTags"},
  };
  for (auto& c : cases) {
    auto r = parse_docker_archive_manifest(c.text);
    ASSERT_FALSE(r) << c.text;
    EXPECT_NE(r.error().message.find(c.part), std::string::npos) << r.error().message;
  }
}

TEST(StoreDockerArchive, RepoTagsAreNameTag) {
  auto r = docker_repo_tag("docker.io/library/busybox:latest");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "busybox:latest");
  r = docker_repo_tag("127.0.0.1:5000/twinbox/busybox");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "127.0.0.1:5000/twinbox/busybox:latest");
  r = docker_repo_tag(
      "busybox@sha256:3c36f6eac98834e036bf30358b49b6e8c9fee97fe9fccada85420cadb46e0e4d");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("name:tag"), std::string::npos);
  r = docker_repo_tag("UPPER");
  ASSERT_FALSE(r);
}

}  // namespace
}  // namespace twinbox::store
