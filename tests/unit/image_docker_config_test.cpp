// ~/.docker/config.json: key normalization, inline credentials, helpers reported not run.
#include <gtest/gtest.h>

#include <vector>

#include "image/docker_config.hpp"
#include "test_data.hpp"

using namespace twinbox::image;

namespace {

std::string data(const std::string& name) { return read_test_data("image/" + name); }

TEST(NormalizeRegistryHost, Table) {
  struct Case {
    const char* in;
    const char* out;
  };
  for (const auto& c : std::vector<Case>{{"https://index.docker.io/v1/", "docker.io"},
                                         {"index.docker.io", "docker.io"},
                                         {"registry-1.docker.io", "docker.io"},
                                         {"docker.io", "docker.io"},
                                         {"https://registry.hub.docker.com", "docker.io"},
                                         {"http://localhost:5000/", "localhost:5000"},
                                         {"localhost:5000", "localhost:5000"},
                                         {"https://GHCR.io/", "ghcr.io"},
                                         {" ghcr.io/v2/ ", "ghcr.io"},
                                         {"quay.io///", "quay.io"}}) {
    EXPECT_EQ(normalize_registry_host(c.in), c.out) << c.in;
  }
}

TEST(DockerConfigLookup, RecordedConfig) {
  auto cfg = DockerConfig::parse(data("docker_config.json"));
  ASSERT_TRUE(cfg.has_value()) << cfg.error().message;
  struct Case {
    const char* host;
    const char* user;  // nullptr: no credentials
    const char* pass;
    const char* helper;
  };
  for (const auto& c : std::vector<Case>{
           {"docker.io", "hubuser", "hubpass", ""},
           {"registry-1.docker.io", "hubuser", "hubpass", ""},
           {"https://index.docker.io/v1/", "hubuser", "hubpass", ""},
           {"ghcr.io", "octocat", "ghp_exampletoken", ""},
           {"localhost:5000", "local", "secret:with:colons", ""},
           {"quay.io", nullptr, nullptr, "quay"},
           {"123456789012.dkr.ecr.us-east-1.amazonaws.com", nullptr, nullptr, "ecr-login"},
           {"gcr.io", nullptr, nullptr, ""}}) {
    auto r = cfg->lookup(c.host);
    ASSERT_TRUE(r.has_value()) << c.host << ": " << r.error().message;
    EXPECT_EQ(r->helper, c.helper) << c.host;
    if (c.user) {
      ASSERT_TRUE(r->credentials.has_value()) << c.host;
      EXPECT_EQ(r->credentials->username, c.user) << c.host;
      EXPECT_EQ(r->credentials->password, c.pass) << c.host;
    } else {
      EXPECT_FALSE(r->credentials.has_value()) << c.host;
      EXPECT_NE(r->note.find("anonymously"), std::string::npos) << r->note;
    }
  }
}

TEST(DockerConfigLookup, IdentityToken) {
  auto cfg = DockerConfig::parse(data("docker_config.json")).value();
  auto r = cfg.lookup("myregistry.azurecr.io").value();
  ASSERT_TRUE(r.credentials.has_value());
  EXPECT_EQ(r.credentials->identity_token, "eyJhbGciOiJSUzI1NiJ9.refresh");
  EXPECT_TRUE(r.credentials->username.empty());
}

TEST(DockerConfigLookup, BadEntryFailsOnlyItsOwnHost) {
  auto cfg = DockerConfig::parse(data("docker_config.json")).value();
  auto r = cfg.lookup("broken.example.com");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find(R"(auths["broken.example.com"].auth: invalid base64)"),
            std::string::npos)
      << r.error().message;
  EXPECT_TRUE(cfg.lookup("ghcr.io").has_value());
}

TEST(DockerConfigLookup, CredentialHelperIsReportedNotRun) {
  auto cfg = DockerConfig::parse(R"({"auths":{"https://index.docker.io/v1/":{}},)"
                                 R"("credsStore":"desktop"})")
                 .value();
  auto r = cfg.lookup("docker.io").value();
  EXPECT_EQ(r.helper, "desktop");
  EXPECT_FALSE(r.credentials.has_value());
  EXPECT_NE(r.note.find(R"(credential helper "desktop" (docker-credential-desktop) not supported)"),
            std::string::npos)
      << r.note;
}

TEST(DockerConfigLookup, CredHelpersBeatCredsStore) {
  auto cfg = DockerConfig::parse(R"({"credsStore":"desktop",)"
                                 R"("credHelpers":{"https://GCR.io/":"gcloud"}})")
                 .value();
  EXPECT_EQ(cfg.lookup("gcr.io")->helper, "gcloud");
  EXPECT_EQ(cfg.lookup("ghcr.io")->helper, "desktop");
}

TEST(DockerConfigLookup, HelperWithInlineCredentialsUsesThem) {
  auto cfg =
      DockerConfig::parse(R"({"auths":{"ghcr.io":{"auth":"dTpw"}},"credsStore":"pass"})").value();
  auto r = cfg.lookup("ghcr.io").value();
  ASSERT_TRUE(r.credentials.has_value());
  EXPECT_EQ(r.credentials->username, "u");
  EXPECT_EQ(r.credentials->password, "p");
  EXPECT_NE(r.note.find("using the credentials stored in auths[\"ghcr.io\"]"), std::string::npos)
      << r.note;
}

TEST(DockerConfigLookup, PrefersTheKeySpelledAsAsked) {
  auto cfg = DockerConfig::parse(R"({"auths":{"docker.io":{"auth":"YTpi"},)"
                                 R"("https://index.docker.io/v1/":{"auth":"Yzpk"}}})")
                 .value();
  EXPECT_EQ(cfg.lookup("docker.io")->credentials->username, "a");
  EXPECT_EQ(cfg.lookup("https://index.docker.io/v1/")->credentials->username, "c");
}

TEST(BasicAuthorization, EncodesUserColonPassword) {
  EXPECT_EQ(basic_authorization({"Aladdin", "open sesame", "", ""}),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  EXPECT_EQ(basic_authorization({"", "", "token", ""}), "");
}

TEST(DockerConfigParse, EmptyAndMalformed) {
  auto empty = DockerConfig::parse("{}");
  ASSERT_TRUE(empty.has_value());
  EXPECT_FALSE(empty->lookup("docker.io")->credentials.has_value());
  struct Case {
    const char* body;
    const char* says;
  };
  for (const auto& c : std::vector<Case>{{"", "not valid JSON"},
                                         {R"({"auths":[]})", "auths: expected an object"},
                                         {R"({"credsStore":1})", "credsStore: expected a string"},
                                         {R"({"credHelpers":{"a":1}})", "credHelpers[\"a\"]"}}) {
    auto r = DockerConfig::parse(c.body);
    ASSERT_FALSE(r.has_value()) << c.body;
    EXPECT_NE(r.error().message.find(c.says), std::string::npos) << r.error().message;
  }
  auto no_colon = DockerConfig::parse(R"({"auths":{"x.io":{"auth":"dXNlcg=="}}})").value();
  auto r = no_colon.lookup("x.io");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("not \"user:password\""), std::string::npos);
}

}  // namespace
