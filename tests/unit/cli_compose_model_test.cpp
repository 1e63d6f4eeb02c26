// twinbox compose's pure half: the command line, compose 1.29's project name, and the project
// declaration built from `docker-compose config` (as JSON).
#include <gtest/gtest.h>

#include "cli/compose_model.hpp"

namespace twinbox::cli {
namespace {

using json = nlohmann::json;

TEST(CliComposeArgs, OptionsBeforeTheCommandAreTwinboxsTheRestGoesToCompose) {
  auto a = parse_compose_args({"-f", "a.yml", "--file=b.yml", "-p", "Shop", "--mixed",
                               "--project-directory", "/srv/x", "--env-file", "e.env", "--profile",
                               "dev", "up", "-d", "-p", "not-ours"});
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->files, (std::vector<std::string>{"a.yml", "b.yml"}));
  EXPECT_EQ(a->project_name, "Shop");
  EXPECT_EQ(a->project_directory, "/srv/x");
  EXPECT_EQ(a->env_file, "e.env");
  EXPECT_EQ(a->profiles, (std::vector<std::string>{"dev"}));
  EXPECT_TRUE(a->mixed);
  EXPECT_EQ(a->rest, (std::vector<std::string>{"up", "-d", "-p", "not-ours"}));
  EXPECT_EQ(compose_command(*a), "up");
  EXPECT_EQ(
      compose_global_argv(*a, "shop"),
      (std::vector<std::string>{"-f", "a.yml", "-f", "b.yml", "-p", "shop", "--project-directory",
                                "/srv/x", "--env-file", "e.env", "--profile", "dev"}));
}

TEST(CliComposeArgs, TheDeclaredProjectNameIsAlwaysPassedToCompose) {
  auto a = parse_compose_args({"down", "--volumes"});
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_FALSE(a->mixed);
  EXPECT_EQ(compose_command(*a), "down");
  EXPECT_EQ(compose_global_argv(*a, "app"), (std::vector<std::string>{"-p", "app"}));
}

TEST(CliComposeArgs, BadCommandLines) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {}, {"-f"}, {"-f", "x.yml"}, {"-p"}, {"--mixed"}, {"-f", "-", "up"}, {"up"}}) {
    auto a = parse_compose_args(args);
    if (args == std::vector<std::string>{"up"}) {
      EXPECT_TRUE(a);
    } else {
      EXPECT_FALSE(a) << "accepted: " << args.size() << " args";
    }
  }
  auto stdin_file = parse_compose_args({"-f", "-", "up"});
  ASSERT_FALSE(stdin_file);
  EXPECT_NE(stdin_file.error().message.find("-f FILE"), std::string::npos);
  auto no_cmd = parse_compose_args({"-p", "x", "-d"});  // only options: no compose command
  ASSERT_FALSE(no_cmd);
  EXPECT_NE(no_cmd.error().message.find("compose up"), std::string::npos);
}

TEST(CliComposeProjectName, NormalizedAsCompose129Does) {
  EXPECT_EQ(normalize_project_name("My App.v2"), "myappv2");
  EXPECT_EQ(normalize_project_name("web_app-2"), "web_app-2");
  EXPECT_EQ(normalize_project_name("Ünïcode!"), "ncode");
  EXPECT_EQ(normalize_project_name(""), "");
}

TEST(CliComposeProjectName, FlagThenEnvironmentThenDirectory) {
  EXPECT_EQ(compose_project_name("Flag", "Env", "/home/u/Dir"), "flag");
  EXPECT_EQ(compose_project_name("", "My_Env", "/home/u/Dir"), "my_env");
  EXPECT_EQ(compose_project_name("", "", "/home/u/My Project/"), "myproject");
  EXPECT_EQ(compose_project_name("", "", "/"), "default");
  EXPECT_EQ(compose_project_name("", "", ""), "default");
  // As in compose, a given name that normalizes to nothing stays empty (compose then fails).
  EXPECT_EQ(compose_project_name("!!", "env", "/x"), "");
}

TEST(CliComposeProjectName, EnvFileValues) {
  std::string text =
      "# comment\nOTHER=1\nCOMPOSE_PROJECT_NAME = first\nexport COMPOSE_PROJECT_NAME=\"Quoted "
      "Name\"\n";
  EXPECT_EQ(env_file_value(text, "COMPOSE_PROJECT_NAME"), "Quoted Name");
  EXPECT_EQ(env_file_value("COMPOSE_PROJECT_NAME=plain # trailing\n", "COMPOSE_PROJECT_NAME"),
            "plain");
  EXPECT_EQ(env_file_value("COMPOSE_PROJECT_NAMEX=no\n", "COMPOSE_PROJECT_NAME"), "");
  EXPECT_EQ(env_file_value("", "COMPOSE_PROJECT_NAME"), "");
}

TEST(CliComposeServices, ImagePlatformAndBuildOnly) {
  // What `docker-compose config` prints for a mixed project, converted to JSON.
  std::string cfg = R"({"version":"2.4","services":{
      "web":{"image":"127.0.0.1:5000/twinbox/busybox","command":"sleep 1000"},
      "legacy":{"image":"127.0.0.1:5000/twinbox/busybox-amd64","platform":"linux/amd64"},
      "api":{"build":{"context":"/src/api"}},
      "worker":{"build":{"context":"/src/w","platform":"linux/arm64"},"image":"me/worker:1"}}})";
  auto s = compose_services(cfg, "_shop", "");
  ASSERT_TRUE(s) << s.error().message;
  ASSERT_EQ(s->size(), 4u);
  // Sorted by service name.
  EXPECT_EQ((*s)[0].name, "api");
  EXPECT_EQ((*s)[0].image, "shop_api");  // compose strips the project's leading '_'/'-'
  EXPECT_EQ((*s)[0].platform, "");
  EXPECT_TRUE((*s)[0].built);
  EXPECT_EQ((*s)[1].name, "legacy");
  EXPECT_EQ((*s)[1].platform, "linux/amd64");
  EXPECT_FALSE((*s)[1].built);
  EXPECT_EQ((*s)[2].name, "web");
  EXPECT_EQ((*s)[2].image, "127.0.0.1:5000/twinbox/busybox");
  EXPECT_EQ((*s)[2].platform, "");
  EXPECT_EQ((*s)[3].image, "me/worker:1");
  EXPECT_EQ((*s)[3].platform, "linux/arm64");
  EXPECT_TRUE((*s)[3].built);

  auto req = declare_request(*s, true);
  EXPECT_EQ(req, json::parse(R"({"mixed":true,"services":[
      {"name":"api","image":"shop_api","platform":""},
      {"name":"legacy","image":"127.0.0.1:5000/twinbox/busybox-amd64","platform":"linux/amd64"},
      {"name":"web","image":"127.0.0.1:5000/twinbox/busybox","platform":""},
      {"name":"worker","image":"me/worker:1","platform":"linux/arm64"}]})"));
}

TEST(CliComposeServices, DefaultPlatformFillsOnlyServicesWithoutOne) {
  std::string cfg =
      R"({"services":{"a":{"image":"x"},"b":{"image":"y","platform":"linux/arm64"}}})";
  auto s = compose_services(cfg, "p", "linux/amd64");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ((*s)[0].platform, "linux/amd64");
  EXPECT_EQ((*s)[1].platform, "linux/arm64");
}

TEST(CliComposeServices, BadInputs) {
  for (const char* bad :
       {"", "not json", "[1,2]", "{}", R"({"services":{}})", R"({"services":[]})",
        R"({"services":{"a":"nginx"}})", R"({"services":{"a":{"command":"true"}}})",
        R"({"services":{"a":{"build":null}}})"}) {
    auto s = compose_services(bad, "p", "");
    EXPECT_FALSE(s) << bad;
  }
  auto s = compose_services(R"({"services":{"a":{"command":"true"}}})", "p", "");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message, "service 'a' has neither image nor build");
}

TEST(CliComposeAnswers, DeclarationLineAndDaemonMessages) {
  auto ans = json::parse(R"({"project":"shop","backend":"rosetta",
      "reason":"service legacy is amd64-only","services":[]})");
  EXPECT_EQ(describe_declaration(ans),
            "project shop \u2192 rosetta (service legacy is amd64-only)");
  EXPECT_EQ(describe_declaration(json::parse(R"({"project":"p","backend":"hv"})")),
            "project p \u2192 hv");
  EXPECT_EQ(daemon_message(409, R"({"message":"project p runs on hv"})"), "project p runs on hv");
  EXPECT_EQ(daemon_message(502, "  upstream died\n"), "upstream died");
  EXPECT_EQ(daemon_message(503, ""), "HTTP 503");
  EXPECT_EQ(daemon_message(400, R"({"message":""})"), R"({"message":""})");
}

}  // namespace
}  // namespace twinbox::cli
