// The registry client against the real local registries (Debian's docker-registry): the anonymous
// one on 127.0.0.1:5000 and the htpasswd one on 127.0.0.1:5001, both serving the fixture images
// of tests/fixtures/README.md. A registry that is not running is started (and pushed to) with
// scripts/test-registry; if that fails, every test fails saying why.
//
// Environment: TWINBOX_TEST_REGISTRY_PORT (5000), TWINBOX_TEST_AUTH_REGISTRY_PORT (5001),
// TWINBOX_TEST_AUTH_REGISTRY_CREDS (twinbox:twinbox-test-pw): what scripts/test starts.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>

#include "fakes/fake_registry.hpp"
#include "image/base64.hpp"
#include "image/registry_client.hpp"

using namespace twinbox;
using namespace twinbox::image;
using twinbox::fakes::MemoryBlobSink;

namespace {

std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

const std::string kPort = env_or("TWINBOX_TEST_REGISTRY_PORT", "5000");
const std::string kAuthPort = env_or("TWINBOX_TEST_AUTH_REGISTRY_PORT", "5001");
const std::string kCreds = env_or("TWINBOX_TEST_AUTH_REGISTRY_CREDS", "twinbox:twinbox-test-pw");
const std::string kHost = "127.0.0.1:" + kPort;
const std::string kAuthHost = "127.0.0.1:" + kAuthPort;

// stdout of a shell command, and its exit status.
std::pair<int, std::string> run(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return {-1, ""};
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int rc = ::pclose(p);
  return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, out};
}

std::string script() { return std::string(TWINBOX_SOURCE_DIR) + "/scripts/test-registry"; }

// "" when both registries answer and hold the fixtures, else what went wrong.
const std::string& registries_ready() {
  static std::once_flag once;
  static std::string problem;
  std::call_once(once, [] {
    struct Instance {
      std::string port, auth;
    };
    for (const Instance& i : {Instance{kPort, ""}, Instance{kAuthPort, kCreds}}) {
      std::string args = " --port " + i.port + (i.auth.empty() ? "" : " --auth " + i.auth);
      // push is idempotent: it starts the registry if needed and copies only what is missing.
      auto [rc, out] = run(script() + " push" + args + " 2>&1");
      if (rc != 0) {
        problem = "could not start/push the test registry on 127.0.0.1:" + i.port + " (" +
                  script() + " push" +
                  (i.auth.empty() ? args : " --port " + i.port + " --auth ...") + " exited " +
                  std::to_string(rc) + "):\n" + out;
        return;
      }
    }
  });
  return problem;
}

// tests/fixtures/README.md: read images.json rather than hard-coding digests.
nlohmann::json images_json() {
  const char* cache = std::getenv("TWINBOX_CACHE_DIR");
  std::string dir;
  if (cache && *cache) {
    dir = cache;
  } else if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) {
    dir = std::string(xdg) + "/twinbox";
  } else {
    dir = std::string(std::getenv("HOME") ? std::getenv("HOME") : "") + "/.cache/twinbox";
  }
  std::ifstream in(dir + "/images/images.json");
  return nlohmann::json::parse(in, nullptr, false);
}

const nlohmann::json* image_entry(const nlohmann::json& doc, const std::string& name) {
  if (!doc.is_object() || !doc.contains("images")) return nullptr;
  for (const auto& i : doc["images"]) {
    if (i.value("name", "") == name) return &i;
  }
  return nullptr;
}

platform::Platform plat(const std::string& s) { return *platform::parse_platform(s); }

class RegistryClientIT : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(registries_ready(), "");
    images = images_json();
    ASSERT_FALSE(images.is_discarded()) << "images.json from scripts/build-test-images unreadable";
    char tmpl[] = "/tmp/twinbox-regit-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir = tmpl;
    opts.docker_config_path = dir + "/config.json";
    opts.initial_backoff = std::chrono::milliseconds(50);
  }
  void TearDown() override { std::system(("rm -rf " + dir).c_str()); }

  std::string digest_of(const std::string& name, const std::string& platform = "") {
    const auto* e = image_entry(images, name);
    if (!e) return "";
    if (platform.empty()) return e->value("digest", "");
    return (*e)["platforms"].value(platform, "");
  }
  void write_creds(const std::string& user_pass) {
    std::ofstream(dir + "/config.json")
        << R"({"auths":{")" << kAuthHost << R"(":{"auth":")" << base64_encode(user_pass) << "\"}}}";
  }

  nlohmann::json images;
  std::string dir;
  RegistryOptions opts;
};

TEST_F(RegistryClientIT, InspectIndexOffersAmd64AndArm64AsSkopeoSeesIt) {
  RegistryClient client(opts);
  auto offer = client.inspect(kHost + "/twinbox/busybox:latest");
  ASSERT_TRUE(offer.has_value()) << offer.error().message;
  EXPECT_TRUE(offer->is_index);
  EXPECT_EQ(offer->digest.str(), digest_of("twinbox/busybox:latest"));
  EXPECT_EQ(offer->platforms_text(), "linux/amd64, linux/arm64");
  auto [rc, raw] =
      run("skopeo inspect --raw --tls-verify=false docker://" + kHost + "/twinbox/busybox:latest");
  ASSERT_EQ(rc, 0);
  EXPECT_EQ(offer->bytes, raw);
  EXPECT_EQ(sha256_digest(raw), offer->digest);
}

TEST_F(RegistryClientIT, ResolvesEachPlatformToTheFixtureChild) {
  RegistryClient client(opts);
  auto offer = client.inspect(kHost + "/twinbox/busybox");
  ASSERT_TRUE(offer.has_value()) << offer.error().message;
  struct Case {
    const char* want;
    const char* fixture_platform;
    const char* config_platform;
  };
  for (const Case& c : {Case{"linux/arm64", "linux/arm64/v8", "linux/arm64"},
                        Case{"linux/amd64", "linux/amd64", "linux/amd64"}}) {
    auto r = client.resolve(*offer, plat(c.want));
    ASSERT_TRUE(r.has_value()) << c.want << ": " << r.error().message;
    std::string want_digest = digest_of("twinbox/busybox:latest", c.fixture_platform);
    ASSERT_FALSE(want_digest.empty());
    EXPECT_EQ(r->manifest_digest.str(), want_digest) << c.want;
    EXPECT_EQ(r->platform.to_string(), c.config_platform);
    EXPECT_EQ(r->pinned(), kHost + "/twinbox/busybox@" + want_digest);
    EXPECT_EQ(r->display(), kHost + "/twinbox/busybox:latest");
    // The child is byte-for-byte the single-arch image (tests/fixtures/README.md).
    auto [rc, raw] = run("skopeo inspect --raw --tls-verify=false docker://" + kHost +
                         "/twinbox/busybox@" + want_digest);
    ASSERT_EQ(rc, 0);
    EXPECT_EQ(r->manifest_bytes, raw);
  }
}

TEST_F(RegistryClientIT, FetchStoresVerifiedBlobsAndSkipsThemTheSecondTime) {
  RegistryClient client(opts);
  auto offer = client.inspect(kHost + "/twinbox/busybox:latest");
  ASSERT_TRUE(offer.has_value()) << offer.error().message;
  auto r = client.resolve(*offer, plat("linux/arm64"));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  MemoryBlobSink sink;
  std::vector<PullProgress> events;
  auto ok = client.fetch(*r, sink, [&](const PullProgress& p) { events.push_back(p); });
  ASSERT_TRUE(ok.has_value()) << ok.error().message;
  ASSERT_EQ(r->manifest.layers.size(), 1u);
  const auto& layer = r->manifest.layers[0];
  ASSERT_TRUE(sink.blobs.count(layer.digest.str()));
  EXPECT_EQ(static_cast<int64_t>(sink.blobs[layer.digest.str()].size()), layer.size);
  EXPECT_TRUE(sink.blobs.count(r->manifest.config.digest.str()));
  EXPECT_TRUE(sink.blobs.count(r->manifest_digest.str()));
  EXPECT_TRUE(sink.blobs.count(offer->digest.str()));
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().phase, PullPhase::DownloadComplete);
  EXPECT_EQ(events.back().id, layer.digest.hex().substr(0, 12));

  events.clear();
  ASSERT_TRUE(
      client.fetch(*r, sink, [&](const PullProgress& p) { events.push_back(p); }).has_value());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].phase, PullPhase::AlreadyExists);
}

TEST_F(RegistryClientIT, ImageOfferingNeitherArchIsRefusedListingWhatItOffers) {
  if (!image_entry(images, "twinbox/busybox-s390x:latest")) {
    GTEST_SKIP() << "the optional busybox-s390x fixture was not built (tests/fixtures/README.md)";
  }
  RegistryClient client(opts);
  auto offer = client.inspect(kHost + "/twinbox/busybox-s390x:latest");
  ASSERT_TRUE(offer.has_value()) << offer.error().message;
  EXPECT_FALSE(offer->is_index);
  EXPECT_EQ(offer->platforms_text(), "linux/s390x");
  auto s390x = client.resolve(*offer, plat("linux/s390x"));
  ASSERT_TRUE(s390x.has_value()) << s390x.error().message;
  EXPECT_EQ(s390x->manifest_digest.str(), digest_of("twinbox/busybox-s390x:latest"));
  auto arm = client.resolve(*offer, plat("linux/arm64"));
  ASSERT_FALSE(arm.has_value());
  EXPECT_EQ(arm.error().code, ErrorCode::NotFound);
  EXPECT_NE(arm.error().message.find("no matching manifest for linux/arm64"), std::string::npos)
      << arm.error().message;
  EXPECT_NE(arm.error().message.find("offers linux/s390x"), std::string::npos);
}

TEST_F(RegistryClientIT, ByDigestSingleManifestIsNotReResolved) {
  std::string amd = digest_of("twinbox/busybox:latest", "linux/amd64");
  ASSERT_FALSE(amd.empty());
  RegistryClient client(opts);
  auto offer = client.inspect(kHost + "/twinbox/busybox@" + amd);
  ASSERT_TRUE(offer.has_value()) << offer.error().message;
  EXPECT_FALSE(offer->is_index);
  auto r = client.resolve(*offer, std::nullopt);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->manifest_digest.str(), amd);
  EXPECT_EQ(r->platform.to_string(), "linux/amd64");
  EXPECT_FALSE(r->index_digest.has_value());
  EXPECT_FALSE(client.resolve(*offer, plat("linux/arm64")).has_value());
}

TEST_F(RegistryClientIT, ByIndexDigestAndByTagRecordTheSameChild) {
  RegistryClient client(opts);
  auto by_digest =
      client.inspect(kHost + "/twinbox/busybox@" + digest_of("twinbox/busybox:latest"));
  auto by_tag = client.inspect(kHost + "/twinbox/busybox:latest");
  ASSERT_TRUE(by_digest.has_value() && by_tag.has_value());
  auto a = client.resolve(*by_digest, plat("linux/arm64"));
  auto b = client.resolve(*by_tag, plat("linux/arm64"));
  ASSERT_TRUE(a.has_value() && b.has_value());
  EXPECT_EQ(a->manifest_digest, b->manifest_digest);
  EXPECT_EQ(a->pinned(), b->pinned());
}

TEST_F(RegistryClientIT, NotFoundSaysWhatToCheck) {
  RegistryClient client(opts);
  auto r = client.inspect(kHost + "/twinbox/does-not-exist:latest");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::NotFound);
  EXPECT_NE(r.error().message.find("registry " + kHost), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("check the name and tag"), std::string::npos);
}

TEST_F(RegistryClientIT, BasicAuthRegistryWithCredentialsFromDockerConfig) {
  write_creds(kCreds);
  RegistryClient client(opts);
  auto offer = client.inspect(kAuthHost + "/twinbox/busybox:latest");
  ASSERT_TRUE(offer.has_value()) << offer.error().message;
  EXPECT_EQ(offer->digest.str(), digest_of("twinbox/busybox:latest"));
  auto r = client.resolve(*offer, plat("linux/amd64"));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->manifest_digest.str(), digest_of("twinbox/busybox:latest", "linux/amd64"));
  MemoryBlobSink sink;
  auto ok = client.fetch(*r, sink);
  ASSERT_TRUE(ok.has_value()) << ok.error().message;
  EXPECT_EQ(sink.blobs.size(), 4u);
}

TEST_F(RegistryClientIT, BasicAuthRegistryRefusesMissingOrWrongCredentialsClearly) {
  {
    RegistryClient client(opts);  // no config file at all
    auto r = client.inspect(kAuthHost + "/twinbox/busybox:latest");
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().message.find("unauthorized: docker login " + kAuthHost), std::string::npos)
        << r.error().message;
    EXPECT_NE(r.error().message.find(opts.docker_config_path), std::string::npos);
  }
  std::string user = kCreds.substr(0, kCreds.find(':'));
  write_creds(user + ":definitely-wrong-pw");
  RegistryClient client(opts);
  auto r = client.inspect(kAuthHost + "/twinbox/busybox:latest");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("HTTP 401"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("were refused"), std::string::npos);
  EXPECT_EQ(r.error().message.find("definitely-wrong-pw"), std::string::npos);
}

// docker login (POST /auth) as twinboxd checks it, and a pull with the client's credentials
// (X-Registry-Auth) while twinboxd's own docker config has none.
TEST_F(RegistryClientIT, LoginToTheHtpasswdRegistryAcceptsTheRightPasswordOnly) {
  std::string user = kCreds.substr(0, kCreds.find(':'));
  std::string pass = kCreds.substr(kCreds.find(':') + 1);
  RegistryClient client(opts);
  AuthConfig auth;
  auth.server_address = kAuthHost;
  auth.credentials = RegistryCredentials{user, pass, "", ""};
  auto ok = client.login(auth);
  ASSERT_TRUE(ok.has_value()) << ok.error().message;
  EXPECT_TRUE(ok->accepted) << ok->message;
  EXPECT_EQ(ok->url, "http://" + kAuthHost + "/v2/");

  auth.credentials.password = "definitely-wrong-pw";
  auto bad = client.login(auth);
  ASSERT_TRUE(bad.has_value()) << bad.error().message;
  EXPECT_FALSE(bad->accepted);
  EXPECT_NE(bad->message.find("login attempt to http://" + kAuthHost +
                              "/v2/ failed with status: 401 Unauthorized"),
            std::string::npos)
      << bad->message;
  EXPECT_NE(bad->message.find("docker login " + kAuthHost), std::string::npos);
  EXPECT_EQ(bad->message.find("definitely-wrong-pw"), std::string::npos);
  EXPECT_FALSE(std::ifstream(opts.docker_config_path).good());  // nothing written
}

TEST_F(RegistryClientIT, PullWithTheClientsCredentialsAndNoneOfTwinboxds) {
  std::string user = kCreds.substr(0, kCreds.find(':'));
  std::string pass = kCreds.substr(kCreds.find(':') + 1);
  RegistryClient client(opts);  // no config file: twinboxd has no credentials for 5001
  PullCredentials mine = RegistryCredentials{user, pass, "", ""};
  auto offer = client.inspect(kAuthHost + "/twinbox/busybox:latest", mine);
  ASSERT_TRUE(offer.has_value()) << offer.error().message;
  EXPECT_EQ(offer->digest.str(), digest_of("twinbox/busybox:latest"));
  auto r = client.resolve(*offer, plat("linux/arm64"), mine);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->manifest_digest.str(), digest_of("twinbox/busybox:latest", "linux/arm64/v8"));
  MemoryBlobSink sink;
  auto ok = client.fetch(*r, sink, {}, mine);
  ASSERT_TRUE(ok.has_value()) << ok.error().message;
  EXPECT_EQ(sink.blobs.size(), 4u);
  // The same client without them: refused, so the pull above used the client's credentials.
  auto anon = client.inspect(kAuthHost + "/twinbox/busybox:latest");
  ASSERT_FALSE(anon.has_value());
  EXPECT_NE(anon.error().message.find("unauthorized"), std::string::npos) << anon.error().message;
  auto wrong = client.inspect(kAuthHost + "/twinbox/busybox:latest",
                              RegistryCredentials{user, "definitely-wrong-pw", "", ""});
  ASSERT_FALSE(wrong.has_value());
  EXPECT_NE(wrong.error().message.find("sent by the docker client were refused"), std::string::npos)
      << wrong.error().message;
}

}  // namespace
