#pragma once
// Domain XML for a utility VM, produced from vmtemplates/utility-vm.xml by a pure function.
#include <map>
#include <string>
#include <vector>

#include "util/result.hpp"

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

// The kernel command line the guest contract (vmtemplates/guest/README.md) expects.
// `register_translator`: also register qemu-x86_64 with binfmt_misc in a role that has none
// (hv as the fallback translator when rosetta is off). `host_access_ports`: the host loopback
// TCP ports containers may reach at 10.0.2.2 (twinbox.host_ports=; the guest refuses every other
// new connection to the host).
std::string guest_cmdline(const std::string& console_device, const std::string& role,
                          bool register_translator = false,
                          const std::vector<int>& host_access_ports = {});

std::string xml_escape(const std::string& s);

}  // namespace twinbox::vm
