#include "vm/libvirt_driver.hpp"

#include <libvirt/libvirt-qemu.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <chrono>
#include <cstdlib>
#include <mutex>
#include <string_view>
#include <thread>

#include "util/fs.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"

namespace twinbox::vm {

namespace {

struct DomainFree {
  void operator()(virDomainPtr d) const { virDomainFree(d); }
};
using DomainPtr = std::unique_ptr<virDomain, DomainFree>;

// libvirt prints every error to stderr by default; we report them ourselves, once, with context.
void silent_error(void*, virErrorPtr) {}

std::string last_error() {
  const char* msg = virGetLastErrorMessage();
  return msg ? msg : "unknown libvirt error";
}

Error libvirt_error(const std::string& what) {
  virErrorPtr e = virGetLastError();
  ErrorCode code = ErrorCode::Internal;
  if (e && (e->code == VIR_ERR_NO_DOMAIN)) code = ErrorCode::NotFound;
  if (e && (e->code == VIR_ERR_OPERATION_INVALID)) code = ErrorCode::Conflict;
  if (e && (e->code == VIR_ERR_NO_CONNECT || e->code == VIR_ERR_SYSTEM_ERROR))
    code = ErrorCode::Unavailable;
  return make_error(code, what + ": " + last_error());
}

void noop_timer(int, void*) {}

Status init_once() {
  static std::once_flag once;
  static bool ok = false;
  std::call_once(once, [] {
    // libvirt logs at info level to stderr by default; keep its errors, which we also report.
    ::setenv("LIBVIRT_LOG_OUTPUTS", "4:stderr", 0);
    ok = virInitialize() == 0 && virEventRegisterDefaultImpl() == 0;
    virSetErrorFunc(nullptr, silent_error);
  });
  if (!ok) return make_error(ErrorCode::Internal, "libvirt initialization: " + last_error());
  return {};
}

// The embedded driver runs QEMU as root with no security driver and logs QEMU's stdio to files.
Status prepare_embed_root(const std::string& root) {
  TRY(fs::make_dirs(root + "/etc", 0700));
  std::string conf =
      "# written by twinboxd for libvirt's embedded QEMU driver (machine-facts.md)\n"
      "user = \"root\"\ngroup = \"root\"\nstdio_handler = \"file\"\n"
      "security_driver = \"none\"\n";
  auto cur = fs::read_file(root + "/etc/qemu.conf");
  if (cur && *cur == conf) return {};
  return fs::write_file_atomic(root + "/etc/qemu.conf", conf, 0600);
}

}  // namespace

const char* domain_state_name(DomainState s) {
  switch (s) {
    case DomainState::Stopped:
      return "stopped";
    case DomainState::Running:
      return "running";
    case DomainState::Paused:
      return "paused";
    case DomainState::ShuttingDown:
      return "shutting down";
    case DomainState::Crashed:
      return "crashed";
    case DomainState::Other:
      return "other";
  }
  return "other";
}

std::string LibvirtDriver::embed_uri(const std::string& root) {
  return "qemu:///embed?root=" + root;
}

Result<std::unique_ptr<LibvirtDriver>> LibvirtDriver::open(const std::string& uri,
                                                           const std::string& embed_root) {
  TRY(init_once());
  if (starts_with(uri, "qemu:///embed")) TRY(prepare_embed_root(embed_root));
  std::unique_ptr<LibvirtDriver> d(new LibvirtDriver());
  d->uri_ = uri;
  d->loop_ = std::thread([drv = d.get()] {
    while (!drv->stop_loop_.load()) {
      if (virEventRunDefaultImpl() < 0) break;
    }
  });
  // A periodic no-op timer so the loop wakes up to notice stop_loop_.
  d->wake_timer_ = virEventAddTimeout(250, noop_timer, nullptr, nullptr);
  d->conn_ = virConnectOpen(uri.c_str());
  if (!d->conn_) {
    return make_error(ErrorCode::Unavailable,
                      "open libvirt connection " + uri + ": " + last_error() +
                          (starts_with(uri, "qemu:///embed")
                               ? " (is another twinboxd using this state directory?)"
                               : ""));
  }
  // A QEMU that dies shows here at once (its monitor closes): the VM's supervisor is woken.
  d->lifecycle_callback_ = virConnectDomainEventRegisterAny(
      d->conn_, nullptr, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
      VIR_DOMAIN_EVENT_CALLBACK(&LibvirtDriver::on_lifecycle), d.get(), nullptr);
  if (d->lifecycle_callback_ < 0)
    log::warn("vm", "no libvirt lifecycle events (" + last_error() +
                        "); a VM that stops is noticed by the once-a-second look alone");
  log::info("vm", "libvirt connection open: " + uri);
  return d;
}

LibvirtDriver::~LibvirtDriver() {
  if (conn_ && lifecycle_callback_ >= 0)
    virConnectDomainEventDeregisterAny(conn_, lifecycle_callback_);
  if (conn_) virConnectClose(conn_);
  stop_loop_ = true;
  if (loop_.joinable()) loop_.join();
  if (wake_timer_ >= 0) virEventRemoveTimeout(wake_timer_);
}

namespace {

// The embedded driver re-attaches to a QEMU that outlived the previous process in a background
// job started by virConnectOpen (machine-facts.md). A call that needs the domain's job waits for
// that re-attach to end; afterwards the domain is either running and ours, or being removed.
void wait_for_reattach(virDomainPtr dom) {
  char* out = nullptr;
  virDomainQemuMonitorCommand(dom, "info status", &out, VIR_DOMAIN_QEMU_MONITOR_COMMAND_HMP);
  std::free(out);
}

}  // namespace

Status LibvirtDriver::start(const std::string& name, const std::string& domain_xml) {
  if (DomainPtr old{virDomainLookupByName(conn_, name.c_str())}) {
    wait_for_reattach(old.get());
    if (virDomainIsActive(old.get()) == 1)
      return make_error(ErrorCode::Conflict, "domain " + name + " is already running");
    if (virDomainIsPersistent(old.get()) == 1) virDomainUndefine(old.get());
  }
  std::lock_guard lock(start_mu_);
  // Transient: nothing is left defined in libvirt once the VM is off. A domain that failed its
  // re-attach, or was just destroyed, is hidden from lookups while libvirt removes it but still
  // holds its name ("already exists with uuid"); that lasts a moment, so retry for a while.
  for (int attempt = 0;; ++attempt) {
    DomainPtr dom{virDomainCreateXML(conn_, domain_xml.c_str(), 0)};
    if (dom) return {};
    virErrorPtr e = virGetLastError();
    bool name_held = e && e->code == VIR_ERR_OPERATION_FAILED && e->message &&
                     std::string_view(e->message).find("already exists") != std::string_view::npos;
    if (!name_held || attempt >= 100) return libvirt_error("start domain " + name);
    if (attempt == 0) log::info("vm", "domain " + name + " is still being removed; waiting");
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

Status LibvirtDriver::shutdown(const std::string& name) {
  DomainPtr dom{virDomainLookupByName(conn_, name.c_str())};
  if (!dom) return libvirt_error("shutdown " + name);
  if (virDomainShutdownFlags(dom.get(), VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN) != 0)
    return libvirt_error("shutdown (power button) " + name);
  return {};
}

Status LibvirtDriver::destroy(const std::string& name) {
  DomainPtr dom{virDomainLookupByName(conn_, name.c_str())};
  if (!dom) return {};
  if (virDomainIsActive(dom.get()) != 1) return {};
  if (virDomainDestroy(dom.get()) != 0) {
    auto st = state(name);
    if (st && *st == DomainState::Stopped) return {};
    return libvirt_error("destroy " + name);
  }
  return {};
}

Result<DomainState> LibvirtDriver::state(const std::string& name) {
  DomainPtr dom{virDomainLookupByName(conn_, name.c_str())};
  if (!dom) return DomainState::Stopped;
  int st = 0, reason = 0;
  if (virDomainGetState(dom.get(), &st, &reason, 0) != 0) {
    // A transient domain that vanished between lookup and query is simply stopped.
    return DomainState::Stopped;
  }
  switch (st) {
    case VIR_DOMAIN_RUNNING:
      return DomainState::Running;
    case VIR_DOMAIN_PAUSED:
      return DomainState::Paused;
    case VIR_DOMAIN_SHUTDOWN:
      return DomainState::ShuttingDown;
    case VIR_DOMAIN_SHUTOFF:
      return DomainState::Stopped;
    case VIR_DOMAIN_CRASHED:
      return DomainState::Crashed;
    default:
      return DomainState::Other;
  }
}

void LibvirtDriver::on_lifecycle(virConnectPtr, virDomainPtr dom, int event, int, void* self) {
  if (event != VIR_DOMAIN_EVENT_STOPPED && event != VIR_DOMAIN_EVENT_CRASHED) return;
  auto* d = static_cast<LibvirtDriver*>(self);
  const char* name = virDomainGetName(dom);
  std::lock_guard lock(d->watch_mu_);
  auto it = name ? d->stop_watches_.find(name) : d->stop_watches_.end();
  if (it != d->stop_watches_.end()) it->second();
}

void LibvirtDriver::watch_stops(const std::string& name, std::function<void()> f) {
  std::lock_guard lock(watch_mu_);
  if (f)
    stop_watches_[name] = std::move(f);
  else
    stop_watches_.erase(name);
}

Result<DomainState> LibvirtDriver::lookup(const std::string& name) {
  if (DomainPtr dom{virDomainLookupByName(conn_, name.c_str())}) wait_for_reattach(dom.get());
  return state(name);
}

Result<std::string> LibvirtDriver::monitor_command(const std::string& name,
                                                   const std::string& hmp) {
  DomainPtr dom{virDomainLookupByName(conn_, name.c_str())};
  if (!dom) return libvirt_error("monitor command on " + name);
  char* out = nullptr;
  if (virDomainQemuMonitorCommand(dom.get(), hmp.c_str(), &out,
                                  VIR_DOMAIN_QEMU_MONITOR_COMMAND_HMP) != 0)
    return libvirt_error("monitor command '" + hmp + "' on " + name);
  std::string result = out ? out : "";
  std::free(out);
  return result;
}

}  // namespace twinbox::vm
