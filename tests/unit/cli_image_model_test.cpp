// twinbox image's pure half: request targets, the prewarm list, and the `image ls` table.
#include <gtest/gtest.h>

#include "cli/image_model.hpp"

namespace twinbox::cli {
namespace {

using json = nlohmann::json;

TEST(CliImageModel, TargetsEncodeEveryReference) {
  EXPECT_EQ(image_import_target(""), "/twinbox/v1/images/import");
  EXPECT_EQ(image_import_target("127.0.0.1:5000/x"),
            "/twinbox/v1/images/import?name=127.0.0.1%3A5000%2Fx");
  EXPECT_EQ(image_export_target({"busybox:1", "a/b@sha256:00"}),
            "/twinbox/v1/images/export?reference=busybox%3A1&reference=a%2Fb%40sha256%3A00");
}

TEST(CliImageModel, SizesAndDigestsAsDockerShowsThem) {
  EXPECT_EQ(human_size(0), "0B");
  EXPECT_EQ(human_size(512), "512B");
  EXPECT_EQ(human_size(1000), "1kB");
  EXPECT_EQ(human_size(4264000), "4.26MB");
  EXPECT_EQ(human_size(1234567890123ull), "1.23TB");
  std::string d = "sha256:" + std::string(64, 'a');
  EXPECT_EQ(short_digest(d), "sha256:aaaaaaaaaaaa");
  EXPECT_EQ(short_digest("sha256:abc"), "sha256:abc");
  EXPECT_EQ(short_digest(""), "");
}

TEST(CliImageModel, TableMarksPartialPlatformsAndAlignsColumns) {
  auto images = json::parse(R"([
    {"reference":"127.0.0.1:5000/twinbox/busybox:latest","digest":"sha256:)" +
                            std::string(64, 'b') + R"(","size":2200000,
     "platforms":[{"platform":"linux/amd64","complete":true},
                  {"platform":"linux/arm64","complete":false}]},
    {"reference":"x:1","digest":"sha256:)" +
                            std::string(64, 'c') + R"(","platforms":[]}])");
  EXPECT_EQ(format_image_table(images),
            "REFERENCE                               PLATFORMS                          "
            "DIGEST                SIZE\n"
            "127.0.0.1:5000/twinbox/busybox:latest   linux/amd64,linux/arm64(partial)   "
            "sha256:bbbbbbbbbbbb   2.2MB\n"
            "x:1                                     -                                  "
            "sha256:cccccccccccc   -\n");
  EXPECT_EQ(format_image_table(json::array()), "REFERENCE   PLATFORMS   DIGEST   SIZE\n");
}

TEST(CliImageModel, PrewarmResultLines) {
  bool failed = true;
  EXPECT_EQ(format_prewarm_result(json::parse(R"({"reference":"a:1","status":"pulled"})"), &failed),
            "pulled a:1");
  EXPECT_FALSE(failed);
  EXPECT_EQ(
      format_prewarm_result(
          json::parse(R"({"reference":"b:2","status":"error","message":"not found"})"), &failed),
      "error  b:2: not found");
  EXPECT_TRUE(failed);
  EXPECT_EQ(format_prewarm_result(json::parse(R"({"reference":"c"})"), &failed),
            "error  c: no status in the answer");
  EXPECT_TRUE(failed);
}

}  // namespace
}  // namespace twinbox::cli
