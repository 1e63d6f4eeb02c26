#include "platform/arch_table.hpp"

namespace twinbox::platform {

namespace {
const std::vector<ArchInfo>& table() {
  static const std::vector<ArchInfo> t = {
      {"arm64", "aarch64", "qemu-system-aarch64", "virt", "cortex-a72", "ttyAMA0",
       "qemu-aarch64-static",
       R"(\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00)",
       R"(\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff)"},
      {"amd64", "x86_64", "qemu-system-x86_64", "q35", "qemu64", "ttyS0", "qemu-x86_64-static",
       R"(\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x3e\x00)",
       R"(\xff\xff\xff\xff\xff\xfe\xfe\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff)"},
  };
  return t;
}
}  // namespace

std::optional<ArchInfo> arch_info(std::string_view oci_arch) {
  for (const auto& a : table())
    if (a.oci_arch == oci_arch) return a;
  return std::nullopt;
}

std::optional<std::string> oci_arch_from_uname(std::string_view machine) {
  for (const auto& a : table())
    if (a.uname_machine == machine) return a.oci_arch;
  return std::nullopt;
}

std::vector<std::string> known_arches() {
  std::vector<std::string> out;
  for (const auto& a : table()) out.push_back(a.oci_arch);
  return out;
}

}  // namespace twinbox::platform
