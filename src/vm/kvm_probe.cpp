#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "platform/arch_table.hpp"
#include "util/fd.hpp"
#include "vm/accel.hpp"

namespace twinbox::vm {

std::string host_oci_arch() {
  utsname u{};
  if (::uname(&u) != 0) return "unknown";
  return platform::oci_arch_from_uname(u.machine).value_or(u.machine);
}

std::string probe_kvm() {
  Fd kvm(::open("/dev/kvm", O_RDWR | O_CLOEXEC));
  if (!kvm.valid()) return std::string("open /dev/kvm: ") + std::strerror(errno);
  int version = ::ioctl(kvm.get(), KVM_GET_API_VERSION, 0);
  if (version != KVM_API_VERSION) return "KVM_GET_API_VERSION returned " + std::to_string(version);
  Fd vm(::ioctl(kvm.get(), KVM_CREATE_VM, 0));
  if (!vm.valid()) return std::string("KVM_CREATE_VM: ") + std::strerror(errno);
  return "";
}

}  // namespace twinbox::vm
