#pragma once
// The built `twinbox` binary run against a fake twinboxd: a FakeEngine on a temporary socket
// answers the /twinbox/v1 calls the test scripts, and records the requests as received.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fakes/fake_engine.hpp"
#include "util/fs.hpp"
#include "util/log.hpp"
#include "util/subprocess.hpp"

namespace twinbox::fakes {

// <build>/tests/unit_io_tests → <build>/src/cli/twinbox.
inline std::string twinbox_binary() {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "";
  return (self.parent_path().parent_path() / "src" / "cli" / "twinbox").string();
}

class FakeDaemon : public ::testing::Test {
 protected:
  void SetUp() override {
    log::set_level(log::Level::Warn);
    bin_ = twinbox_binary();
    ASSERT_TRUE(fs::exists(bin_)) << bin_ << " is missing: build the `twinbox` target first";
    char tmpl[] = "/tmp/twinbox-cli-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    daemon_ = std::make_unique<FakeEngine>("twinboxd", socket(), "c3c3");
    ASSERT_TRUE(daemon_->start());
  }

  void TearDown() override {
    if (daemon_) daemon_->stop();
    std::filesystem::remove_all(dir_);
  }

  std::string socket() const { return dir_ + "/daemon.sock"; }

  // `twinbox --socket <fake> args...`; stdout and stderr interleaved.
  ProcessOutput twinbox(std::vector<std::string> args) {
    args.insert(args.begin(), {bin_, "--socket", socket()});
    auto r = run_capture(args);
    EXPECT_TRUE(r) << r.error().message;
    return r ? *r : ProcessOutput{};
  }

  // The same through `sh -c`, for pipes into stdin.
  ProcessOutput shell(const std::string& script) {
    auto r = run_capture({"sh", "-c", script});
    EXPECT_TRUE(r) << r.error().message;
    return r ? *r : ProcessOutput{};
  }

  std::vector<RecordedRequest> requests_to(const std::string& path) const {
    std::vector<RecordedRequest> out;
    for (auto& r : daemon_->requests())
      if (r.path == path) out.push_back(r);
    return out;
  }

  std::string bin_;
  std::string dir_;
  std::unique_ptr<FakeEngine> daemon_;
};

}  // namespace twinbox::fakes
