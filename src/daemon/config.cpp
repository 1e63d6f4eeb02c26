#include "daemon/config.hpp"

#include <charconv>

#include "platform/host_profile.hpp"
#include "router/run_decision.hpp"
#include "util/path_safety.hpp"
#include "util/strings.hpp"

namespace twinbox::daemon {

std::string usage() {
  return "usage: twinboxd [options]\n"
         "  --state-dir DIR          state directory (socket, VM disks, logs)\n"
         "  --assets DIR             guest assets (scripts/build-guest-assets prints it)\n"
         "  --templates DIR          vmtemplates directory\n"
         "  --libvirt-uri URI        libvirt connection (default: embedded qemu driver)\n"
         "  --memory-mib N           memory per utility VM (default 2048)\n"
         "  --vcpus N                vCPUs per utility VM (default 1)\n"
         "  --tb-cache-mib N         TCG translation cache per VM (default 256)\n"
         "  --guest-aslr             keep address space randomisation on in TCG guests (default\n"
         "                           off there: processes then map where the last one did and\n"
         "                           reuse QEMU's translated code, ~2x faster container starts;\n"
         "                           always on under KVM)\n"
         "  --data-disk-size SIZE    engine data disk per VM, sparse (default 32G)\n"
         "  --host-loopback-ports L  comma list of host 127.0.0.1 ports the guests reach at\n"
         "                           their own 127.0.0.1 (default 5000; '' for none)\n"
         "  --host-access L          comma list of host 127.0.0.1 TCP ports containers may\n"
         "                           reach at host.docker.internal (default: none; nothing\n"
         "                           else on the host's loopback is reachable)\n"
         "  --share DIR              a host directory mounted at the same path in both VMs;\n"
         "                           repeatable; bind mounts must come from one (default:\n"
         "                           $HOME and $TMPDIR or /tmp; the first --share replaces them)\n"
         "  --no-share               share no host directory (every bind mount is refused)\n"
         "  --no-global-volumes      keep each VM's volumes on its own disk (default: on the\n"
         "                           host, <state>/volumes, shared into both VMs: one set of\n"
         "                           volumes for both backends)\n"
         "  --boot-timeout S         seconds for a VM's engine to answer (default 300)\n"
         "  --shutdown-timeout S     seconds for an ACPI shutdown before destroy (default 30)\n"
         "  --no-vm-restart          leave a VM that died failed (default: boot it again after\n"
         "                           1, 2, 4 ... seconds)\n"
         "  --vm-restart-max-delay S longest wait between restarts of a VM (default 60)\n"
         "  --exit-with-parent       stop (VMs too) when the process that started twinboxd\n"
         "                           exits: for test harnesses\n"
         "  --no-rosetta             do not start the rosetta VM (amd64 requests then fail,\n"
         "                           unless --hv-fallback-translator names one)\n"
         "  --hv-fallback-translator qemu-x86_64  with --no-rosetta: register it in hv and\n"
         "                           run linux/amd64 there\n"
         "  --host-profile NAME      apple-silicon (default) or generic-arm64\n"
         "  --experimental-mixed-projects  place compose services one by one\n"
         "  --content-store DIR      the host image store (default <state>/content)\n"
         "  --insecure-registry R    plain HTTP for R (host[:port] or CIDR); repeatable;\n"
         "                           loopback registries always are\n"
         "  --docker-config FILE     registry credentials (default ~/.docker/config.json)\n"
         "  --max-concurrent-downloads N  layers of one pull fetched at once (default 3,\n"
         "                           1..16, as dockerd's flag)\n"
         "  --socket-mode MODE       API socket permissions: 0660 (default) or 0600\n"
         "  --socket-group GROUP     API socket group (name or gid); its members may use\n"
         "                           twinbox (the state dir becomes 0710 for them)\n"
         "  --debug                  verbose logs\n";
}

std::string hv_fallback_label(const std::string& translator) {
  // parse_flags accepts qemu-x86_64 only: the one translator in the guest image.
  return translator == "qemu-x86_64" ? std::string(router::kTranslatorHvFallback)
                                     : translator + " (hv fallback)";
}

router::TranslatorConfig translator_config(const Config& c) {
  router::TranslatorConfig t;
  if (!c.rosetta_enabled) t.disabled.push_back("rosetta");
  if (!t.disabled.empty() && !c.hv_fallback_translator.empty())
    t.fallback = hv_fallback_label(c.hv_fallback_translator);
  return t;
}

static Result<unsigned> parse_uint(const std::string& flag, const std::string& v) {
  unsigned out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || p != v.data() + v.size() || v.empty())
    return make_error(ErrorCode::InvalidArgument, flag + ": expected a number, got '" + v + "'");
  return out;
}

// "5000,5001" (blanks and empty items skipped; "" is no ports).
static Result<std::vector<int>> parse_port_list(const std::string& flag, const std::string& v) {
  std::vector<int> out;
  for (const auto& p : split(v, ',')) {
    if (trim(p).empty()) continue;
    TRY_ASSIGN(unsigned n, parse_uint(flag, std::string(trim(p))));
    if (n == 0 || n > 65535)
      return make_error(ErrorCode::InvalidArgument, flag + ": port out of range: " + p);
    out.push_back(static_cast<int>(n));
  }
  return out;
}

Result<Config> parse_flags(const std::vector<std::string>& args, Config c) {
  bool shares_from_flags = false;  // the first --share (or --no-share) replaces the defaults
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> Result<std::string> {
      if (i + 1 >= args.size())
        return make_error(ErrorCode::InvalidArgument, a + " needs a value\n" + usage());
      return args[++i];
    };
    if (a == "--state-dir") {
      TRY_ASSIGN(c.state_dir, value());
    } else if (a == "--assets") {
      TRY_ASSIGN(c.assets_dir, value());
    } else if (a == "--templates") {
      TRY_ASSIGN(c.template_dir, value());
    } else if (a == "--libvirt-uri") {
      TRY_ASSIGN(c.libvirt_uri, value());
    } else if (a == "--data-disk-size") {
      TRY_ASSIGN(c.data_disk_size, value());
    } else if (a == "--memory-mib" || a == "--vcpus" || a == "--tb-cache-mib" ||
               a == "--boot-timeout" || a == "--shutdown-timeout" ||
               a == "--max-concurrent-downloads" || a == "--vm-restart-max-delay") {
      TRY_ASSIGN(std::string v, value());
      TRY_ASSIGN(unsigned n, parse_uint(a, v));
      if (a == "--memory-mib")
        c.memory_mib = n;
      else if (a == "--vcpus")
        c.vcpus = n;
      else if (a == "--tb-cache-mib")
        c.tb_cache_mib = n;
      else if (a == "--boot-timeout")
        c.boot_timeout_s = static_cast<int>(n);
      else if (a == "--vm-restart-max-delay") {
        if (n < 1 || n > 3600)
          return make_error(ErrorCode::InvalidArgument,
                            "--vm-restart-max-delay " + v + ": must be 1 to 3600 seconds");
        c.vm_restart_max_delay_s = static_cast<int>(n);
      } else if (a == "--max-concurrent-downloads") {
        if (n < 1 || n > 16) {
          return make_error(ErrorCode::InvalidArgument,
                            "--max-concurrent-downloads " + v + ": must be 1 to 16");
        }
        c.max_concurrent_downloads = n;
      } else
        c.shutdown_timeout_s = static_cast<int>(n);
    } else if (a == "--host-loopback-ports" || a == "--host-access") {
      TRY_ASSIGN(std::string v, value());
      TRY_ASSIGN(auto ports, parse_port_list(a, v));
      (a == "--host-access" ? c.host_access_ports : c.host_loopback_ports) = std::move(ports);
    } else if (a == "--share") {
      TRY_ASSIGN(std::string v, value());
      if (!shares_from_flags) c.shares.clear();
      shares_from_flags = true;
      c.shares.push_back(v);
    } else if (a == "--no-share") {
      c.shares.clear();
      shares_from_flags = true;
    } else if (a == "--guest-aslr") {
      c.guest_aslr = true;
    } else if (a == "--no-global-volumes") {
      c.global_volumes = false;
    } else if (a == "--no-vm-restart") {
      c.vm_restart = false;
    } else if (a == "--exit-with-parent") {
      c.exit_with_parent = true;
    } else if (a == "--no-rosetta") {
      c.rosetta_enabled = false;
    } else if (a == "--hv-fallback-translator") {
      TRY_ASSIGN(c.hv_fallback_translator, value());
      if (c.hv_fallback_translator != "qemu-x86_64")
        return make_error(ErrorCode::InvalidArgument,
                          "--hv-fallback-translator: unknown translator '" +
                              c.hv_fallback_translator +
                              "' (the guest image has one: qemu-x86_64)");
    } else if (a == "--host-profile") {
      TRY_ASSIGN(c.host_profile, value());
      if (!platform::find_profile(c.host_profile))
        return make_error(ErrorCode::InvalidArgument,
                          "--host-profile: unknown profile '" + c.host_profile +
                              "' (known: " + platform::profile_names_text() + ")");
    } else if (a == "--experimental-mixed-projects") {
      c.mixed_projects = true;
    } else if (a == "--content-store") {
      TRY_ASSIGN(c.content_store, value());
    } else if (a == "--insecure-registry") {
      TRY_ASSIGN(std::string v, value());
      c.insecure_registries.push_back(v);
    } else if (a == "--docker-config") {
      TRY_ASSIGN(c.docker_config, value());
    } else if (a == "--socket-mode") {
      TRY_ASSIGN(std::string v, value());
      TRY_ASSIGN(c.socket_mode, parse_socket_mode(v));
    } else if (a == "--socket-group") {
      TRY_ASSIGN(c.socket_group, value());
      if (c.socket_group.empty())
        return make_error(ErrorCode::InvalidArgument, "--socket-group needs a group name or gid");
    } else if (a == "--debug") {
      c.debug = true;
    } else {
      return make_error(ErrorCode::InvalidArgument, "unknown option '" + a + "'\n" + usage());
    }
  }
  return c;
}

}  // namespace twinbox::daemon
