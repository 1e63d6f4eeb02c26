// Create-body rewriting, the body platform field, and the responses twinboxd writes itself.
#include <gtest/gtest.h>

#include "api/docker_json.hpp"
#include "api/responses.hpp"

using namespace twinbox::api;

namespace {

TEST(CreateBodyPlatform, ReadsEitherSpelling) {
  EXPECT_EQ(create_body_platform(R"({"Image":"a","platform":"linux/amd64"})"), "linux/amd64");
  EXPECT_EQ(create_body_platform(R"({"Image":"a","Platform":"arm64"})"), "arm64");
  EXPECT_FALSE(create_body_platform(R"({"Image":"a"})").has_value());
  EXPECT_FALSE(create_body_platform(R"({"platform":{"os":"linux"}})").has_value());
  EXPECT_FALSE(create_body_platform("not json").has_value());
  EXPECT_FALSE(create_body_platform("").has_value());
}

const Labels kLabels =
    routing_labels("rosetta", "translated", "qemu-x86_64 (binfmt POCF)", "linux/amd64",
                   "--platform linux/amd64 requested: amd64 runs on rosetta");

TEST(AddCreateLabels, Table) {
  struct Case {
    const char* name;
    std::string body;
    bool ok;
    std::string user_label;  // a label of the client's that must survive ("" none)
  };
  std::vector<Case> cases = {
      {"no_labels", R"({"Image":"alpine","Cmd":["uname","-m"]})", true, ""},
      {"null_labels", R"({"Image":"alpine","Labels":null})", true, ""},
      {"user_labels", R"({"Image":"alpine","Labels":{"com.example":"x"}})", true, "com.example"},
      {"spoofed", R"({"Image":"alpine","Labels":{"io.twinbox.backend":"hv"}})", true, ""},
      {"empty_body", "", true, ""},
      {"labels_list", R"({"Image":"alpine","Labels":["a=b"]})", false, ""},
      {"array_body", R"([1,2])", false, ""},
      {"garbage", R"({"Image":)", false, ""},
  };
  for (const auto& c : cases) {
    auto out = add_create_labels(c.body, kLabels);
    ASSERT_EQ(out.has_value(), c.ok) << c.name;
    if (!c.ok) {
      EXPECT_EQ(out.error().code, twinbox::ErrorCode::InvalidArgument) << c.name;
      continue;
    }
    auto j = Json::parse(*out, nullptr, false);
    ASSERT_TRUE(j.is_object()) << c.name;
    const auto& l = j["Labels"];
    EXPECT_EQ(l["io.twinbox.backend"], "rosetta") << c.name;
    EXPECT_EQ(l["io.twinbox.translator"], "qemu-x86_64 (binfmt POCF)") << c.name;
    EXPECT_EQ(l["io.twinbox.execution"], "translated") << c.name;
    EXPECT_EQ(l["io.twinbox.platform"], "linux/amd64") << c.name;
    EXPECT_EQ(l["io.twinbox.route.reason"],
              "--platform linux/amd64 requested: amd64 runs on rosetta")
        << c.name;
    if (!c.user_label.empty()) {
      EXPECT_EQ(l[c.user_label], "x") << c.name;
    }
  }
}

TEST(AddCreateLabels, KeepsTheClientsFieldsAndOrder) {
  auto out =
      add_create_labels(R"({"Image":"alpine","Cmd":["sh"],"HostConfig":{"Memory":1}})", kLabels);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->rfind(R"({"Image":"alpine","Cmd":["sh"],"HostConfig":{"Memory":1},"Labels":{)", 0),
            0u)
      << *out;
}

// --host-access: containers get host.docker.internal unless the user mapped the name already.
TEST(AddExtraHost, AddsHostDockerInternalUnlessMapped) {
  const char* kName = "host.docker.internal";
  struct Case {
    std::string body;
    std::string want;  // "" = unchanged
  } cases[] = {
      {R"({"Image":"a"})",
       R"({"Image":"a","HostConfig":{"ExtraHosts":["host.docker.internal:10.0.2.2"]}})"},
      {"", R"({"HostConfig":{"ExtraHosts":["host.docker.internal:10.0.2.2"]}})"},
      {R"({"HostConfig":null})",
       R"({"HostConfig":{"ExtraHosts":["host.docker.internal:10.0.2.2"]}})"},
      {R"({"HostConfig":{"Memory":1,"ExtraHosts":null}})",
       R"({"HostConfig":{"Memory":1,"ExtraHosts":["host.docker.internal:10.0.2.2"]}})"},
      {R"({"HostConfig":{"ExtraHosts":["db:10.1.1.1"]}})",
       R"({"HostConfig":{"ExtraHosts":["db:10.1.1.1","host.docker.internal:10.0.2.2"]}})"},
      // The user's own mapping wins (both spellings docker accepts).
      {R"({"HostConfig":{"ExtraHosts":["host.docker.internal:192.168.1.5"]}})", ""},
      {R"({"HostConfig":{"ExtraHosts":["host.docker.internal=192.168.1.5"]}})", ""},
      // A longer name that starts the same is another host.
      {R"({"HostConfig":{"ExtraHosts":["host.docker.internal.x:1.2.3.4"]}})",
       R"({"HostConfig":{"ExtraHosts":["host.docker.internal.x:1.2.3.4","host.docker.internal:10.0.2.2"]}})"},
  };
  for (const auto& c : cases) {
    auto out = add_extra_host(c.body, kName, "10.0.2.2");
    ASSERT_TRUE(out) << c.body << ": " << out.error().message;
    EXPECT_EQ(*out, c.want.empty() ? c.body : c.want) << c.body;
  }
  for (const char* bad : {R"({"HostConfig":[]})", R"({"HostConfig":{"ExtraHosts":"h:1"}})", "[]"}) {
    auto out = add_extra_host(bad, kName, "10.0.2.2");
    ASSERT_FALSE(out) << bad;
    EXPECT_EQ(out.error().code, twinbox::ErrorCode::InvalidArgument);
  }
}

TEST(RoutingLabels, EmptyTranslatorReadsNoneAndEmptyExecutionNative) {
  auto l = routing_labels("hv", "", "", "linux/arm64", "r");
  ASSERT_EQ(l.size(), 5u);
  EXPECT_EQ(l[1], (std::pair<std::string, std::string>{"io.twinbox.execution", "native"}));
  EXPECT_EQ(l[2], (std::pair<std::string, std::string>{"io.twinbox.translator", "none"}));
}

TEST(ErrorBody, IsDockersShape) {
  auto j = Json::parse(error_body("backend \"rosetta\" is down"), nullptr, false);
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j.size(), 1u);
  EXPECT_EQ(j["message"], "backend \"rosetta\" is down");
  // invalid UTF-8 never throws
  EXPECT_NE(error_body("bad \xff byte").find("bad"), std::string::npos);
}

TEST(Responses, PingHasDockersHeaders) {
  auto bytes = response_bytes(ping_response(), false, false, "0.1.0");
  for (const char* h :
       {"HTTP/1.1 200 OK\r\n", "Api-Version: 1.41\r\n", "Docker-Experimental: false\r\n",
        "Ostype: linux\r\n", "Builder-Version: 1\r\n",
        "Cache-Control: no-cache, no-store, must-revalidate\r\n", "Pragma: no-cache\r\n",
        "Content-Length: 2\r\n"})
    EXPECT_NE(bytes.find(h), std::string::npos) << h;
  EXPECT_EQ(bytes.substr(bytes.size() - 6), "\r\n\r\nOK");
  EXPECT_EQ(bytes.find("Connection: close"), std::string::npos);
}

TEST(Responses, HeadGetsHeadersWithoutBody) {
  auto bytes = response_bytes(ping_response(), true, true, "0.1.0");
  EXPECT_NE(bytes.find("Content-Length: 2\r\n"), std::string::npos);
  EXPECT_NE(bytes.find("Connection: close\r\n"), std::string::npos);
  EXPECT_EQ(bytes.substr(bytes.size() - 4), "\r\n\r\n");
}

TEST(Responses, ErrorStatusFollowsTheCode) {
  using twinbox::ErrorCode;
  struct Case {
    ErrorCode code;
    const char* line;
  };
  for (auto c :
       {Case{ErrorCode::InvalidArgument, "HTTP/1.1 400 "},
        Case{ErrorCode::NotFound, "HTTP/1.1 404 "}, Case{ErrorCode::Conflict, "HTTP/1.1 409 "},
        Case{ErrorCode::Unavailable, "HTTP/1.1 503 "},
        Case{ErrorCode::Internal, "HTTP/1.1 500 "}}) {
    auto bytes = response_bytes(error_response(twinbox::Error{c.code, "m"}), false, false, "v");
    EXPECT_EQ(bytes.rfind(c.line, 0), 0u) << bytes;
    EXPECT_NE(bytes.find("Content-Type: application/json"), std::string::npos);
    EXPECT_NE(bytes.find(R"({"message":"m"})"), std::string::npos);
  }
}

}  // namespace

namespace twinbox::api {
namespace {

TEST(CreateFacts, ReadsImageProjectAndPorts) {
  auto f = parse_create_facts(R"({"Image":"web:1","platform":"linux/amd64",
    "Labels":{"com.docker.compose.project":"shop","com.docker.compose.service":"web"},
    "HostConfig":{"NetworkMode":"container:db","PidMode":"host","IpcMode":"container:cache",
      "VolumesFrom":["data:ro"],"Links":["/redis:cache"],
      "PortBindings":{"80/tcp":[{"HostIp":"","HostPort":"8080"}],"53/udp":[{"HostPort":""}]}}})");
  ASSERT_TRUE(f.has_value()) << f.error().message;
  EXPECT_EQ(f->image, "web:1");
  EXPECT_EQ(f->platform, "linux/amd64");
  EXPECT_EQ(f->project, "shop");
  EXPECT_EQ(f->service, "web");
  ASSERT_EQ(f->ports.size(), 2u);
  EXPECT_EQ(f->ports[1].host_port, 8080);
  EXPECT_EQ(f->ports[1].container_port, 80);
  EXPECT_EQ(f->ports[0].proto, "udp");
  EXPECT_EQ(f->ports[0].host_port, 0);
}

TEST(CreateFacts, BadInputNamesTheField) {
  EXPECT_FALSE(parse_create_facts("[1]").has_value());
  auto bad = parse_create_facts(R"({"HostConfig":{"PortBindings":{"http/tcp":[]}}})");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find("PortBindings"), std::string::npos) << bad.error().message;
  EXPECT_TRUE(parse_create_facts("").has_value());  // docker accepts an empty body; so do we
}

TEST(PublishedPorts, RewriteBindsAllGuestInterfacesOnTheAssignedPort) {
  router::PortReservation a{{"127.0.0.1", 8080, 80, "tcp"}, {"hv", "id", ""}};
  router::PortReservation b{{"0.0.0.0", 49152, 80, "tcp"}, {"hv", "id", ""}};
  auto out = rewrite_port_bindings(R"({"Image":"x","HostConfig":{"PortBindings":{}}})", {a, b});
  ASSERT_TRUE(out.has_value());
  auto j = Json::parse(*out);
  EXPECT_EQ(j["HostConfig"]["PortBindings"]["80/tcp"].size(), 2u);
  EXPECT_EQ(j["HostConfig"]["PortBindings"]["80/tcp"][1]["HostPort"], "49152");
  EXPECT_EQ(j["HostConfig"]["PortBindings"]["80/tcp"][0]["HostIp"], "");
  EXPECT_EQ(j["Image"], "x");
}

TEST(PublishedPorts, LabelRoundTripsIncludingIpv6) {
  router::PortReservation a{{"127.0.0.1", 8080, 80, "tcp"}, {}};
  router::PortReservation b{{"::1", 5353, 53, "udp"}, {}};
  std::string label = published_label({a, b});
  EXPECT_EQ(label, "tcp:127.0.0.1:8080:80,udp:::1:5353:53");
  auto back = parse_published_label(label + ",garbage,tcp:x");
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[1].host_ip, "::1");
  EXPECT_EQ(back[1].host_port, 5353);
  EXPECT_EQ(back[1].container_port, 53);
  EXPECT_EQ(back[0].proto, "tcp");
}

// Issue 19: `-p 127.0.0.1:4599:1111` showed HostIp "" and 0.0.0.0/:: (what the guest bound).
TEST(PublishedPorts, InspectShowsWhatWasAskedAndWhatTheHostBinds) {
  std::string asked = asked_ports_label(
      R"({"HostConfig":{"PortBindings":{"1111/tcp":[{"HostIp":"127.0.0.1","HostPort":"4599"}],
                                         "53/udp":[{"HostIp":"","HostPort":""}]}}})");
  EXPECT_EQ(asked, R"({"1111/tcp":[{"HostIp":"127.0.0.1","HostPort":"4599"}],)"
                   R"("53/udp":[{"HostIp":"","HostPort":""}]})");
  EXPECT_EQ(asked_ports_label(R"({"Image":"x"})"), "{}");
  // What dockerd 20.10 in the guest answers for the rewritten create.
  Json inspect = Json::parse(R"({"Id":"c1",
    "HostConfig":{"PortBindings":{"1111/tcp":[{"HostIp":"","HostPort":"4599"}],
                                  "53/udp":[{"HostIp":"","HostPort":"49152"}]}},
    "Config":{"Labels":{"io.twinbox.published":"tcp:127.0.0.1:4599:1111,udp:127.0.0.1:49152:53",
                        "io.twinbox.port-bindings":)" +
                             Json(asked).dump() + R"(}},
    "NetworkSettings":{"Ports":{
      "1111/tcp":[{"HostIp":"0.0.0.0","HostPort":"4599"},{"HostIp":"::","HostPort":"4599"}],
      "53/udp":[{"HostIp":"0.0.0.0","HostPort":"49152"},{"HostIp":"::","HostPort":"49152"}],
      "9000/tcp":null}}})");
  show_host_ports_in_inspect(inspect);
  EXPECT_EQ(inspect["HostConfig"]["PortBindings"], Json::parse(asked));
  EXPECT_EQ(inspect["NetworkSettings"]["Ports"]["1111/tcp"],
            Json::parse(R"([{"HostIp":"127.0.0.1","HostPort":"4599"}])"));
  EXPECT_EQ(inspect["NetworkSettings"]["Ports"]["53/udp"],
            Json::parse(R"([{"HostIp":"127.0.0.1","HostPort":"49152"}])"));
  EXPECT_TRUE(inspect["NetworkSettings"]["Ports"]["9000/tcp"].is_null());  // exposed only

  // A container without twinbox's labels (made behind its back) is left as the engine said.
  Json other = Json::parse(R"({"Config":{"Labels":{}},"NetworkSettings":{"Ports":{
      "80/tcp":[{"HostIp":"0.0.0.0","HostPort":"80"}]}}})");
  Json before = other;
  show_host_ports_in_inspect(other);
  EXPECT_EQ(other, before);
  Json odd = Json::parse(R"({"Config":{"Labels":{"io.twinbox.port-bindings":"not json"}},
                             "HostConfig":{"PortBindings":{}},"NetworkSettings":null})");
  show_host_ports_in_inspect(odd);
  EXPECT_EQ(odd["HostConfig"]["PortBindings"], Json::object());
}

TEST(PublishedPorts, ListingShowsOneEntryPerForwardWithItsHostAddress) {
  Json c = Json::parse(R"({"Id":"c1","Labels":{"io.twinbox.published":"tcp:127.0.0.1:4599:1111"},
    "Ports":[{"IP":"0.0.0.0","PrivatePort":1111,"PublicPort":4599,"Type":"tcp"},
             {"IP":"::","PrivatePort":1111,"PublicPort":4599,"Type":"tcp"},
             {"PrivatePort":9000,"Type":"tcp"}]})");
  show_host_ports_in_listing(c);
  EXPECT_EQ(c["Ports"], Json::parse(R"([{"PrivatePort":9000,"Type":"tcp"},
    {"IP":"127.0.0.1","PrivatePort":1111,"PublicPort":4599,"Type":"tcp"}])"));
  // Stopped: the engine lists no bound port, and neither does twinbox.
  Json stopped = Json::parse(R"({"Labels":{"io.twinbox.published":"tcp:127.0.0.1:4599:1111"},
                                 "Ports":[]})");
  show_host_ports_in_listing(stopped);
  EXPECT_EQ(stopped["Ports"], Json::array());
}

TEST(ImageInspectPlatform, OsArchAndVariantAsDockerShowsThem) {
  EXPECT_EQ(image_inspect_platform(Json::parse(R"({"Os":"linux","Architecture":"arm64",
                                                   "Variant":"v8"})")),
            "linux/arm64/v8");
  EXPECT_EQ(image_inspect_platform(Json::parse(R"({"Architecture":"amd64"})")), "linux/amd64");
  EXPECT_EQ(image_inspect_platform(Json::parse(R"({"Os":"linux","Architecture":""})")),
            std::nullopt);
  EXPECT_EQ(image_inspect_platform(Json::parse("[]")), std::nullopt);
}

}  // namespace
}  // namespace twinbox::api

TEST(BindSources, ReadFromBindsWithAbsoluteSourcesAndBindMounts) {
  auto f = parse_create_facts(R"({"Image":"busybox","HostConfig":{
    "Binds":["/tmp/src:/src:ro","named:/data","/home/me/x:/x",7],
    "Mounts":[{"Type":"bind","Source":"/srv/conf","Target":"/etc/app"},
              {"Type":"volume","Source":"vol","Target":"/v"},
              {"Type":"tmpfs","Target":"/t"}]}})");
  ASSERT_TRUE(f) << f.error().message;
  ASSERT_EQ(f->binds.size(), 3U);
  EXPECT_EQ(f->binds[0].path, "/tmp/src");
  EXPECT_FALSE(f->binds[0].from_mounts);
  EXPECT_EQ(f->binds[1].path, "/home/me/x");
  EXPECT_EQ(f->binds[2].path, "/srv/conf");
  EXPECT_TRUE(f->binds[2].from_mounts);
}

namespace {
std::string no_symlinks(const std::string& p) { return p; }
}  // namespace

TEST(BindSources, InsideASharePasses) {
  std::vector<std::string> shared = {"/home/me", "/tmp"};
  EXPECT_TRUE(
      check_bind_sources({{"/tmp/a/b", false}, {"/home/me", true}}, shared, {}, no_symlinks));
  // A missing source under a share is the engine's to create (-v) or refuse (--mount).
  EXPECT_TRUE(check_bind_sources({{"/tmp/not/yet", false}}, shared, {},
                                 [](const std::string&) { return std::string(); }));
}

TEST(BindSources, OutsideEveryShareIsRefusedNamingThePathAndTheFix) {
  std::vector<std::string> shared = {"/home/me", "/tmp"};
  auto st = check_bind_sources({{"/tmp/ok", false}, {"/srv/app", false}}, shared, {}, no_symlinks);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, twinbox::ErrorCode::InvalidArgument);
  EXPECT_NE(st.error().message.find("Mounts denied: the path /srv/app is not shared"),
            std::string::npos);
  EXPECT_NE(st.error().message.find("(shared: /home/me, /tmp)"), std::string::npos);
  EXPECT_NE(st.error().message.find("--share /srv/app"), std::string::npos);
  // "/tmpx" is not in "/tmp"; ".." cannot climb out.
  EXPECT_FALSE(check_bind_sources({{"/tmpx", false}}, shared, {}, no_symlinks));
  EXPECT_FALSE(check_bind_sources({{"/tmp/../etc", true}}, shared, {}, no_symlinks));
  // No shares: every host path is refused.
  EXPECT_FALSE(check_bind_sources({{"/tmp/a", false}}, {}, {}, no_symlinks));
}

TEST(BindSources, ASymlinkLeadingOutOfTheSharesIsRefused) {
  std::vector<std::string> shared = {"/tmp"};
  auto st = check_bind_sources({{"/tmp/link", false}}, shared, {},
                               [](const std::string&) { return std::string("/etc/secret"); });
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("/tmp/link leads to /etc/secret"), std::string::npos);
  EXPECT_TRUE(check_bind_sources({{"/tmp/link", false}}, shared, {},
                                 [](const std::string&) { return std::string("/tmp/target"); }));
}

TEST(BindSources, TwinboxsOwnStateIsRefusedThoughShared) {
  std::vector<std::string> shared = {"/home/me"};
  std::vector<std::string> state = {"/home/me/.local/state/twinbox"};
  auto st =
      check_bind_sources({{"/home/me/.local/state/twinbox/hv", false}}, shared, state, no_symlinks);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, twinbox::ErrorCode::InvalidArgument);
  EXPECT_NE(st.error().message.find("is inside /home/me/.local/state/twinbox, twinbox's own state"),
            std::string::npos)
      << st.error().message;
  // Through a symlink too; the home above it and a sibling stay mountable.
  EXPECT_FALSE(check_bind_sources({{"/home/me/s", false}}, shared, state, [](const std::string&) {
    return std::string("/home/me/.local/state/twinbox");
  }));
  EXPECT_TRUE(check_bind_sources({{"/home/me", false}, {"/home/me/.local/state/other", false}},
                                 shared, state, no_symlinks));
}

TEST(BindSources, TheVmsOwnPathsAndRelativeSources) {
  EXPECT_TRUE(check_bind_sources(
      {{"/var/run/docker.sock", false}, {"/proc", true}, {"/sys/fs/cgroup", false}}, {}, {},
      no_symlinks));
  EXPECT_FALSE(check_bind_sources({{"/var/run/other.sock", false}}, {}, {}, no_symlinks));
  auto rel = check_bind_sources({{"relative/dir", true}}, {"/tmp"}, {}, no_symlinks);
  ASSERT_FALSE(rel);
  EXPECT_NE(rel.error().message.find("must be absolute"), std::string::npos);
}
