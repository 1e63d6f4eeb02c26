// Credentials from the docker client: per-pull credentials (X-Registry-Auth) in the registry
// client (they replace the docker config's; tokens never cross credentials), its login check
// (what POST /auth answers), and both through twinboxd's API against FakeRegistry.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "api/api_server.hpp"
#include "fakes/fake_backends.hpp"
#include "fakes/fake_engine.hpp"
#include "fakes/fake_registry.hpp"
#include "fakes/test_client.hpp"
#include "image/base64.hpp"
#include "image/media_types.hpp"
#include "image/registry_client.hpp"
#include "unit_io/registry_fixture.hpp"
#include "util/fs.hpp"
#include "util/log.hpp"
#include "util/subprocess.hpp"

using namespace twinbox;
using namespace twinbox::image;
using twinbox::fakes::FakeRegistry;
using twinbox::fakes::MemoryBlobSink;

namespace {

// One linux/amd64 image in `repo`: a small layer, its config and manifest (by `tag`).
std::string add_image(FakeRegistry& reg, const std::string& repo, const std::string& tag) {
  std::string layer(4096, 'L');
  std::string layer_digest = reg.add_blob(repo, layer);
  std::string config = R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers",)"
                       R"("diff_ids":["sha256:)" +
                       std::string(64, '1') + R"("]}})";
  std::string config_digest = reg.add_blob(repo, config);
  std::string manifest =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
      R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
      config_digest + R"(","size":)" + std::to_string(config.size()) +
      R"(},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":")" +
      layer_digest + R"(","size":)" + std::to_string(layer.size()) + "}]}";
  return reg.add_manifest(repo, tag, manifest, std::string(kOciManifest));
}

RegistryCredentials creds(const std::string& user, const std::string& pass) {
  return RegistryCredentials{user, pass, "", ""};
}

AuthConfig login_of(const std::string& server, const std::string& user, const std::string& pass) {
  AuthConfig a;
  a.server_address = server;
  a.credentials = creds(user, pass);
  return a;
}

class ClientCredentials : public fakes::RegistryFixture {
 protected:
  void SetUp() override {
    RegistryFixture::SetUp();
    opts.max_attempts = 3;
  }
  // Every Authorization header the registry received (token requests included).
  std::vector<std::string> authorizations() {
    std::vector<std::string> out;
    for (const auto& r : reg.requests())
      if (!r.authorization.empty()) out.push_back(r.authorization);
    return out;
  }
};

TEST_F(ClientCredentials, PerPullBasicCredentialsReplaceTheDockerConfigs) {
  reg.require_basic("alice", "right-pw");
  add_image(reg, "team/app", "v1");
  write_config("alice", "config-pw-wrong");
  RegistryClient client(opts);
  PullCredentials mine = creds("alice", "right-pw");
  auto offer = client.inspect(ref("team/app:v1"), mine);
  ASSERT_TRUE(offer.has_value()) << offer.error().message;
  auto resolved = client.resolve(*offer, std::nullopt, mine);
  ASSERT_TRUE(resolved.has_value()) << resolved.error().message;
  MemoryBlobSink sink;
  auto fetched = client.fetch(*resolved, sink, {}, mine);
  ASSERT_TRUE(fetched.has_value()) << fetched.error().message;
  EXPECT_EQ(sink.blobs.size(), 3u);
  for (const auto& a : authorizations())
    EXPECT_EQ(a, "Basic " + base64_encode("alice:right-pw"));  // the config's never sent

  // Without per-pull credentials the config's (wrong) ones are used, and refused.
  auto own = client.inspect(ref("team/app:v1"));
  ASSERT_FALSE(own.has_value());
  EXPECT_NE(own.error().message.find("in " + opts.docker_config_path + " were refused"),
            std::string::npos)
      << own.error().message;
}

TEST_F(ClientCredentials, RefusedClientCredentialsSaySoWithoutTheSecret) {
  reg.require_basic("alice", "right-pw");
  add_image(reg, "team/app", "v1");
  write_config("alice", "right-pw");  // twinboxd's would work: they must not be tried
  RegistryClient client(opts);
  auto r = client.inspect(ref("team/app:v1"), creds("alice", "client-pw-wrong"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::InvalidArgument);
  EXPECT_NE(r.error().message.find("the credentials for " + reg.host() +
                                   " sent by the docker client were refused"),
            std::string::npos)
      << r.error().message;
  EXPECT_EQ(r.error().message.find("client-pw-wrong"), std::string::npos);
  EXPECT_EQ(r.error().message.find(base64_encode("alice:client-pw-wrong")), std::string::npos);
  for (const auto& a : authorizations()) EXPECT_NE(a, "Basic " + base64_encode("alice:right-pw"));
}

TEST_F(ClientCredentials, BearerTokensNeverCrossCredentials) {
  reg.require_bearer("bob", "bob-pw");
  add_image(reg, "team/app", "v1");
  RegistryClient client(opts);
  ASSERT_TRUE(client.inspect(ref("team/app:v1"), creds("bob", "bob-pw")).has_value());
  EXPECT_EQ(reg.tokens_issued(), 1);

  // Same repository, other credentials: bob's cached token must not be reused.
  auto wrong = client.inspect(ref("team/app:v1"), creds("bob", "not-bobs-pw"));
  ASSERT_FALSE(wrong.has_value());
  EXPECT_NE(wrong.error().message.find("sent by the docker client were refused"), std::string::npos)
      << wrong.error().message;
  EXPECT_EQ(wrong.error().message.find("not-bobs-pw"), std::string::npos);
  // No credentials at all (nothing in the config): anonymous token request, refused.
  auto anon = client.inspect(ref("team/app:v1"));
  ASSERT_FALSE(anon.has_value());
  EXPECT_EQ(reg.tokens_issued(), 1);
  size_t token_requests = reg.count("/token");
  EXPECT_EQ(token_requests, 3u);  // bob, the wrong password, anonymous: each asked for its own

  // Bob again: his token is still cached (the cache works, per credentials).
  ASSERT_TRUE(client.inspect(ref("team/app:v1"), creds("bob", "bob-pw")).has_value());
  EXPECT_EQ(reg.count("/token"), token_requests);
  EXPECT_EQ(reg.tokens_issued(), 1);
}

TEST_F(ClientCredentials, LoginWithBasicAuth) {
  reg.require_basic("alice", "right-pw");
  RegistryClient client(opts);
  auto ok = client.login(login_of(reg.host(), "alice", "right-pw"));
  ASSERT_TRUE(ok.has_value()) << ok.error().message;
  EXPECT_TRUE(ok->accepted);
  EXPECT_EQ(ok->registry, reg.host());
  EXPECT_EQ(ok->url, "http://" + reg.host() + "/v2/");  // loopback: plain HTTP, as pulls
  // A scheme and a trailing slash in the server address are fine.
  auto scheme = client.login(login_of("https://" + reg.host() + "/", "alice", "right-pw"));
  ASSERT_TRUE(scheme.has_value()) << scheme.error().message;
  EXPECT_TRUE(scheme->accepted);

  auto bad = client.login(login_of(reg.host(), "alice", "wrong-pw-123"));
  ASSERT_TRUE(bad.has_value()) << bad.error().message;
  EXPECT_FALSE(bad->accepted);
  EXPECT_EQ(
      bad->message.rfind(
          "login attempt to http://" + reg.host() + "/v2/ failed with status: 401 Unauthorized", 0),
      0u)
      << bad->message;
  EXPECT_NE(bad->message.find("docker login " + reg.host()), std::string::npos);
  EXPECT_EQ(bad->message.find("wrong-pw-123"), std::string::npos);
  // Nothing was written: twinboxd keeps no credentials of its own.
  EXPECT_FALSE(std::filesystem::exists(opts.docker_config_path));
}

TEST_F(ClientCredentials, LoginWithBearerAuthAsksTheTokenServiceWithoutScope) {
  reg.require_bearer("bob", "bob-pw");
  RegistryClient client(opts);
  auto ok = client.login(login_of(reg.host(), "bob", "bob-pw"));
  ASSERT_TRUE(ok.has_value()) << ok.error().message;
  EXPECT_TRUE(ok->accepted);
  bool asked = false;
  for (const auto& r : reg.requests()) {
    if (r.path != "/token") continue;
    asked = true;
    EXPECT_EQ(r.query.find("scope="), std::string::npos) << r.query;
    EXPECT_NE(r.query.find("account=bob"), std::string::npos) << r.query;
    EXPECT_EQ(r.authorization, "Basic " + base64_encode("bob:bob-pw"));
  }
  EXPECT_TRUE(asked);
  EXPECT_EQ(reg.count("/v2/"), 2u);  // the challenge, then the check with the token

  auto bad = client.login(login_of(reg.host(), "bob", "nope-pw"));
  ASSERT_TRUE(bad.has_value()) << bad.error().message;
  EXPECT_FALSE(bad->accepted);
  EXPECT_NE(bad->message.find("failed with status: 401 Unauthorized"), std::string::npos)
      << bad->message;
  EXPECT_NE(bad->message.find("token service http://" + reg.host() + "/token"), std::string::npos)
      << bad->message;
  EXPECT_EQ(bad->message.find("nope-pw"), std::string::npos);
}

TEST_F(ClientCredentials, LoginToAnOpenRegistrySucceedsAndAnAbsentOneIsUnavailable) {
  RegistryClient client(opts);
  auto open = client.login(login_of(reg.host(), "anyone", "anything"));
  ASSERT_TRUE(open.has_value()) << open.error().message;
  EXPECT_TRUE(open->accepted);  // as dockerd: a registry without auth accepts any login
  EXPECT_NE(open->message.find("does not require authentication"), std::string::npos);

  std::string host = reg.host();
  reg.stop();
  auto gone = client.login(login_of(host, "alice", "pw"));
  ASSERT_FALSE(gone.has_value());
  EXPECT_EQ(gone.error().code, ErrorCode::Unavailable);
  EXPECT_NE(gone.error().message.find("docker login " + host), std::string::npos)
      << gone.error().message;
  EXPECT_NE(gone.error().message.find("could not be reached"), std::string::npos);
}

TEST_F(ClientCredentials, LoginWithoutUserOrWithOnlyAnIdentityTokenIsRefusedClearly) {
  RegistryClient client(opts);
  auto none = client.login(login_of(reg.host(), "", ""));
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().code, ErrorCode::InvalidArgument);
  EXPECT_NE(none.error().message.find("no user name"), std::string::npos);
  AuthConfig it;
  it.server_address = reg.host();
  it.credentials.identity_token = "refresh-token-xyz";
  auto token = client.login(it);
  ASSERT_FALSE(token.has_value());
  EXPECT_NE(token.error().message.find("identity tokens"), std::string::npos);
  EXPECT_EQ(token.error().message.find("refresh-token-xyz"), std::string::npos);
  EXPECT_EQ(reg.requests().size(), 0u);  // refused before asking the registry
}

// twinboxd's API: POST /auth and a pull with X-Registry-Auth, through a real ApiServer with a
// content store, two fake engines and FakeRegistry.
class ApiCredentials : public ClientCredentials {
 protected:
  void SetUp() override {
    ClientCredentials::SetUp();
    log::set_level(log::Level::Warn);
    hv = std::make_unique<fakes::FakeEngine>("hv", dir + "/hv.sock", "a1a1");
    rosetta = std::make_unique<fakes::FakeEngine>("rosetta", dir + "/rosetta.sock", "b2b2");
    ASSERT_TRUE(hv->start());
    ASSERT_TRUE(rosetta->start());
    backends.add("hv", hv->socket_path(), api::BackendState::Running);
    backends.add("rosetta", rosetta->socket_path(), api::BackendState::Running);
    api::ServerOptions o;
    o.socket_path = dir + "/api.sock";
    o.daemon_version = "0.1.0-test";
    o.shutdown_grace = std::chrono::milliseconds(300);
    o.reconcile_on_running = false;
    o.content_store_path = dir + "/content";
    o.registry = opts;
    server = std::make_unique<api::ApiServer>(o, backends);
    auto st = server->start();
    ASSERT_TRUE(st) << st.error().message;
  }
  void TearDown() override {
    if (server) server->stop();
    if (hv) hv->stop();
    if (rosetta) rosetta->stop();
    ClientCredentials::TearDown();
  }
  fakes::TestClient client() {
    auto c = fakes::TestClient::connect(dir + "/api.sock");
    EXPECT_TRUE(c) << c.error().message;
    return std::move(c).value();
  }
  static std::string message_of(const fakes::TestResponse& r) {
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    return j.is_object() && j.contains("message") ? j["message"].get<std::string>() : r.body;
  }
  // docker's X-Registry-Auth: base64url of the JSON AuthConfig.
  static std::string registry_auth(const std::string& user, const std::string& pass) {
    std::string b = base64_encode(nlohmann::json{{"username", user}, {"password", pass}}.dump());
    for (char& c : b) {
      if (c == '+') c = '-';
      if (c == '/') c = '_';
    }
    return b;
  }
  size_t engine_auth_requests() {
    return hv->count("POST", "/auth") + rosetta->count("POST", "/auth");
  }

  std::unique_ptr<fakes::FakeEngine> hv, rosetta;
  fakes::FakeBackends backends;
  std::unique_ptr<api::ApiServer> server;
};

TEST_F(ApiCredentials, DockerLoginIsCheckedByTwinboxdAgainstTheRegistry) {
  reg.require_basic("alice", "right-pw");
  auto c = client();
  std::string body =
      nlohmann::json{{"username", "alice"}, {"password", "right-pw"}, {"serveraddress", reg.host()}}
          .dump();
  auto ok = c.request("POST", "/v1.41/auth", body, {{"Content-Type", "application/json"}});
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->status, 200) << ok->body;
  auto j = nlohmann::json::parse(ok->body, nullptr, false);
  EXPECT_EQ(j["Status"], "Login Succeeded");
  EXPECT_EQ(j["IdentityToken"], "");

  // Same connection (kept alive): the wrong password is a 401 in Docker's error shape.
  body =
      nlohmann::json{
          {"username", "alice"}, {"password", "wrong-pw-456"}, {"serveraddress", reg.host()}}
          .dump();
  auto bad = c.request("POST", "/v1.41/auth", body, {{"Content-Type", "application/json"}});
  ASSERT_TRUE(bad) << bad.error().message;
  EXPECT_EQ(bad->status, 401) << bad->body;
  std::string msg = message_of(*bad);
  EXPECT_NE(msg.find("login attempt to http://" + reg.host() +
                     "/v2/ failed with status: 401 Unauthorized"),
            std::string::npos)
      << msg;
  EXPECT_EQ(bad->body.find("wrong-pw-456"), std::string::npos);
  EXPECT_EQ(engine_auth_requests(), 0u);  // never an engine's business
}

TEST_F(ApiCredentials, MalformedLoginBodyAndUnreachableRegistry) {
  auto c = client();
  auto junk = c.request("POST", "/v1.41/auth", "{not json", {{"Content-Type", "application/json"}});
  ASSERT_TRUE(junk) << junk.error().message;
  EXPECT_EQ(junk->status, 400) << junk->body;
  EXPECT_NE(message_of(*junk).find("AuthConfig"), std::string::npos) << junk->body;

  std::string host = reg.host();
  reg.stop();
  auto c2 = client();
  auto gone = c2.request(
      "POST", "/v1.41/auth",
      nlohmann::json{{"username", "a"}, {"password", "b"}, {"serveraddress", host}}.dump());
  ASSERT_TRUE(gone) << gone.error().message;
  EXPECT_GE(gone->status, 500) << gone->body;
  EXPECT_NE(message_of(*gone).find(host), std::string::npos) << gone->body;
}

TEST_F(ApiCredentials, PullUsesTheClientsRegistryAuthHeader) {
  reg.require_bearer("bob", "bob-pw");
  add_image(reg, "team/app", "v1");
  // twinboxd has no credentials of its own for this registry: the pull works only through the
  // client's header.
  auto c = client();
  auto anon = c.request("POST", "/v1.41/images/create?fromImage=" + ref("team/app") + "&tag=v1");
  ASSERT_TRUE(anon) << anon.error().message;
  EXPECT_NE(anon->status, 200) << anon->body;
  EXPECT_NE(message_of(*anon).find("unauthorized"), std::string::npos) << anon->body;

  auto c2 = client();
  auto r = c2.request("POST", "/v1.41/images/create?fromImage=" + ref("team/app") + "&tag=v1", "",
                      {{"X-Registry-Auth", registry_auth("bob", "bob-pw")}});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->body.find("\"error\""), std::string::npos) << r->body;
  EXPECT_NE(r->body.find("Status: Downloaded newer image for " + ref("team/app:v1")),
            std::string::npos)
      << r->body;
  EXPECT_EQ(rosetta->count("POST", "/images/load"), 1u);  // amd64: delivered to rosetta
  for (const auto& req : reg.requests()) {
    if (req.path != "/token") continue;
    EXPECT_NE(req.query.find("scope="), std::string::npos);
  }
}

TEST_F(ApiCredentials, WrongOrMalformedRegistryAuthHeader) {
  reg.require_basic("alice", "right-pw");
  add_image(reg, "team/app", "v1");
  write_config("alice", "right-pw");  // twinboxd's own would work, but the client's wins
  auto c = client();
  auto wrong = c.request("POST", "/v1.41/images/create?fromImage=" + ref("team/app") + "&tag=v1",
                         "", {{"X-Registry-Auth", registry_auth("alice", "client-wrong-pw")}});
  ASSERT_TRUE(wrong) << wrong.error().message;
  EXPECT_NE(wrong->status, 200) << wrong->body;
  EXPECT_NE(message_of(*wrong).find("sent by the docker client were refused"), std::string::npos)
      << wrong->body;
  EXPECT_EQ(wrong->body.find("client-wrong-pw"), std::string::npos);

  auto c2 = client();
  auto junk = c2.request("POST", "/v1.41/images/create?fromImage=" + ref("team/app") + "&tag=v1",
                         "", {{"X-Registry-Auth", "%%%not-base64%%%"}});
  ASSERT_TRUE(junk) << junk.error().message;
  EXPECT_EQ(junk->status, 400) << junk->body;
  EXPECT_EQ(message_of(*junk).rfind("X-Registry-Auth is not valid base64url JSON: ", 0), 0u)
      << junk->body;

  // An empty AuthConfig ("e30=", what docker sends without a login) means twinboxd's own.
  auto c3 = client();
  auto own = c3.request("POST", "/v1.41/images/create?fromImage=" + ref("team/app") + "&tag=v1", "",
                        {{"X-Registry-Auth", "e30="}});
  ASSERT_TRUE(own) << own.error().message;
  EXPECT_EQ(own->status, 200) << own->body;
  EXPECT_EQ(own->body.find("\"error\""), std::string::npos) << own->body;
}

// The real docker CLI (when installed): `docker login` through twinboxd, then `docker pull` with
// the login kept in the client's own DOCKER_CONFIG (twinboxd's config stays empty).
class DockerCliCredentials : public ApiCredentials {
 protected:
  void SetUp() override {
    if (!run_capture({"docker", "--version"})) GTEST_SKIP() << "no docker CLI on PATH";
    ApiCredentials::SetUp();
    client_config = dir + "/client";
    std::filesystem::create_directories(client_config);
    ::setenv("DOCKER_HOST", ("unix://" + dir + "/api.sock").c_str(), 1);
    ::setenv("DOCKER_CONFIG", client_config.c_str(), 1);
    ::unsetenv("DOCKER_API_VERSION");
    ::unsetenv("DOCKER_CONTEXT");
  }
  void TearDown() override {
    ::unsetenv("DOCKER_HOST");
    ::unsetenv("DOCKER_CONFIG");
    ApiCredentials::TearDown();
  }
  ProcessOutput docker(std::vector<std::string> args) {
    args.insert(args.begin(), "docker");
    auto r = run_capture(args);
    EXPECT_TRUE(r) << r.error().message;
    return r ? *r : ProcessOutput{};
  }
  std::string client_config;
};

TEST_F(DockerCliCredentials, LoginThenPullWithTheClientsLogin) {
  reg.require_basic("alice", "right-pw");
  add_image(reg, "team/app", "v1");
  auto before = docker({"pull", ref("team/app:v1")});
  EXPECT_NE(before.exit_code, 0) << before.output;
  EXPECT_NE(before.output.find("docker login " + reg.host()), std::string::npos) << before.output;

  auto bad = docker({"login", "-u", "alice", "-p", "wrong-pw-789", reg.host()});
  EXPECT_NE(bad.exit_code, 0) << bad.output;
  EXPECT_NE(bad.output.find("login attempt to http://" + reg.host() +
                            "/v2/ failed with status: 401 Unauthorized"),
            std::string::npos)
      << bad.output;

  auto ok = docker({"login", "-u", "alice", "-p", "right-pw", reg.host()});
  ASSERT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_NE(ok.output.find("Login Succeeded"), std::string::npos) << ok.output;
  auto stored = fs::read_file(client_config + "/config.json");
  ASSERT_TRUE(stored) << stored.error().message;
  EXPECT_NE(stored->find(reg.host()), std::string::npos) << *stored;
  EXPECT_FALSE(std::filesystem::exists(opts.docker_config_path));  // twinboxd's: untouched

  auto pulled = docker({"pull", ref("team/app:v1")});
  ASSERT_EQ(pulled.exit_code, 0) << pulled.output;
  EXPECT_NE(pulled.output.find("twinbox: pinned " + ref("team/app@sha256:")), std::string::npos)
      << pulled.output;
  EXPECT_EQ(rosetta->count("POST", "/images/load"), 1u);
}

}  // namespace
