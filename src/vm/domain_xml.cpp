#include "vm/domain_xml.hpp"

#include "platform/arch_table.hpp"

namespace twinbox::vm {

const char* accelerator_name(Accelerator a) { return a == Accelerator::Kvm ? "kvm" : "tcg"; }

std::string xml_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '\'':
        out += "&apos;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

Result<std::string> render_template(const std::string& tmpl,
                                    const std::map<std::string, std::string>& values,
                                    const std::map<std::string, std::string>& raw) {
  std::string out;
  size_t pos = 0;
  for (;;) {
    size_t open = tmpl.find("{{", pos);
    if (open == std::string::npos) break;
    size_t close = tmpl.find("}}", open + 2);
    if (close == std::string::npos)
      return make_error(ErrorCode::InvalidArgument,
                        "template: unterminated placeholder at offset " + std::to_string(open));
    std::string key = tmpl.substr(open + 2, close - open - 2);
    out.append(tmpl, pos, open - pos);
    if (auto it = values.find(key); it != values.end()) {
      out += xml_escape(it->second);
    } else if (auto r = raw.find(key); r != raw.end()) {
      out += r->second;
    } else {
      return make_error(ErrorCode::InvalidArgument, "template: no value for {{" + key + "}}");
    }
    pos = close + 2;
  }
  out.append(tmpl, pos, std::string::npos);
  return out;
}

std::string guest_cmdline(const std::string& console_device, const std::string& role,
                          const GuestOptions& options) {
  std::string out = "console=" + console_device + " root=/dev/vda ro twinbox.role=" + role +
                    " twinbox.data=/dev/vdb loglevel=4" +
                    (options.register_translator ? " twinbox.translator=qemu-x86_64" : "");
  const auto& ports = options.host_access_ports;
  if (!ports.empty()) {
    out += " twinbox.host_ports=";
    for (size_t i = 0; i < ports.size(); ++i) out += (i ? "," : "") + std::to_string(ports[i]);
  }
  if (!options.shares.empty()) out += " twinbox.shares=" + shares_cmdline_value(options.shares);
  if (options.global_volumes) out += std::string(" twinbox.volumes=") + kVolumesTag;
  if (options.no_randmaps) out += " norandmaps";
  return out;
}

Result<std::string> render_domain_xml(const std::string& tmpl, const DomainSpec& spec) {
  auto arch = platform::arch_info(spec.guest_arch);
  if (!arch)
    return make_error(
        ErrorCode::InvalidArgument,
        "domain " + spec.name + ": no facts for guest arch '" + spec.guest_arch + "'");
  if (spec.role.empty() || spec.name.empty())
    return make_error(ErrorCode::InvalidArgument, "domain: name and role are required");
  bool kvm = spec.accelerator == Accelerator::Kvm;
  std::string features = kvm ? "<features><gic version='host'/></features>"
                             : "<features><tcg><tb-cache unit='MiB'>" +
                                   std::to_string(spec.tb_cache_mib) +
                                   "</tb-cache></tcg></features>";
  // Under TCG the CPU model decides boot speed (machine-facts: 'max' is ~4x slower).
  std::string cpu =
      kvm ? "<cpu mode='host-passthrough' check='none'/>"
          : "<cpu mode='custom' match='exact' check='none'><model fallback='forbid'>" +
                xml_escape(arch->tcg_cpu_model) + "</model></cpu>";
  std::string qemu_arch = arch->uname_machine;  // libvirt names arches like uname -m
  std::map<std::string, std::string> values = {
      {"domain_type", kvm ? "kvm" : "qemu"},
      {"name", spec.name},
      {"role", spec.role},
      {"memory_mib", std::to_string(spec.memory_mib)},
      {"vcpus", std::to_string(spec.vcpus)},
      {"qemu_arch", qemu_arch},
      {"machine", arch->qemu_machine},
      {"kernel", spec.kernel},
      {"initrd", spec.initrd},
      {"cmdline", spec.cmdline},
      {"emulator", spec.emulator},
      {"base_image", spec.base_image},
      {"data_disk", spec.data_disk},
      {"console_log", spec.console_log},
  };
  return render_template(tmpl, values,
                         {{"features", features},
                          {"cpu", cpu},
                          {"filesystems", filesystems_xml(spec.shares, spec.volumes_dir)}});
}

}  // namespace twinbox::vm
