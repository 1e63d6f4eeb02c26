#pragma once
// Two fake engines (hv, rosetta) behind a real ApiServer on a temporary socket.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "api/api_server.hpp"
#include "fakes/fake_backends.hpp"
#include "fakes/fake_engine.hpp"
#include "fakes/test_client.hpp"
#include "util/log.hpp"

namespace twinbox::fakes {

class TwoEngines : public ::testing::Test {
 protected:
  void SetUp() override {
    log::set_level(log::Level::Warn);
    char tmpl[] = "/tmp/twinbox-api-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    if (with_store_) content_store_ = dir_ + "/content";
    hv_ = std::make_unique<FakeEngine>("hv", dir_ + "/hv.sock", "a1a1");
    rosetta_ = std::make_unique<FakeEngine>("rosetta", dir_ + "/rosetta.sock", "b2b2");
    ASSERT_TRUE(hv_->start());
    ASSERT_TRUE(rosetta_->start());
    backends_.add("hv", hv_->socket_path(), api::BackendState::Running);
    backends_.add("rosetta", rosetta_->socket_path(), api::BackendState::Running);
    start_server();
  }

  void TearDown() override {
    if (server_) server_->stop();
    if (hv_) hv_->stop();
    if (rosetta_) rosetta_->stop();
    std::filesystem::remove_all(dir_);
  }

  void start_server() {
    api::ServerOptions o;
    o.socket_path = socket();
    o.registry_path = dir_ + "/workloads.json";
    o.daemon_version = "0.1.0-test";
    o.shutdown_grace = std::chrono::milliseconds(300);
    o.reconcile_on_running = reconcile_;
    o.content_store_path = content_store_;
    server_ = std::make_unique<api::ApiServer>(o, backends_);
    auto st = server_->start();
    ASSERT_TRUE(st) << st.error().message;
  }

  void restart_server() {
    server_->stop();
    server_.reset();
    start_server();
  }

  std::string socket() const { return dir_ + "/api.sock"; }
  // Off by default so tests can count the requests each engine saw.
  bool reconcile_ = false;
  // Set before SetUp: the server gets a host content store at content_store_ (in dir_).
  bool with_store_ = false;
  std::string content_store_;

  TestClient client() {
    auto c = TestClient::connect(socket());
    EXPECT_TRUE(c) << c.error().message;
    return std::move(c).value();
  }

  static nlohmann::json json_of(const TestResponse& r) {
    return nlohmann::json::parse(r.body, nullptr, false);
  }

  // POST /containers/create through twinbox; returns the new id ("" on failure).
  std::string create(TestClient& c, const std::string& query, const std::string& body) {
    auto r = c.request("POST", "/v1.41/containers/create" + query, body);
    EXPECT_TRUE(r) << r.error().message;
    if (!r || r->status != 201) {
      ADD_FAILURE() << "create answered " << (r ? r->status : 0) << ": " << (r ? r->body : "");
      return "";
    }
    return json_of(*r)["Id"].get<std::string>();
  }

  std::string dir_;
  std::unique_ptr<FakeEngine> hv_, rosetta_;
  FakeBackends backends_;
  std::unique_ptr<api::ApiServer> server_;
};

}  // namespace twinbox::fakes
