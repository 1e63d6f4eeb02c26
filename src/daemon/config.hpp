#pragma once
// twinboxd's configuration: defaults, then the environment, then flags (last wins).
#include <string>
#include <vector>

#include "router/run_decision.hpp"
#include "util/result.hpp"

namespace twinbox::daemon {

struct Config {
  std::string state_dir;     // default $XDG_STATE_HOME/twinbox or ~/.local/state/twinbox
  std::string assets_dir;    // default <cache>/assets/current (scripts/build-guest-assets)
  std::string template_dir;  // vmtemplates/ (default: the source tree's, set at build time)
  std::string libvirt_uri;   // default qemu:///embed?root=<state>/libvirt
  unsigned memory_mib = 2048;
  unsigned vcpus = 1;
  unsigned tb_cache_mib = 256;
  // Address space randomisation in TCG guests (--guest-aslr). Off by default: with it, every
  // process of a binary maps at new addresses and QEMU translates its code again.
  bool guest_aslr = false;
  std::string data_disk_size = "32G";
  std::vector<int> host_loopback_ports = {5000};
  // Host 127.0.0.1 TCP ports containers may reach at host.docker.internal (10.0.2.2): opt-in,
  // none by default; every other connection from a guest to the host's loopback is refused.
  std::vector<int> host_access_ports;
  // Host directories mounted at the same path in both VMs (bind mount sources must lie in one).
  // Default: the daemon user's home and the temp directory, as Docker Desktop shares the user's
  // home and /tmp. The first --share replaces the defaults; --no-share leaves none.
  std::vector<std::string> shares;
  // Named volumes on the host (<state>/volumes), shared into both VMs: one namespace, one copy
  // of the data. Off (--no-global-volumes): each engine keeps its volumes on its own data disk.
  bool global_volumes = true;
  int boot_timeout_s = 300;
  int shutdown_timeout_s = 30;
  // A VM that dies (or whose engine stays silent) is booted again after 1, 2, 4 ... up to
  // vm_restart_max_delay_s seconds; --no-vm-restart leaves it failed.
  bool vm_restart = true;
  int vm_restart_max_delay_s = 60;
  // Ends (with an orderly stop of the VMs) when the process that started twinboxd exits: for
  // test harnesses, so a killed test leaves nothing running.
  bool exit_with_parent = false;
  bool rosetta_enabled = true;
  std::string hv_fallback_translator;  // amd64 inside hv when rosetta is off ("" = none)
  std::string host_profile = "apple-silicon";
  bool mixed_projects = false;  // experimental: compose services placed one by one
  std::string content_store;    // default <state>/content
  std::vector<std::string> insecure_registries;
  std::string docker_config;              // default $DOCKER_CONFIG/config.json or ~/.docker/...
  unsigned max_concurrent_downloads = 3;  // layers of one pull fetched at once (as dockerd)
  bool debug = false;
  // The API socket: owner read/write, and the group's when 0660. socket_group names the group
  // (a docker-like group of users allowed to drive twinbox); "" keeps the daemon's own.
  unsigned socket_mode = 0660;
  std::string socket_group;
};

// The translator label of hv when it stands in for rosetta: "qemu-x86_64 (binfmt POCF, hv
// fallback)".
std::string hv_fallback_label(const std::string& translator);

// The router's view of --no-rosetta and --hv-fallback-translator: the backends this twinboxd
// does not run, and the fallback's label (only when a backend is disabled).
router::TranslatorConfig translator_config(const Config& c);

// Pure: applies argv (without argv[0]) over `base`. Unknown flags and bad values are errors.
Result<Config> parse_flags(const std::vector<std::string>& args, Config base);
std::string usage();

// I/O: defaults from the environment (HOME, XDG_*, TWINBOX_*).
Config default_config();

}  // namespace twinbox::daemon
