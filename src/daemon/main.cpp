// twinboxd: serves the Docker Engine API on a unix socket and runs the two utility VMs (hv for
// linux/arm64, rosetta for linux/amd64) behind it.
#include <sys/prctl.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <system_error>
#include <thread>

#include "api/api_server.hpp"
#include "daemon/config.hpp"
#include "daemon/process.hpp"
#include "daemon/vm_backends.hpp"
#include "layout/state_layout.hpp"
#include "platform/host_profile.hpp"
#include "util/fs.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"
#include "vm/domain_xml.hpp"
#include "vm/libvirt_driver.hpp"
#include "vm/orphans.hpp"
#include "vm/shares.hpp"

using namespace twinbox;

namespace {

constexpr const char* kVersion = "0.1.0";

struct Assets {
  vm::GuestAssets files;
  std::string dir;
};

// The asset directory scripts/build-guest-assets printed (or its `current` link), resolved so
// the domains name files that do not move under them.
Result<Assets> find_assets(const std::string& dir) {
  Assets a;
  a.dir = fs::real_path(dir);
  if (a.dir.empty())
    return make_error(ErrorCode::NotFound, "guest assets not found at " + dir +
                                               "; build them with scripts/build-guest-assets");
  a.files = {a.dir + "/vmlinuz", a.dir + "/initramfs.img", a.dir + "/base.img"};
  for (const auto& f : {a.files.kernel, a.files.initrd, a.files.base_image})
    if (!fs::exists(f))
      return make_error(ErrorCode::NotFound, "guest asset " + f +
                                                 " is missing; rebuild with "
                                                 "scripts/build-guest-assets");
  return a;
}

// One utility VM per backend of the profile: what it runs, natively and through its
// translator, is the profile's word.
vm::UtilityVmConfig vm_config(const daemon::Config& c, const platform::HostProfile& prof,
                              const platform::BackendSupport& backend,
                              const router::TranslatorConfig& translators,
                              const vm::GuestAssets& assets, const std::string& tmpl,
                              const std::vector<vm::Share>& shares,
                              const std::string& volumes_dir) {
  vm::UtilityVmConfig v;
  v.role = backend.name;
  v.guest_arch = "arm64";
  auto names = [](const std::vector<platform::Platform>& ps) {
    std::string out;
    for (const auto& p : ps) out += (out.empty() ? "" : ", ") + p.to_string();
    return out;
  };
  auto use = [&](const platform::Translator& t) {
    v.translator = t.name;
    v.translator_flags = t.flags;
    v.translated = names(t.platforms);
  };
  v.native = names(backend.native);
  if (!backend.translators.empty()) use(backend.translators.front());
  if (backend.name == prof.default_backend() && !translators.fallback.empty()) {
    // The fallback is a disabled backend's translator (the guest image holds one: rosetta's),
    // registered in the default backend with the same rule.
    for (const auto& off : translators.disabled)
      if (const auto* s = prof.support(off))
        for (const auto& t : s->translators)
          if (t.name == c.hv_fallback_translator) use(t);
    v.translator_note = "hv fallback";
    v.register_translator = true;
  }
  v.memory_mib = c.memory_mib;
  v.vcpus = c.vcpus;
  v.tb_cache_mib = c.tb_cache_mib;
  v.guest_aslr = c.guest_aslr;
  v.data_disk_size = c.data_disk_size;
  v.host_loopback_ports = c.host_loopback_ports;
  v.host_access_ports = c.host_access_ports;
  v.shares = shares;
  v.volumes_dir = volumes_dir;
  v.boot_timeout_s = c.boot_timeout_s;
  v.shutdown_timeout_s = c.shutdown_timeout_s;
  v.restart = c.vm_restart;
  v.restart_max_delay_s = c.vm_restart_max_delay_s;
  v.assets = assets;
  v.domain_template = tmpl;
  return v;
}

// The --share directories that exist (a missing one is skipped, said in the log), planned.
Result<std::vector<vm::Share>> host_shares(const daemon::Config& c) {
  std::vector<std::string> present;
  for (const auto& d : c.shares) {
    if (std::error_code ec; std::filesystem::is_directory(d, ec)) {
      present.push_back(d);
    } else {
      log::warn("daemon", "--share " + d + ": not a directory on this host; not shared");
    }
  }
  TRY_ASSIGN(auto shares, vm::plan_shares(present));
  std::vector<std::string> paths;
  for (const auto& s : shares) paths.push_back(s.path);
  std::string text = join(paths, ", ");
  log::info("daemon", "shared into both VMs at the same path (bind mount sources): " +
                          (text.empty() ? std::string("none") : text));
  return shares;
}

void on_signal(int sig, void* ctx) {
  log::info("daemon", "signal " + std::to_string(sig) + ": shutting down");
  static_cast<daemon::VmBackends*>(ctx)->request_shutdown(false);
}

void shutdown_all(daemon::VmBackends& backends) {
  std::vector<std::thread> threads;
  for (auto& vm : backends.vms())
    threads.emplace_back([&vm] {
      if (auto st = vm->shutdown(); !st) log::error(vm->config().role, st.error().message);
    });
  for (auto& t : threads) t.join();
}

int run(const daemon::Config& cfg) {
  layout::StateLayout layout(fs::absolute(cfg.state_dir));
  if (auto st = fs::make_dirs(layout.root(), 0700); !st) {
    log::error("daemon", st.error().message);
    return 1;
  }
  auto socket_gid = daemon::secure_state_dir(layout.root(), layout.api_socket(), cfg.socket_group);
  if (!socket_gid) {
    log::error("daemon", socket_gid.error().message);
    return 1;
  }
  auto pid_lock = daemon::lock_pid_file(layout.pid_file());
  if (!pid_lock) {
    log::error("daemon", pid_lock.error().message);
    return 1;
  }
  auto assets = find_assets(cfg.assets_dir);
  auto tmpl = fs::read_file(cfg.template_dir + "/utility-vm.xml");
  if (!assets || !tmpl) {
    log::error("daemon",
               !assets ? assets.error().message : tmpl.error().context("read VM template").message);
    return 1;
  }
  log::info("daemon", "twinboxd " + std::string(kVersion) + " pid " + std::to_string(::getpid()) +
                          ", state " + layout.root() + ", assets " + assets->dir);
  // QEMUs of removed state dirs, or of a dead --exit-with-parent twinboxd: nobody comes back
  // for them. (Ours, if one runs, is adopted below.)
  std::vector<std::string> orphans = vm::end_orphan_vms(layout.root());
  if (cfg.exit_with_parent) {
    if (auto st = fs::write_file_atomic(layout.exit_with_parent_marker(), "", 0600); !st)
      log::warn("daemon", st.error().message);
  } else {
    ::unlink(layout.exit_with_parent_marker().c_str());
  }

  daemon::become_subreaper();
  std::string uri = cfg.libvirt_uri.empty() ? vm::LibvirtDriver::embed_uri(layout.libvirt_root())
                                            : cfg.libvirt_uri;
  auto driver = vm::LibvirtDriver::open(uri, layout.libvirt_root());
  if (!driver) {
    log::error("daemon", driver.error().message);
    return 1;
  }
  std::string kvm_detail = vm::probe_kvm();
  auto accel = vm::choose_accelerator(vm::host_oci_arch(), "arm64", kvm_detail.empty(), kvm_detail);
  log::info("daemon", "accelerator: " + accel.reason);

  const platform::HostProfile* prof = platform::find_profile(cfg.host_profile);
  if (!prof) prof = &platform::default_profile();
  router::TranslatorConfig translators = daemon::translator_config(cfg);
  auto shares = host_shares(cfg);
  if (!shares) {
    log::error("daemon", shares.error().message);
    return 1;
  }
  std::string volumes_dir;
  if (cfg.global_volumes) {
    volumes_dir = layout.volumes_dir();
    if (auto st = fs::make_dirs(volumes_dir, 0700); !st) {
      log::error("daemon", st.error().context("create the global volume directory").message);
      return 1;
    }
  }
  std::vector<std::unique_ptr<vm::UtilityVm>> vms;
  for (const auto& backend : prof->backends) {
    if (!translators.enabled(backend.name)) continue;
    vms.push_back(std::make_unique<vm::UtilityVm>(
        vm_config(cfg, *prof, backend, translators, assets->files, *tmpl, *shares, volumes_dir),
        layout, **driver, accel));
  }
  daemon::VmBackends backends(std::move(vms), uri);
  daemon::start_signal_thread(on_signal, &backends);

  api::ServerOptions opts;
  opts.socket_path = layout.api_socket();
  opts.socket_mode = cfg.socket_mode;
  opts.socket_gid = *socket_gid;
  // slirp's address for the host; the guests let containers through to --host-access ports only.
  if (!cfg.host_access_ports.empty()) opts.host_gateway = vm::kSlirpHostAddress;
  opts.volumes_dir = volumes_dir;
  opts.shared_dirs.emplace();
  for (const auto& s : *shares) {
    opts.shared_dirs->push_back(s.path);
    // A share that is itself a symlink: what its binds resolve to on the host is shared too.
    if (auto real = fs::real_path(s.path); !real.empty() && real != s.path)
      opts.shared_dirs->push_back(real);
  }
  opts.withheld_dirs.push_back(layout.root());
  if (auto real = fs::real_path(layout.root()); !real.empty() && real != layout.root())
    opts.withheld_dirs.push_back(real);
  opts.registry_path = layout.workload_registry();
  opts.daemon_version = kVersion;
  opts.orphans_ended = orphans;
  opts.content_store_path = cfg.content_store.empty() ? layout.content_store() : cfg.content_store;
  opts.registry.docker_config_path = cfg.docker_config;
  opts.registry.insecure_registries = cfg.insecure_registries;
  opts.registry.user_agent = std::string("twinbox/") + kVersion;
  // A pull whose registry is down falls back to the content store: give up after ~1.5 s.
  opts.registry.max_attempts = 3;
  opts.registry.max_concurrent_downloads = static_cast<int>(cfg.max_concurrent_downloads);
  opts.route_env.profile = prof;
  opts.route_env.translator = translators;
  opts.route_env.mixed_projects = cfg.mixed_projects;
  if (!cfg.hv_fallback_translator.empty() && cfg.rosetta_enabled)
    log::info("daemon",
              "--hv-fallback-translator is used only with --no-rosetta; rosetta runs "
              "linux/amd64");
  api::ApiServer server(opts, backends);
  if (auto st = server.start(); !st) {
    log::error("daemon", st.error().context("serve the Docker API").message);
    return 1;
  }
  log::info("daemon", "Docker API on unix://" + layout.api_socket());

  // Each VM's life (boot or adoption, supervision, restarts) on its own thread: boots and
  // restarts block for tens of seconds, and one VM's trouble must not delay the other's.
  std::vector<std::thread> lives;
  for (auto& vm : backends.vms()) lives.emplace_back([&vm] { vm->run(); });
  while (!backends.wait_shutdown_requested(2000)) {
  }

  if (backends.keep_vms()) {
    // twinbox down --keep-vms: a restart or an upgrade of twinboxd; the next one adopts them.
    for (auto& vm : backends.vms()) vm->detach();
  } else {
    shutdown_all(backends);  // also cancels boots and restarts in progress
  }
  for (auto& t : lives) t.join();
  server.stop();
  driver->reset();  // releases the libvirt root's lock before we say we are gone
  ::unlink(layout.pid_file().c_str());
  log::info("daemon", "stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  daemon::block_signals();
  std::vector<std::string> args(argv + 1, argv + argc);
  for (const auto& a : args)
    if (a == "-h" || a == "--help") {
      std::fputs(daemon::usage().c_str(), stdout);
      return 0;
    }
  auto cfg = daemon::parse_flags(args, daemon::default_config());
  if (!cfg) {
    std::fprintf(stderr, "twinboxd: %s\n", cfg.error().message.c_str());
    return 2;
  }
  if (cfg->debug) log::set_level(log::Level::Debug);
  if (cfg->exit_with_parent) {
    // SIGTERM (blocked, then taken by the signal thread: an orderly stop) when our parent
    // exits, killed or not. A parent gone before the prctl shows as a new parent pid.
    pid_t parent = ::getppid();
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) {
      std::fprintf(stderr, "twinboxd: --exit-with-parent: the parent already exited\n");
      return 1;
    }
  }
  return run(*cfg);
}
