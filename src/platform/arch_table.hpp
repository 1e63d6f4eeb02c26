#pragma once
// Every per-architecture fact in one table: OCI names, QEMU system emulation, binfmt_misc ELF
// magic/mask, the uname -m a process sees. Other modules look facts up here instead of branching.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace twinbox::platform {

struct ArchInfo {
  std::string oci_arch;          // "arm64", "amd64"
  std::string uname_machine;     // "aarch64", "x86_64"
  std::string qemu_system;       // "qemu-system-aarch64"
  std::string qemu_machine;      // "virt"
  std::string tcg_cpu_model;     // fast CPU model under TCG (machine-facts: not "max")
  std::string console_device;    // kernel console name for the machine's first serial port
  std::string qemu_user_binary;  // interpreter name for this arch in qemu-user-static
  // binfmt_misc ELF header magic and mask for executables of this arch, as \xNN escapes.
  std::string elf_magic;
  std::string elf_mask;
};

// nullopt for an architecture twinbox has no facts for.
std::optional<ArchInfo> arch_info(std::string_view oci_arch);
// The OCI arch of a `uname -m` value ("x86_64" -> "amd64"), or nullopt.
std::optional<std::string> oci_arch_from_uname(std::string_view machine);
std::vector<std::string> known_arches();

}  // namespace twinbox::platform
