#include "vm/accel.hpp"

namespace twinbox::vm {

AccelChoice choose_accelerator(const std::string& host_arch, const std::string& guest_arch,
                               bool kvm_probe_ok, const std::string& kvm_probe_detail) {
  if (host_arch != guest_arch)
    return {Accelerator::Tcg, "tcg: " + guest_arch + " guest on " + host_arch + " host"};
  if (!kvm_probe_ok) return {Accelerator::Tcg, "tcg: kvm unusable (" + kvm_probe_detail + ")"};
  return {Accelerator::Kvm, "kvm: " + guest_arch + " guest on " + host_arch + " host"};
}

}  // namespace twinbox::vm
