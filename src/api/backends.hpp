#pragma once
// What the API layer knows of the utility VMs: a name, a live status snapshot, and a way to
// reach the engine. The daemon implements BackendSet over real VMs; tests over fake engines.
#include <string>
#include <vector>

#include "guest/connector.hpp"
#include "util/result.hpp"

namespace twinbox::api {

enum class BackendState { Stopped, Starting, Running, Stopping, Failed };
const char* backend_state_name(BackendState s);

struct BackendStatus {
  std::string name;  // "hv" or "rosetta"
  BackendState state = BackendState::Stopped;
  std::string vm_arch;      // OCI arch of the utility VM: "arm64"
  std::string native;       // what it runs natively: "linux/arm64"
  std::string translated;   // what it runs through its translator: "linux/amd64", or ""
  std::string accelerator;  // "tcg" or "kvm"
  // "none", or the translator with the flags the guest registered: "qemu-x86_64 (binfmt POCF)"
  std::string translator;
  std::string libvirt_uri;  // where the VM lives
  std::string detail;       // error text when Failed, progress otherwise
  double boot_seconds = 0;  // launch to engine answering, once Running
  // Its engine's version and API version ("26.1.5", "1.45"), from the engine's /_ping once it
  // answered; "" before.
  std::string engine_version;
  std::string engine_api_version;
  // Which engine answers while Running: a different number after each boot (0: unknown, and
  // nothing about the engine may be cached).
  uint64_t engine_run = 0;
  // false: the guest boots with address space randomisation off (TCG speed, --guest-aslr).
  bool aslr = true;
  // Failed or Starting on the way back: twinboxd restarts the VM by itself (supervision).
  bool restarting = false;
};

class BackendSet {
 public:
  virtual ~BackendSet() = default;
  virtual std::vector<BackendStatus> statuses() const = 0;
  // nullptr for an unknown name. The connector outlives the BackendSet's users.
  virtual guest::GuestConnector* connector(const std::string& name) = 0;
  // Asks the daemon to shut down (twinbox down). Returns at once. `keep_vms`: the VMs keep
  // running (with their containers) for the next twinboxd to adopt.
  virtual void request_shutdown(bool keep_vms) = 0;

  // Published ports: forward host `host_ip:host_port` to the same port in `backend`'s VM, and
  // undo it. The default (fake engines) has nothing to forward: Unavailable.
  virtual Status forward_port(const std::string& backend, const std::string& proto,
                              const std::string& host_ip, int host_port) {
    return make_error(ErrorCode::Unavailable, "this twinboxd cannot publish ports on " + backend);
  }
  virtual Status unforward_port(const std::string& backend, const std::string& proto,
                                const std::string& host_ip, int host_port) {
    return make_error(ErrorCode::Unavailable, "this twinboxd cannot publish ports on " + backend);
  }
};

}  // namespace twinbox::api
