#pragma once
// A fake registry and a temp dir for a RegistryClient's docker config, for registry client tests.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include "fakes/fake_registry.hpp"
#include "image/base64.hpp"
#include "image/registry_client.hpp"

namespace twinbox::fakes {

class RegistryFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(reg.start().has_value());
    char tmpl[] = "/tmp/twinbox-regtest-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir = tmpl;
    opts.docker_config_path = dir + "/config.json";  // absent unless a test writes it
    opts.initial_backoff = std::chrono::milliseconds(1);
    opts.max_attempts = 4;
  }
  void TearDown() override {
    reg.stop();
    std::filesystem::remove_all(dir);
  }
  // twinboxd's own docker config, with Basic credentials for the fake registry.
  void write_config(const std::string& user, const std::string& pass) {
    std::ofstream(dir + "/config.json") << R"({"auths":{")" << reg.host() << R"(":{"auth":")"
                                        << image::base64_encode(user + ":" + pass) << "\"}}}";
  }
  std::string ref(const std::string& repo_tag) { return reg.host() + "/" + repo_tag; }

  FakeRegistry reg;
  std::string dir;
  image::RegistryOptions opts;
};

}  // namespace twinbox::fakes
