#pragma once
// VmDriver: the operations twinbox needs from a hypervisor manager, as a small interface so the
// lifecycle code can be tested with a fake. The real one is LibvirtDriver.
// Contract:
//  - start() MUST replace a leftover domain of the same name that is not running, and MUST
//    return Conflict when one is running (the caller decides whether to adopt or destroy it).
//  - shutdown() asks the guest to power off (ACPI / power button) and returns at once.
//  - destroy() MUST succeed when the domain is already gone.
//  - state() returns Stopped for an unknown domain.
//  - lookup() is state() for a domain that may have outlived the previous twinboxd: it returns
//    once the hypervisor manager has re-attached to it (or given it up), so Running means the
//    domain is there to adopt.
#include <functional>
#include <string>

#include "util/result.hpp"

namespace twinbox::vm {

enum class DomainState { Stopped, Running, Paused, ShuttingDown, Crashed, Other };
const char* domain_state_name(DomainState s);

class VmDriver {
 public:
  virtual ~VmDriver() = default;
  virtual std::string uri() const = 0;
  virtual Status start(const std::string& name, const std::string& domain_xml) = 0;
  virtual Status shutdown(const std::string& name) = 0;
  virtual Status destroy(const std::string& name) = 0;
  virtual Result<DomainState> state(const std::string& name) = 0;
  virtual Result<DomainState> lookup(const std::string& name) = 0;
  // A human-monitor (HMP) command, e.g. "hostfwd_add hostnet0 tcp:127.0.0.1:H-:22".
  virtual Result<std::string> monitor_command(const std::string& name, const std::string& hmp) = 0;
  // Calls `f` (on the driver's event thread: it must only wake someone) whenever domain `name`
  // stops or crashes; replaces an earlier watch of the name; an empty `f` removes it, and no
  // call of the old one starts after that returns. Default: no events.
  virtual void watch_stops(const std::string& name, std::function<void()> f) {
    (void)name;
    (void)f;
  }
};

}  // namespace twinbox::vm
