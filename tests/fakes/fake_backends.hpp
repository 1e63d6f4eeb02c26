#pragma once
// A BackendSet over fake engines, with statuses the test sets.
#include <atomic>
#include <map>
#include <memory>
#include <mutex>

#include "api/backends.hpp"

namespace twinbox::fakes {

class FakeBackends final : public api::BackendSet {
 public:
  void add(const std::string& name, const std::string& socket_path, api::BackendState state) {
    std::lock_guard lock(mu_);
    api::BackendStatus s;
    s.name = name;
    s.state = state;
    s.vm_arch = "arm64";
    s.platform = name == "hv" ? "linux/arm64" : "linux/amd64";
    s.accelerator = "tcg";
    s.translator = name == "hv" ? "none" : "qemu-x86_64 (binfmt F)";
    s.libvirt_uri = "test:///fake";
    statuses_.push_back(s);
    connectors_[name] = std::make_unique<guest::UnixConnector>(socket_path);
  }
  void set_state(const std::string& name, api::BackendState state, std::string detail = "") {
    std::lock_guard lock(mu_);
    for (auto& s : statuses_)
      if (s.name == name) {
        s.state = state;
        s.detail = std::move(detail);
      }
  }
  std::vector<api::BackendStatus> statuses() const override {
    std::lock_guard lock(mu_);
    return statuses_;
  }
  guest::GuestConnector* connector(const std::string& name) override {
    std::lock_guard lock(mu_);
    auto it = connectors_.find(name);
    return it == connectors_.end() ? nullptr : it->second.get();
  }
  void request_shutdown() override { ++shutdown_requests; }

  std::atomic<int> shutdown_requests{0};

 private:
  mutable std::mutex mu_;
  std::vector<api::BackendStatus> statuses_;
  std::map<std::string, std::unique_ptr<guest::UnixConnector>> connectors_;
};

}  // namespace twinbox::fakes
