// Image references: Docker's normalization, familiar and canonical forms, and refusals.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "platform/reference.hpp"

namespace twinbox::platform {
namespace {

const std::string kHex(64, 'a');
const std::string kDigest = "sha256:" + std::string(64, 'a');

struct Case {
  std::string in;
  std::string canonical;
  std::string familiar;
};

void expect_references(const std::vector<Case>& cases) {
  for (const auto& c : cases) {
    auto r = parse_reference(c.in);
    ASSERT_TRUE(r.has_value()) << c.in << ": " << r.error().message;
    EXPECT_EQ(r->canonical(), c.canonical) << c.in;
    EXPECT_EQ(r->familiar(), c.familiar) << c.in;
  }
}

TEST(ParseReference, NormalizesDockerHubNames) {
  expect_references({
      {"busybox", "docker.io/library/busybox:latest", "busybox:latest"},
      {"busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36"},
      {"library/busybox", "docker.io/library/busybox:latest", "busybox:latest"},
      {"docker.io/busybox", "docker.io/library/busybox:latest", "busybox:latest"},
      {"index.docker.io/library/busybox", "docker.io/library/busybox:latest", "busybox:latest"},
      {"user/img", "docker.io/user/img:latest", "user/img:latest"},
      {"user/img:v1.2-rc_3", "docker.io/user/img:v1.2-rc_3", "user/img:v1.2-rc_3"},
      {"library/a/b", "docker.io/library/a/b:latest", "library/a/b:latest"},
      {"a/b/c", "docker.io/a/b/c:latest", "a/b/c:latest"},
  });
}

TEST(ParseReference, DetectsRegistries) {
  expect_references({
      {"localhost/app", "localhost/app:latest", "localhost/app:latest"},
      {"localhost:5000/team/app:v2", "localhost:5000/team/app:v2", "localhost:5000/team/app:v2"},
      {"ghcr.io/owner/tool", "ghcr.io/owner/tool:latest", "ghcr.io/owner/tool:latest"},
      {"registry:5000/app", "registry:5000/app:latest", "registry:5000/app:latest"},
      {"127.0.0.1:5000/app", "127.0.0.1:5000/app:latest", "127.0.0.1:5000/app:latest"},
      {"[::1]:5000/app:1", "[::1]:5000/app:1", "[::1]:5000/app:1"},
      // Docker treats an upper-case first component as a host, never as a Hub user.
      {"Registry/app", "Registry/app:latest", "Registry/app:latest"},
      // No slash: "localhost:5000" is the image localhost with tag 5000.
      {"localhost:5000", "docker.io/library/localhost:5000", "localhost:5000"},
  });
}

TEST(ParseReference, KeepsDigestAndTag) {
  expect_references({
      {"alpine@" + kDigest, "docker.io/library/alpine@" + kDigest, "alpine@" + kDigest},
      {"alpine:3.19@" + kDigest, "docker.io/library/alpine:3.19@" + kDigest,
       "alpine:3.19@" + kDigest},
      {"localhost:5000/app@" + kDigest, "localhost:5000/app@" + kDigest,
       "localhost:5000/app@" + kDigest},
  });
  auto r = parse_reference("alpine@" + kDigest);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->tag, "");  // a digest alone gets no implicit "latest"
  EXPECT_EQ(r->digest, kDigest);
  EXPECT_EQ(r->name(), "docker.io/library/alpine");
  EXPECT_EQ(r->familiar_name(), "alpine");
}

TEST(ParseReference, SplitsFields) {
  auto r = parse_reference("localhost:5000/team/app:v2");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, (Reference{"localhost:5000", "team/app", "v2", ""}));
}

struct BadCase {
  std::string in;
  std::string says;
};

void expect_rejected(const std::vector<BadCase>& cases) {
  for (const auto& c : cases) {
    auto r = parse_reference(c.in);
    ASSERT_FALSE(r.has_value()) << c.in << " parsed as " << r->canonical();
    EXPECT_EQ(r.error().code, ErrorCode::InvalidArgument) << c.in;
    EXPECT_NE(r.error().message.find(c.says), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("invalid reference format"), std::string::npos);
    EXPECT_NE(r.error().message.find("e.g. busybox"), std::string::npos) << r.error().message;
  }
}

TEST(ParseReference, RejectsUppercaseRepository) {
  expect_rejected({{"BusyBox", "must be lowercase"},
                   {"user/MyApp", "must be lowercase"},
                   {"ghcr.io/Owner/tool", "must be lowercase"}});
}

TEST(ParseReference, RejectsBadNames) {
  expect_rejected({{"", "empty"},
                   {" busybox", "whitespace"},
                   {"busy box", "whitespace"},
                   {":latest", "repository name is empty"},
                   {"user//app", "empty path component"},
                   {"user/", "empty path component"},
                   {"/app", "empty path component"},
                   {"-app", "path component \"-app\""},
                   {"app-", "path component \"app-\""},
                   {"a..b", "path component"},
                   {"a___b", "path component"},
                   {"a$b", "path component"},
                   {"-bad.io/app", "registry \"-bad.io\""},
                   {"bad.io:port/app", "registry \"bad.io:port\""},
                   {"bad_host.io/app", "registry \"bad_host.io\""},
                   {kHex, "image ID"},
                   {"a/" + std::string(260, 'b'), "255 characters"}});
  // Separators the grammar allows.
  for (const char* ok : {"a.b", "a_b", "a__b", "a-b", "a---b", "a-b_c/e__f.g"})
    EXPECT_TRUE(parse_reference(ok).has_value()) << ok;
}

TEST(ParseReference, RejectsBadTags) {
  expect_rejected({{"busybox:", "tag \"\""},
                   {"busybox:.hidden", "tag \".hidden\""},
                   {"busybox:-x", "tag \"-x\""},
                   {"busybox:a+b", "tag \"a+b\""},
                   {"busybox:" + std::string(129, 'a'), "1-128"}});
  EXPECT_TRUE(parse_reference("busybox:" + std::string(128, 'a')).has_value());
  EXPECT_TRUE(parse_reference("busybox:_Under.Score-1").has_value());
}

TEST(ParseReference, RejectsBadDigests) {
  expect_rejected({{"alpine@", "must be algorithm:hex"},
                   {"alpine@sha256", "must be algorithm:hex"},
                   {"alpine@md5:" + std::string(32, 'a'), "unsupported digest algorithm"},
                   {"alpine@sha256:abc", "64 lower-case hex"},
                   {"alpine@sha256:" + std::string(64, 'A'), "64 lower-case hex"},
                   {"alpine@sha256:" + std::string(63, 'a') + "g", "64 lower-case hex"},
                   {"alpine@sha512:" + kHex, "128 lower-case hex"},
                   {"alpine@" + kDigest + "@" + kDigest, "64 lower-case hex"}});
}

TEST(ValidateDigest, AcceptsOciRegisteredAlgorithms) {
  EXPECT_TRUE(validate_digest(kDigest).has_value());
  EXPECT_FALSE(validate_digest("sha384:" + std::string(96, '0')).has_value());
  EXPECT_TRUE(validate_digest("sha512:" + std::string(128, 'f')).has_value());
  EXPECT_FALSE(validate_digest("SHA256:" + kHex).has_value());
}

}  // namespace
}  // namespace twinbox::platform
