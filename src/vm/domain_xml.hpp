#pragma once
// Domain XML for a utility VM, produced from vmtemplates/utility-vm.xml by a pure function.
#include <map>
#include <string>
#include <vector>

#include "util/result.hpp"
#include "vm/shares.hpp"

namespace twinbox::vm {

enum class Accelerator { Tcg, Kvm };
const char* accelerator_name(Accelerator a);  // "tcg", "kvm"

struct DomainSpec {
  std::string name;        // libvirt domain name, e.g. "twinbox-hv"
  std::string role;        // "hv" or "rosetta"
  std::string guest_arch;  // OCI arch of the VM, "arm64"
  Accelerator accelerator = Accelerator::Tcg;
  unsigned memory_mib = 2048;
  unsigned vcpus = 1;
  unsigned tb_cache_mib = 256;  // TCG only
  std::string emulator;         // path of qemu-system-<arch>
  std::string kernel, initrd, cmdline;
  std::string base_image, data_disk, console_log;
  std::vector<Share> shares;  // host directories, each a virtio-9p device
  std::string volumes_dir;    // the global volume directory, a 9p device too; "" for none
};

// Replaces {{key}} in `tmpl` with XML-escaped values[key]. Keys whose value is already XML
// (fragments) are passed in `raw`. An unknown or unterminated placeholder is an error.
Result<std::string> render_template(const std::string& tmpl,
                                    const std::map<std::string, std::string>& values,
                                    const std::map<std::string, std::string>& raw);

// The full domain XML for `spec` from the utility-vm template text.
Result<std::string> render_domain_xml(const std::string& tmpl, const DomainSpec& spec);

// slirp's address for the host inside a guest: connections to it reach the host's 127.0.0.1.
inline constexpr const char* kSlirpHostAddress = "10.0.2.2";

// What the guest is told on its kernel command line besides its role.
struct GuestOptions {
  // Also register qemu-x86_64 with binfmt_misc in a role that has none (hv as the fallback
  // translator when rosetta is off).
  bool register_translator = false;
  // The host loopback TCP ports containers may reach at 10.0.2.2 (twinbox.host_ports=; the
  // guest refuses every other new connection to the host).
  std::vector<int> host_access_ports;
  // 9p tags to mount at their paths (twinbox.shares=).
  std::vector<Share> shares;
  // Mount the 9p tag kVolumesTag on the engine's volume directory (twinbox.volumes=).
  bool global_volumes = false;
  // Boot with `norandmaps` (no address space randomisation; TCG speed, see UtilityVmConfig).
  bool no_randmaps = false;
};

// The kernel command line the guest contract (vmtemplates/guest/README.md) expects.
std::string guest_cmdline(const std::string& console_device, const std::string& role,
                          const GuestOptions& options = {});

std::string xml_escape(const std::string& s);

}  // namespace twinbox::vm
