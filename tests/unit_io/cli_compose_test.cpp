// `twinbox compose ...` (the real binary) against a fake twinboxd, with a fake docker-compose
// ($TWINBOX_COMPOSE) that prints a YAML config for `config` and logs every other call. The
// YAML → JSON step runs the real python3 + PyYAML.
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "unit_io/cli_fixture.hpp"

namespace twinbox::fakes {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

class CliCompose : public FakeDaemon {
 protected:
  void SetUp() override {
    FakeDaemon::SetUp();
    if (HasFatalFailure()) return;
    auto py = run_capture({"python3", "-c", "import yaml"});
    if (!py || py->exit_code != 0) GTEST_SKIP() << "python3 with PyYAML is not installed";
    log_ = dir_ + "/compose.log";
    std::string fake = dir_ + "/fake-compose";
    std::ofstream(fake) << "#!/bin/sh\n"
                           "echo \"ARGS $*\" >> '"
                        << log_
                        << "'\n"
                           "case \" $* \" in\n"
                           "  *' config '*) cat <<'EOF'\n"
                           "services:\n"
                           "  legacy:\n"
                           "    image: 127.0.0.1:5000/twinbox/busybox-amd64\n"
                           "    platform: linux/amd64\n"
                           "  web:\n"
                           "    image: 127.0.0.1:5000/twinbox/busybox\n"
                           "    command: sleep 1000\n"
                           "  api:\n"
                           "    build:\n"
                           "      context: /src/api\n"
                           "version: '2.4'\n"
                           "EOF\n"
                           "  ;;\n"
                           "  *) echo \"DOCKER_HOST $DOCKER_HOST\" >> '"
                        << log_
                        << "'\n"
                           "     exit ${FAKE_COMPOSE_EXIT:-0} ;;\n"
                           "esac\n";
    ::chmod(fake.c_str(), 0755);
    ::setenv("TWINBOX_COMPOSE", fake.c_str(), 1);
    ::unsetenv("COMPOSE_PROJECT_NAME");
    ::unsetenv("COMPOSE_FILE");
    ::unsetenv("DOCKER_DEFAULT_PLATFORM");
    ::unsetenv("FAKE_COMPOSE_EXIT");
  }
  void TearDown() override {
    ::unsetenv("TWINBOX_COMPOSE");
    ::unsetenv("FAKE_COMPOSE_EXIT");
    FakeDaemon::TearDown();
  }

  std::string log_;
};

TEST_F(CliCompose, DeclaresThenRunsComposeAgainstTwinboxd) {
  daemon_->on("POST", "/twinbox/v1/projects/shop", {200, R"({"project":"shop","backend":"rosetta",
                        "reason":"service legacy is pinned to linux/amd64","services":[]})"});
  auto out = twinbox({"compose", "-p", "Shop", "-f", dir_ + "/dc.yml", "up", "-d"});
  ASSERT_EQ(out.exit_code, 0) << out.output;
  EXPECT_EQ(out.output,
            "twinbox: project shop \u2192 rosetta (service legacy is pinned to linux/amd64)\n");
  auto reqs = requests_to("/twinbox/v1/projects/shop");
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].headers.get("Content-Type").value_or(""), "application/json");
  EXPECT_EQ(nlohmann::json::parse(reqs[0].body), nlohmann::json::parse(R"({"mixed":false,
      "services":[{"name":"api","image":"shop_api","platform":""},
        {"name":"legacy","image":"127.0.0.1:5000/twinbox/busybox-amd64","platform":"linux/amd64"},
        {"name":"web","image":"127.0.0.1:5000/twinbox/busybox","platform":""}]})"));
  // config first (with the declared name), then the user's command against twinboxd's socket.
  EXPECT_EQ(slurp(log_), "ARGS -f " + dir_ +
                             "/dc.yml -p shop config\n"
                             "ARGS -f " +
                             dir_ +
                             "/dc.yml -p shop up -d\n"
                             "DOCKER_HOST unix://" +
                             socket() + "\n");
}

TEST_F(CliCompose, ARefusedDeclarationStopsBeforeCompose) {
  daemon_->on("POST", "/twinbox/v1/projects/myapp",
              {409, R"({"message":"project myapp already runs on hv (container web); )"
                    R"(run twinbox compose down first"})"});
  std::filesystem::create_directories(dir_ + "/My.App");
  auto out = twinbox({"compose", "--project-directory", dir_ + "/My.App", "--mixed", "up"});
  EXPECT_EQ(out.exit_code, 1);
  EXPECT_EQ(out.output,
            "twinbox: declaring project myapp: project myapp already runs on hv "
            "(container web); run twinbox compose down first\n")
      << "(the name comes from the directory, normalized as compose 1.29 does)";
  auto reqs = requests_to("/twinbox/v1/projects/myapp");
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(reqs[0].body).value("mixed", false), true);
  EXPECT_EQ(slurp(log_), "ARGS -p myapp --project-directory " + dir_ + "/My.App config\n");
}

TEST_F(CliCompose, DownForgetsTheDeclarationOnlyWhenComposeSucceeded) {
  daemon_->on("DELETE", "/twinbox/v1/projects/shop", {204, ""});
  ::setenv("FAKE_COMPOSE_EXIT", "3", 1);
  auto failed = twinbox({"compose", "-p", "shop", "down"});
  EXPECT_EQ(failed.exit_code, 3);
  EXPECT_TRUE(requests_to("/twinbox/v1/projects/shop").empty());

  ::setenv("FAKE_COMPOSE_EXIT", "0", 1);
  auto out = twinbox({"compose", "-p", "shop", "down", "-v"});
  ASSERT_EQ(out.exit_code, 0) << out.output;
  auto reqs = requests_to("/twinbox/v1/projects/shop");
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "DELETE");
  // down never reads the file nor declares: a changed file must not block tearing down.
  EXPECT_EQ(slurp(log_), "ARGS -p shop down\nDOCKER_HOST unix://" + socket() +
                             "\nARGS -p shop down -v\nDOCKER_HOST unix://" + socket() + "\n");
}

TEST_F(CliCompose, UsageErrorsExit2WithoutRunningAnything) {
  EXPECT_EQ(twinbox({"compose"}).exit_code, 2);
  EXPECT_EQ(twinbox({"compose", "-p"}).exit_code, 2);
  EXPECT_EQ(twinbox({"compose", "-f", "-", "up"}).exit_code, 2);
  EXPECT_EQ(twinbox({"compose", "-p", "!!!", "up"}).exit_code, 2);
  EXPECT_TRUE(daemon_->requests().empty());
  EXPECT_FALSE(fs::exists(log_));
}

}  // namespace
}  // namespace twinbox::fakes
