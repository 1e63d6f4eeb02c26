#include "daemon/vm_backends.hpp"

#include "platform/host_profile.hpp"
#include "router/run_decision.hpp"

namespace twinbox::daemon {

static api::BackendState to_api(vm::VmPhase p) {
  switch (p) {
    case vm::VmPhase::Stopped:
      return api::BackendState::Stopped;
    case vm::VmPhase::Starting:
      return api::BackendState::Starting;
    case vm::VmPhase::Running:
      return api::BackendState::Running;
    case vm::VmPhase::Stopping:
      return api::BackendState::Stopping;
    case vm::VmPhase::Failed:
      return api::BackendState::Failed;
  }
  return api::BackendState::Failed;
}

api::BackendStatus backend_status(const vm::UtilityVmConfig& cfg, const vm::VmStatus& st,
                                  const vm::AccelChoice& accel, const std::string& uri) {
  api::BackendStatus b;
  b.name = cfg.role;
  b.state = to_api(st.phase);
  b.vm_arch = cfg.guest_arch;
  b.native = cfg.native;
  b.translated = cfg.translated;
  b.accelerator = vm::accelerator_name(accel.accelerator);
  // The flags the guest reports once it is up; the configured ones until then.
  b.translator = cfg.translator.empty()
                     ? std::string(router::kTranslatorNone)
                     : platform::translator_label(
                           cfg.translator,
                           st.translator_flags.empty() ? cfg.translator_flags : st.translator_flags,
                           cfg.translator_note);
  b.libvirt_uri = uri;
  b.detail = st.detail;
  b.boot_seconds = st.boot_seconds;
  b.engine_version = st.engine_version;
  b.engine_api_version = st.engine_api_version;
  b.engine_run = st.engine_run;
  b.aslr = vm::guest_randomises(cfg.guest_aslr, accel.accelerator);
  b.restarting = st.restarting;
  return b;
}

std::vector<api::BackendStatus> VmBackends::statuses() const {
  std::vector<api::BackendStatus> out;
  for (const auto& vm : vms_)
    out.push_back(backend_status(vm->config(), vm->status(), vm->accel(), uri_));
  return out;
}

guest::GuestConnector* VmBackends::connector(const std::string& name) {
  for (auto& vm : vms_)
    if (vm->config().role == name) return &vm->connector();
  return nullptr;
}

Status VmBackends::forward_port(const std::string& backend, const std::string& proto,
                                const std::string& host_ip, int host_port) {
  for (auto& vm : vms_)
    if (vm->config().role == backend) return vm->forward_port(proto, host_ip, host_port, host_port);
  return make_error(ErrorCode::NotFound, "no backend " + backend);
}

Status VmBackends::unforward_port(const std::string& backend, const std::string& proto,
                                  const std::string& host_ip, int host_port) {
  for (auto& vm : vms_)
    if (vm->config().role == backend) return vm->unforward_port(proto, host_ip, host_port);
  return make_error(ErrorCode::NotFound, "no backend " + backend);
}

void VmBackends::request_shutdown(bool keep_vms) {
  {
    std::lock_guard lock(mu_);
    // A later full shutdown (a signal) wins over an earlier keep.
    keep_vms_ = shutdown_ ? keep_vms_ && keep_vms : keep_vms;
    shutdown_ = true;
  }
  cv_.notify_all();
}

bool VmBackends::wait_shutdown_requested(int timeout_ms) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return shutdown_; });
  return shutdown_;
}

}  // namespace twinbox::daemon
