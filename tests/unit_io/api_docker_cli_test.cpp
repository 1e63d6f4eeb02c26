// The real docker CLI (28.x) against twinbox with fake engines: API version negotiation, and
// both backends visible in `docker info`. Skipped when no docker CLI is installed.
#include <stdlib.h>

#include "unit_io/api_fixture.hpp"
#include "util/subprocess.hpp"

namespace twinbox::fakes {
namespace {

class DockerCli : public TwoEngines {
 protected:
  void SetUp() override {
    if (!run_capture({"docker", "--version"})) GTEST_SKIP() << "no docker CLI on PATH";
    TwoEngines::SetUp();
    ::setenv("DOCKER_HOST", ("unix://" + socket()).c_str(), 1);
    ::setenv("DOCKER_CONFIG", dir_.c_str(), 1);  // no user config, contexts or plugins
    ::unsetenv("DOCKER_API_VERSION");
    ::unsetenv("DOCKER_CONTEXT");
  }
  void TearDown() override {
    ::unsetenv("DOCKER_HOST");
    ::unsetenv("DOCKER_CONFIG");
    TwoEngines::TearDown();
  }

  ProcessOutput docker(std::vector<std::string> args) {
    args.insert(args.begin(), "docker");
    auto r = run_capture(args);
    EXPECT_TRUE(r) << r.error().message;
    return r ? *r : ProcessOutput{};
  }
};

TEST_F(DockerCli, VersionNegotiatesDownTo141) {
  auto out = docker({"version", "--format",
                     "{{.Client.APIVersion}}|{{.Server.APIVersion}}|"
                     "{{.Server.Platform.Name}}|{{.Server.Version}}"});
  ASSERT_EQ(out.exit_code, 0) << out.output;
  EXPECT_EQ(out.output, "1.41|1.41|twinbox dual-stack (hv + rosetta)|20.10.24-hv\n");
  bool versioned = false;
  for (const auto& r : hv_->requests()) versioned = versioned || r.target == "/v1.41/version";
  EXPECT_TRUE(versioned);
}

TEST_F(DockerCli, InfoShowsBothBackendsUnderLabels) {
  backends_.set_state("rosetta", api::BackendState::Starting, "booting");
  auto out = docker({"info"});
  ASSERT_EQ(out.exit_code, 0) << out.output;
  EXPECT_NE(out.output.find("io.twinbox.backend.hv=state=running arch=arm64 "
                            "native=linux/arm64 translated=none accelerator=tcg translator=none"),
            std::string::npos)
      << out.output;
  EXPECT_NE(out.output.find("io.twinbox.backend.rosetta=state=starting arch=arm64 "
                            "native=linux/arm64 translated=linux/amd64 accelerator=tcg "
                            "translator=qemu-x86_64 (binfmt POCF)"),
            std::string::npos)
      << out.output;
  EXPECT_NE(out.output.find("Name: twinbox"), std::string::npos) << out.output;
  EXPECT_NE(out.output.find("twinbox backend rosetta is not running"), std::string::npos)
      << out.output;
}

TEST_F(DockerCli, CreateWithPlatformLandsOnRosetta) {
  auto out = docker({"create", "--platform", "linux/amd64", "--name", "cli-amd", "alpine"});
  ASSERT_EQ(out.exit_code, 0) << out.output;
  auto c = rosetta_->container("cli-amd");
  ASSERT_TRUE(c.has_value());
  EXPECT_NE(c->body.find("\"io.twinbox.backend\":\"rosetta\""), std::string::npos) << c->body;
  auto ps = docker({"ps", "-a", "--format", "{{.Names}} {{.Label \"io.twinbox.backend\"}}"});
  ASSERT_EQ(ps.exit_code, 0) << ps.output;
  EXPECT_NE(ps.output.find("cli-amd"), std::string::npos) << ps.output;
}

}  // namespace
}  // namespace twinbox::fakes
