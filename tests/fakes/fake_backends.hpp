#pragma once
// A BackendSet over fake engines, with statuses the test sets.
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>

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
    s.native = "linux/arm64";
    s.translated = name == "hv" ? "" : "linux/amd64";
    s.accelerator = "tcg";
    s.translator = name == "hv" ? "none" : "qemu-x86_64 (binfmt POCF)";
    s.libvirt_uri = "test:///fake";
    statuses_.push_back(s);
    connectors_[name] = std::make_unique<guest::UnixConnector>(socket_path);
  }
  // The translator label as the daemon builds it from the flags the guest read back.
  void set_translator(const std::string& name, std::string label) {
    std::lock_guard lock(mu_);
    for (auto& s : statuses_)
      if (s.name == name) s.translator = std::move(label);
  }
  // What the engine's /_ping said (the daemon reads it once the engine answers).
  void set_engine(const std::string& name, std::string version, std::string api_version) {
    std::lock_guard lock(mu_);
    for (auto& s : statuses_)
      if (s.name == name) {
        s.engine_version = std::move(version);
        s.engine_api_version = std::move(api_version);
      }
  }
  // A new engine run (the daemon counts them; 0: unknown).
  void set_engine_run(const std::string& name, uint64_t run) {
    std::lock_guard lock(mu_);
    for (auto& s : statuses_)
      if (s.name == name) s.engine_run = run;
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
  void request_shutdown(bool keep_vms) override {
    ++shutdown_requests;
    if (keep_vms) ++keep_vms_requests;
  }

  // Forwards as "backend proto ip:port"; a port in `taken_ports` fails like a busy host port.
  Status forward_port(const std::string& backend, const std::string& proto,
                      const std::string& host_ip, int host_port) override {
    std::lock_guard lock(mu_);
    if (taken_ports.count(host_port))
      return make_error(ErrorCode::Conflict, "host port " + std::to_string(host_port) + " busy");
    forwards.insert(backend + " " + proto + " " + host_ip + ":" + std::to_string(host_port));
    return {};
  }
  Status unforward_port(const std::string& backend, const std::string& proto,
                        const std::string& host_ip, int host_port) override {
    std::lock_guard lock(mu_);
    forwards.erase(backend + " " + proto + " " + host_ip + ":" + std::to_string(host_port));
    return {};
  }
  std::set<std::string> forwards_snapshot() const {
    std::lock_guard lock(mu_);
    return forwards;
  }

  std::atomic<int> shutdown_requests{0};
  std::atomic<int> keep_vms_requests{0};
  std::set<int> taken_ports;  // set before the test's requests
  std::set<std::string> forwards;

 private:
  mutable std::mutex mu_;
  std::vector<api::BackendStatus> statuses_;
  std::map<std::string, std::unique_ptr<guest::UnixConnector>> connectors_;
};

}  // namespace twinbox::fakes
