#pragma once
// The daemon's BackendSet: the API layer's view of the two utility VMs.
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "api/backends.hpp"
#include "vm/utility_vm.hpp"

namespace twinbox::daemon {

class VmBackends final : public api::BackendSet {
 public:
  VmBackends(std::vector<std::unique_ptr<vm::UtilityVm>> vms, std::string libvirt_uri)
      : vms_(std::move(vms)), uri_(std::move(libvirt_uri)) {}

  std::vector<api::BackendStatus> statuses() const override;
  guest::GuestConnector* connector(const std::string& name) override;
  void request_shutdown(bool keep_vms) override;
  bool keep_vms() {
    std::lock_guard lock(mu_);
    return keep_vms_;
  }
  Status forward_port(const std::string& backend, const std::string& proto,
                      const std::string& host_ip, int host_port) override;
  Status unforward_port(const std::string& backend, const std::string& proto,
                        const std::string& host_ip, int host_port) override;

  // Blocks up to `timeout_ms`; true once a shutdown was requested.
  bool wait_shutdown_requested(int timeout_ms);
  std::vector<std::unique_ptr<vm::UtilityVm>>& vms() { return vms_; }

 private:
  std::vector<std::unique_ptr<vm::UtilityVm>> vms_;
  std::string uri_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool shutdown_ = false;
  bool keep_vms_ = false;
};

// Pure: one VM's status in the API's terms.
api::BackendStatus backend_status(const vm::UtilityVmConfig& cfg, const vm::VmStatus& st,
                                  const vm::AccelChoice& accel, const std::string& uri);

}  // namespace twinbox::daemon
