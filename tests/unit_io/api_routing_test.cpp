// Requests through a real ApiServer reach the right fake engine, unchanged except where twinbox
// means to change them, and the client connection stays alive across backends.
#include "unit_io/api_fixture.hpp"

namespace twinbox::fakes {
namespace {

using nlohmann::json;

TEST_F(TwoEngines, CreateWithAmd64ReachesRosettaWithLabels) {
  auto c = client();
  std::string id = create(c, "?name=amd&platform=linux%2Famd64",
                          R"({"Image":"alpine","Cmd":["uname","-m"],"Labels":{"user":"x"}})");
  ASSERT_EQ(id.rfind("b2b2", 0), 0u) << id;
  EXPECT_EQ(hv_->count("POST", "/containers/create"), 0u);
  auto reqs = rosetta_->requests();
  ASSERT_EQ(reqs.size(), 1u);
  // Forwarded with the client's version prefix and platform query kept.
  EXPECT_EQ(reqs[0].target, "/v1.41/containers/create?name=amd&platform=linux%2Famd64");
  auto body = json::parse(reqs[0].body, nullptr, false);
  EXPECT_EQ(reqs[0].headers.get("Content-Length"), std::to_string(reqs[0].body.size()));
  EXPECT_EQ(body["Cmd"], json::parse(R"(["uname","-m"])"));
  EXPECT_EQ(body["Labels"]["user"], "x");
  EXPECT_EQ(body["Labels"]["io.twinbox.backend"], "rosetta");
  EXPECT_EQ(body["Labels"]["io.twinbox.translator"], "qemu-x86_64 (binfmt POCF)");
  EXPECT_EQ(body["Labels"]["io.twinbox.platform"], "linux/amd64");
  EXPECT_EQ(
      body["Labels"]["io.twinbox.route.reason"],
      "--platform linux/amd64 requested (the image's platforms are unknown): linux/amd64 runs "
      "on rosetta (translated by qemu-x86_64, host profile apple-silicon)");
}

// Labels say native or translated, and name the translator with the flags the guest reported
// (the backend's status), not the profile's.
TEST_F(TwoEngines, LabelsSayNativeOrTranslatedWithTheGuestsFlags) {
  backends_.set_translator("rosetta", "qemu-x86_64 (binfmt PF)");
  auto c = client();
  std::string amd = create(c, "?name=amd&platform=linux/amd64", R"({"Image":"a"})");
  std::string arm = create(c, "?name=arm&platform=linux/arm64",
                           R"({"Image":"a","HostConfig":{"NetworkMode":"container:amd"}})");
  auto reqs = rosetta_->requests();
  ASSERT_EQ(reqs.size(), 2u);
  auto l0 = json::parse(reqs[0].body, nullptr, false)["Labels"];
  EXPECT_EQ(l0["io.twinbox.execution"], "translated");
  EXPECT_EQ(l0["io.twinbox.translator"], "qemu-x86_64 (binfmt PF)");
  auto l1 = json::parse(reqs[1].body, nullptr, false)["Labels"];
  EXPECT_EQ(l1["io.twinbox.backend"], "rosetta");
  EXPECT_EQ(l1["io.twinbox.execution"], "native");
  EXPECT_EQ(l1["io.twinbox.translator"], "none");
  EXPECT_EQ(l1["io.twinbox.platform"], "linux/arm64");
  // route explain names the same translator.
  auto e = c.request("GET", "/twinbox/v1/route/explain?image=a&platform=linux/amd64");
  ASSERT_TRUE(e);
  auto j = json::parse(e->body, nullptr, false);
  EXPECT_EQ(j["execution"], "translated") << e->body;
  EXPECT_EQ(j["translator"], "qemu-x86_64 (binfmt PF)") << e->body;
}

// Issue 18: a ~400 KB create body with PortBindings nested 200 000 levels killed twinboxd (stack
// overflow while the body was rewritten). It is refused as a 400 and nothing reaches an engine.
TEST_F(TwoEngines, ADeeplyNestedCreateBodyIsRefusedAndTheDaemonLives) {
  std::string deep;
  for (int i = 0; i < 200000; ++i) deep += R"({"a":)";
  deep += "1";
  for (int i = 0; i < 200000; ++i) deep += "}";
  auto c = client();
  auto r = c.request("POST", "/v1.41/containers/create?name=deep",
                     R"({"Image":"a","HostConfig":{"PortBindings":)" + deep + "}}");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 400) << r->body.substr(0, 300);
  EXPECT_EQ(hv_->count("POST", "/containers/create"), 0u);
  EXPECT_EQ(rosetta_->count("POST", "/containers/create"), 0u);
  EXPECT_EQ(client().request("GET", "/_ping")->status, 200);
}

TEST_F(TwoEngines, QueryPlatformBeatsBodyPlatform) {
  auto c = client();
  std::string id =
      create(c, "?platform=linux/arm64", R"({"Image":"alpine","platform":"linux/amd64"})");
  EXPECT_EQ(id.rfind("a1a1", 0), 0u) << id;
  EXPECT_EQ(rosetta_->count("POST", "/containers/create"), 0u);
  std::string from_body = create(c, "", R"({"Image":"alpine","platform":"x86_64"})");
  EXPECT_EQ(from_body.rfind("b2b2", 0), 0u) << from_body;
}

TEST_F(TwoEngines, BadPlatformIs400ListingAcceptedForms) {
  auto c = client();
  auto r = c.request("POST", "/v1.41/containers/create?platform=linux/s390x", R"({"Image":"a"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  auto msg = json_of(*r)["message"].get<std::string>();
  EXPECT_NE(msg.find("linux/s390x"), std::string::npos) << msg;
  EXPECT_NE(msg.find("linux/amd64"), std::string::npos) << msg;
  EXPECT_EQ(hv_->requests().size() + rosetta_->requests().size(), 0u);
  // The connection survives the refusal.
  EXPECT_EQ(c.request("GET", "/_ping")->status, 200);
}

TEST_F(TwoEngines, LaterRequestsFollowTheRegistry) {
  auto c = client();
  std::string amd = create(c, "?name=amd&platform=amd64", R"({"Image":"a"})");
  std::string arm = create(c, "?name=arm", R"({"Image":"a"})");
  EXPECT_EQ(c.request("POST", "/v1.41/containers/amd/start")->status, 204);
  EXPECT_EQ(c.request("POST", "/v1.41/containers/" + arm.substr(0, 6) + "/start")->status, 204);
  EXPECT_EQ(c.request("POST", "/v1.41/containers/" + amd + "/wait")->status, 200);
  EXPECT_EQ(rosetta_->count("POST", "/containers/amd/start"), 1u);
  EXPECT_EQ(hv_->count("POST", "/containers/" + arm.substr(0, 6) + "/start"), 1u);
  EXPECT_EQ(rosetta_->count("POST", "/containers/" + amd + "/wait"), 1u);
  EXPECT_EQ(hv_->count("POST", "/containers/amd/start"), 0u);
}

TEST_F(TwoEngines, KeepAliveAcrossBackendsOnOneConnection) {
  auto c = client();
  create(c, "?name=x&platform=linux/amd64", R"({"Image":"a"})");
  create(c, "?name=y", R"({"Image":"a"})");
  for (int i = 0; i < 3; ++i) {
    auto ping = c.request("GET", "/_ping");
    ASSERT_TRUE(ping) << ping.error().message;
    EXPECT_EQ(ping->body, "OK");
    auto x = c.request("GET", "/v1.41/containers/x/json");
    ASSERT_TRUE(x) << x.error().message;
    EXPECT_EQ(x->status, 200);
    auto y = c.request("GET", "/v1.41/containers/y/json");
    ASSERT_TRUE(y) << y.error().message;
    EXPECT_EQ(y->status, 200);
    auto ps = c.request("GET", "/v1.41/containers/json");
    ASSERT_TRUE(ps) << ps.error().message;
    EXPECT_EQ(json_of(*ps).size(), 2u);
  }
  EXPECT_EQ(rosetta_->count("GET", "/containers/x/json"), 3u);
  EXPECT_EQ(hv_->count("GET", "/containers/y/json"), 3u);
}

TEST_F(TwoEngines, ChunkedUploadStreamsThroughUnchanged) {
  auto c = client();
  std::string tarball(300000, 'z');
  for (size_t i = 0; i < tarball.size(); i += 7) tarball[i] = static_cast<char>('a' + i % 26);
  auto r = c.request_chunked("POST", "/v1.41/images/load?quiet=1", tarball, 17);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("hv got 300000 bytes"), std::string::npos) << r->body;
  auto reqs = hv_->requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].body, tarball);
  EXPECT_EQ(reqs[0].headers.get("Transfer-Encoding"), "chunked");
  EXPECT_EQ(c.request("GET", "/_ping")->status, 200);  // framing ended where it should
}

TEST_F(TwoEngines, StreamedResponseArrivesBeforeItEnds) {
  auto c = client();
  create(c, "?name=logger", R"({"Image":"a"})");
  ASSERT_TRUE(
      c.send("GET /v1.41/containers/logger/logs?follow=1&stdout=1 HTTP/1.1\r\n"
             "Host: docker\r\n\r\n"));
  auto head = c.read_head();
  ASSERT_TRUE(head) << head.error().message;
  EXPECT_EQ(head->status, 200);
  // The engine holds the rest of the stream until released: the first line must already be here.
  std::string got;
  while (got.find("line 1") == std::string::npos) {
    auto more = c.read_available();
    ASSERT_TRUE(more) << more.error().message << " after " << got;
    got += *more;
  }
  EXPECT_EQ(got.find("line 2"), std::string::npos);
  hv_->release_stream();
  while (got.find("0\r\n\r\n") == std::string::npos) {
    auto more = c.read_available();
    ASSERT_TRUE(more) << more.error().message;
    got += *more;
  }
  EXPECT_NE(got.find("line 2"), std::string::npos);
  EXPECT_EQ(c.request("GET", "/_ping")->status, 200);  // still alive after the stream
}

TEST_F(TwoEngines, BackendDownIs503WithItsState) {
  backends_.set_state("rosetta", api::BackendState::Starting, "engine not answering yet");
  auto c = client();
  auto r = c.request("POST", "/v1.41/containers/create?platform=linux/amd64", R"({"Image":"a"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(json_of(*r)["message"].get<std::string>().rfind(
                "backend rosetta is not running (state: starting: engine not answering yet)", 0),
            0u)
      << r->body;
  EXPECT_EQ(rosetta_->requests().size(), 0u);
  EXPECT_EQ(c.request("GET", "/_ping")->status, 200);
}

TEST_F(TwoEngines, UnreachableEngineIs503) {
  rosetta_->stop();
  auto c = client();
  auto r = c.request("POST", "/v1.41/images/create?fromImage=alpine&platform=linux/amd64");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_NE(json_of(*r)["message"].get<std::string>().find("backend rosetta"), std::string::npos)
      << r->body;
}

TEST_F(TwoEngines, PullRoutesByPlatform) {
  auto c = client();
  auto r = c.request("POST", "/v1.41/images/create?fromImage=alpine&tag=3&platform=linux/amd64");
  ASSERT_TRUE(r);
  EXPECT_NE(r->body.find("Pulled on rosetta"), std::string::npos) << r->body;
  auto d = c.request("POST", "/v1.41/images/create?fromImage=alpine&tag=3");
  EXPECT_NE(d->body.find("Pulled on hv"), std::string::npos) << d->body;
}

TEST_F(TwoEngines, ImageByNameFallsBackToRosettaOn404) {
  rosetta_->on("GET", "/images/amdonly:1/json", FakeResponse{200, R"({"Id":"sha256:amd"})"});
  auto c = client();
  auto r = c.request("GET", "/v1.41/images/amdonly:1/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(json_of(*r)["Id"], "sha256:amd");
  EXPECT_EQ(hv_->count("GET", "/images/amdonly:1/json"), 1u);
  auto missing = c.request("GET", "/v1.41/images/nowhere/json");
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(rosetta_->count("GET", "/images/nowhere/json"), 1u);
}

TEST_F(TwoEngines, MalformedAndOversizedHeadsAreRefused) {
  auto c = client();
  ASSERT_TRUE(c.send("GET /x\r\n\r\n"));
  auto r = c.read_head();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  auto big = client();
  ASSERT_TRUE(big.send("GET /_ping HTTP/1.1\r\nX-Big: " + std::string(1100000, 'a') + "\r\n\r\n"));
  auto h = big.read_head();
  ASSERT_TRUE(h) << h.error().message;
  EXPECT_EQ(h->status, 431);
}

namespace twinbox::fakes {
namespace {

// The first container of an undeclared compose project places it; a later service that cannot
// run there is refused with the fix, before any engine sees it. rosetta is an arm64 VM: an
// arm64 service follows a project placed there and runs natively.
TEST_F(TwoEngines, FirstContainerPlacesItsComposeProject) {
  auto c = client();
  std::string first = create(c, "?name=shop_db_1&platform=linux/amd64",
                             R"({"Image":"a","Labels":{"com.docker.compose.project":"shop",)"
                             R"("com.docker.compose.service":"db"}})");
  ASSERT_FALSE(first.empty());
  std::string arm = create(c, "?name=shop_web_1&platform=linux/arm64",
                           R"({"Image":"b","Labels":{"com.docker.compose.project":"shop",)"
                           R"("com.docker.compose.service":"web"}})");
  EXPECT_EQ(arm.rfind("b2b2", 0), 0u) << arm;
  EXPECT_EQ(hv_->count("POST", "/containers/create"), 0u);
  std::vector<RecordedRequest> sent;
  for (const auto& q : rosetta_->requests())
    if (q.method == "POST" && q.target.find("/containers/create") != std::string::npos)
      sent.push_back(q);
  ASSERT_EQ(sent.size(), 2u);
  auto labels = json::parse(sent[1].body, nullptr, false)["Labels"];
  EXPECT_EQ(labels["io.twinbox.backend"], "rosetta");
  EXPECT_EQ(labels["io.twinbox.platform"], "linux/arm64");
  EXPECT_EQ(labels["io.twinbox.translator"], "none");
  // Without a platform, a service of the project follows it to rosetta.
  std::string web = create(c, "?name=shop_cache_1",
                           R"({"Image":"c","Labels":{"com.docker.compose.project":"shop"}})");
  EXPECT_EQ(web.rfind("b2b2", 0), 0u) << web;

  // A project its first container put on hv refuses an amd64 service: hv translates nothing.
  create(c, "?name=blog_web_1&platform=linux/arm64",
         R"({"Image":"b","Labels":{"com.docker.compose.project":"blog"}})");
  auto r = c.request("POST", "/v1.41/containers/create?name=blog_db_1&platform=linux/amd64",
                     R"({"Image":"a","Labels":{"com.docker.compose.project":"blog"}})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 409) << r->body;
  EXPECT_NE(r->body.find("cannot join compose project blog on hv"), std::string::npos) << r->body;
  EXPECT_NE(r->body.find("twinbox compose"), std::string::npos) << r->body;
  EXPECT_EQ(rosetta_->count("POST", "/containers/create"), 3u);
}

// A link to a container the workload registry does not know by that name (its engine named
// it: `docker run` without --name) is asked of the engines, as other references are, and the
// new container follows it. A link to a container no engine has is dockerd's 400, not a 404
// that would send the docker CLI pulling the image.
TEST_F(TwoEngines, LinksToEngineNamedContainersAreLookedUpAndMissingOnesAre400) {
  auto c = client();
  rosetta_->add_container("quirky_turing");  // named by rosetta's engine
  create(c, "", R"({"Image":"a","HostConfig":{"Links":["quirky_turing:db"]}})");
  EXPECT_EQ(rosetta_->count("POST", "/containers/create"), 1u);
  EXPECT_EQ(hv_->count("POST", "/containers/create"), 0u);
  EXPECT_EQ(rosetta_->count("GET", "/containers/quirky_turing/json"), 1u);
  // Learnt: the next reference to it needs no engine.
  create(c, "", R"({"Image":"a","HostConfig":{"VolumesFrom":["quirky_turing"]}})");
  EXPECT_EQ(rosetta_->count("GET", "/containers/quirky_turing/json"), 1u);
  EXPECT_EQ(rosetta_->count("POST", "/containers/create"), 2u);

  auto r = c.request("POST", "/v1.41/containers/create",
                     R"({"Image":"a","HostConfig":{"Links":["nobody_here:db"]}})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400) << r->body;
  EXPECT_NE(r->body.find("could not get container for nobody_here: No such container: "
                         "nobody_here"),
            std::string::npos)
      << r->body;
  auto v = c.request("POST", "/v1.41/containers/create",
                     R"({"Image":"a","HostConfig":{"VolumesFrom":["nobody_here"]}})");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->status, 404) << v->body;
  EXPECT_NE(v->body.find("No such container: nobody_here"), std::string::npos) << v->body;
  EXPECT_EQ(
      hv_->count("POST", "/containers/create") + rosetta_->count("POST", "/containers/create"), 2u);
}

}  // namespace
}  // namespace twinbox::fakes

TEST_F(TwoEngines, ANameHeldOnTheOtherBackendIsRefusedLikeDockerdDoes) {
  auto c = client();
  std::string web = create(c, "?name=web", R"({"Image":"a"})");  // hv
  auto r = c.request("POST", "/v1.41/containers/create?name=web&platform=linux/amd64",
                     R"({"Image":"a"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 409) << r->body;
  EXPECT_NE(r->body.find("Conflict. The container name \\\"/web\\\" is already in use by container "
                         "\\\"" +
                         web + "\\\" (on hv)"),
            std::string::npos)
      << r->body;
  EXPECT_EQ(rosetta_->count("POST", "/containers/create"), 0u);
  // A rename on rosetta to a name hv holds is refused the same way.
  create(c, "?name=other&platform=linux/amd64", R"({"Image":"a"})");
  auto renamed = c.request("POST", "/v1.41/containers/other/rename?name=web");
  ASSERT_TRUE(renamed);
  EXPECT_EQ(renamed->status, 409) << renamed->body;
  EXPECT_EQ(rosetta_->count("POST", "/containers/other/rename"), 0u);
  // Once hv's engine no longer has it (removed behind twinbox's back), the name is free again.
  auto direct = TestClient::connect(hv_->socket_path());
  ASSERT_TRUE(direct);
  ASSERT_EQ(direct->request("DELETE", "/v1.41/containers/" + web)->status, 204);
  create(c, "?name=web&platform=linux/amd64", R"({"Image":"a"})");
  EXPECT_EQ(rosetta_->count("POST", "/containers/create"), 2u);
}

}  // namespace
}  // namespace twinbox::fakes
