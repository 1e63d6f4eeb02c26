#pragma once
// Which accelerator a utility VM gets: KVM only where guest arch == host arch and a probe of
// /dev/kvm succeeds (machine-facts: this x86_64 host's /dev/kvm is nested PVM, and an arm64
// guest on x86_64 is TCG anyway).
#include <string>

#include "vm/domain_xml.hpp"

namespace twinbox::vm {

struct AccelChoice {
  Accelerator accelerator = Accelerator::Tcg;
  std::string reason;  // shown in diagnostics
};

// Whether a guest randomises its address space: always under KVM; under TCG only when asked
// (`asked`, --guest-aslr), since there every exec at new addresses is translated again.
inline bool guest_randomises(bool asked, Accelerator accel) {
  return asked || accel == Accelerator::Kvm;
}

// Pure: the decision from the facts.
AccelChoice choose_accelerator(const std::string& host_arch, const std::string& guest_arch,
                               bool kvm_probe_ok, const std::string& kvm_probe_detail);

// I/O: the OCI arch of this host ("amd64", "arm64"), from uname(2).
std::string host_oci_arch();
// I/O: opens /dev/kvm and creates (then drops) a VM. Returns "" on success, else why not.
std::string probe_kvm();

}  // namespace twinbox::vm
