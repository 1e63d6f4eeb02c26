#pragma once
// VmDriver over libvirt. Default URI: the embedded QEMU driver rooted in the state directory
// (qemu:///embed?root=DIR): no libvirtd needed. Any other URI works when configured.
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "vm/vm_driver.hpp"

typedef struct _virConnect* virConnectPtr;
typedef struct _virDomain* virDomainPtr;

namespace twinbox::vm {

class LibvirtDriver final : public VmDriver {
 public:
  ~LibvirtDriver() override;
  // Opens `uri`. For qemu:///embed, `embed_root` gets the qemu.conf the embedded driver needs
  // (machine-facts: user/group root, stdio_handler file). Starts libvirt's event loop thread.
  static Result<std::unique_ptr<LibvirtDriver>> open(const std::string& uri,
                                                     const std::string& embed_root);
  // qemu:///embed?root=DIR
  static std::string embed_uri(const std::string& root);

  std::string uri() const override { return uri_; }
  Status start(const std::string& name, const std::string& domain_xml) override;
  Status shutdown(const std::string& name) override;
  Status destroy(const std::string& name) override;
  Result<DomainState> state(const std::string& name) override;
  Result<DomainState> lookup(const std::string& name) override;
  Result<std::string> monitor_command(const std::string& name, const std::string& hmp) override;
  void watch_stops(const std::string& name, std::function<void()> f) override;

 private:
  LibvirtDriver() = default;
  static void on_lifecycle(virConnectPtr, virDomainPtr dom, int event, int detail, void* self);
  std::mutex watch_mu_;
  std::map<std::string, std::function<void()>> stop_watches_;
  int lifecycle_callback_ = -1;
  std::string uri_;
  virConnectPtr conn_ = nullptr;
  // Domains are created one at a time: on a cgroup v1 host the first domain makes libvirt's
  // machine partition, and a second one created meanwhile can find its cpuset empty (seen here:
  // "Unable to write to .../cpuset/machine/...emulator/tasks: No space left on device").
  std::mutex start_mu_;
  std::atomic<bool> stop_loop_{false};
  std::thread loop_;
  int wake_timer_ = -1;
};

}  // namespace twinbox::vm
