#pragma once
// One utility VM (hv or rosetta) from boot to shutdown: data disk, domain, the ssh channel to its
// engine, readiness (the engine answers _ping through the channel), orderly shutdown.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "guest/connector.hpp"
#include "layout/state_layout.hpp"
#include "vm/accel.hpp"
#include "vm/shares.hpp"
#include "vm/ssh_tunnel.hpp"
#include "vm/vm_driver.hpp"

namespace twinbox::vm {

struct GuestAssets {
  std::string kernel, initrd, base_image;
};

struct UtilityVmConfig {
  std::string role;  // "hv" or "rosetta"; also the VM's name in the state dir
  std::string guest_arch = "arm64";
  std::string native;            // what the VM runs natively: "linux/arm64"
  std::string translated;        // what it runs through its translator: "linux/amd64", or ""
  std::string translator;        // the binfmt_misc entry the guest registers: "qemu-x86_64", or ""
  std::string translator_flags;  // the flags its rule is written with: "POCF"
  std::string translator_note;   // shown after the flags: "hv fallback", or ""
  bool register_translator = false;  // hv as rosetta's fallback: register qemu-x86_64 too
  unsigned memory_mib = 2048;
  unsigned vcpus = 1;
  unsigned tb_cache_mib = 256;
  // Under TCG, false boots the guest with `norandmaps`: each exec of a binary maps at the same
  // addresses, so QEMU's translation cache (keyed by guest virtual address) serves the next
  // dockerd hook, shim or runtime instead of translating it again. Ignored under KVM (kept on).
  bool guest_aslr = false;
  std::string data_disk_size = "32G";  // sparse
  std::vector<int> host_loopback_ports;
  // Host loopback TCP ports containers may reach at 10.0.2.2 (host.docker.internal); the guest
  // refuses every other new connection to the host. Empty: none.
  std::vector<int> host_access_ports;
  // Host directories mounted at the same path in the guest (virtio-9p).
  std::vector<Share> shares;
  // The host directory of the global volumes, mounted on the engine's volume directory; "" keeps
  // the engine's volumes on its own data disk.
  std::string volumes_dir;
  int boot_timeout_s = 300;
  // A domain left running by an earlier twinboxd is adopted when its engine answers within this
  // many seconds of finding it; otherwise it is restarted.
  int adopt_timeout_s = 60;
  // Supervision (run()): a VM that was up and whose QEMU stopped, or whose engine did not
  // answer _ping for engine_silence_restart_s, is booted again after a backoff of 1, 2, 4 ...
  // restart_max_delay_s seconds (the sequence starts over once it has run 2 minutes). The
  // backend shows failed from the first of: the domain stopped, or engine_silence_failed_s
  // without an answer.
  bool restart = true;
  int restart_max_delay_s = 60;
  int engine_silence_failed_s = 4;
  int engine_silence_restart_s = 60;
  int shutdown_timeout_s = 30;
  GuestAssets assets;
  std::string domain_template;  // text of vmtemplates/utility-vm.xml
};

enum class VmPhase { Stopped, Starting, Running, Stopping, Failed };
const char* vm_phase_name(VmPhase p);

// What an engine says about itself in its /_ping answer's headers.
struct EnginePing {
  std::string version;      // from "Server: Docker/26.1.5 (linux)": "26.1.5"; "" if absent
  std::string api_version;  // "Api-Version: 1.45"; "" if absent
};

struct VmStatus {
  VmPhase phase = VmPhase::Stopped;
  std::string detail;
  double boot_seconds = 0;
  // The flags of the translator's binfmt_misc entry as the guest reports them once it is up
  // (guest-init reads /proc/sys/fs/binfmt_misc/<name>); "" before, or when it reported none.
  std::string translator_flags;
  // The guest engine's version and API version, from its /_ping once it answered; "" before.
  std::string engine_version;
  std::string engine_api_version;
  // How many times the engine became ready in this daemon: each is a new engine (a boot, or
  // an adoption).
  uint64_t engine_run = 0;
  // The engine became ready by adopting a domain an earlier twinboxd had started.
  bool adopted = false;
  // The VM died and run() restarts it (waiting out the backoff, or booting).
  bool restarting = false;
};

// A slirp host forward as QEMU's `info usernet` lists it.
struct HostForward {
  std::string proto;  // "tcp" or "udp"
  std::string host_ip;
  int host_port = 0;
  std::string guest_ip;
  int guest_port = 0;
  bool operator==(const HostForward&) const = default;
};
// The HOST_FORWARD rows of an `info usernet` answer.
std::vector<HostForward> parse_usernet_forwards(std::string_view info_usernet);

// Whether the running domain `name` can be adopted: it was started from `saved_xml` (the domain
// XML of the boot that started it) and that equals `xml` (what this twinboxd would start), and
// the forward to its sshd on 127.0.0.1:`saved_ssh_port` is still there. Returns that port, or an
// error that says why the domain cannot be adopted.
Result<int> adoptable_ssh_port(VmDriver& driver, const std::string& name,
                               const std::optional<std::string>& saved_xml, const std::string& xml,
                               int saved_ssh_port);

class UtilityVm {
 public:
  UtilityVm(UtilityVmConfig cfg, const layout::StateLayout& layout, VmDriver& driver,
            AccelChoice accel);

  // Blocks until the guest engine answers through the channel, or fails with the reason and
  // the tail of the console log.
  Status boot();
  // ACPI power button, wait up to shutdown_timeout_s, then destroy what is left. A boot in
  // progress on another thread is cancelled: it returns an error soon after.
  Status shutdown();
  // Leaves the VM running for the next twinboxd to adopt: ends run() (a boot in progress is
  // cancelled) and the ssh channel, and touches nothing else.
  void detach();
  // The VM's life on its own thread, until shutdown(): boot (or adopt), then every second the
  // domain's state and the engine's _ping; a VM that died is booted again with backoff (see
  // UtilityVmConfig::restart). A first boot that fails is reported and not retried: that is a
  // configuration or asset problem, not a crash.
  void run();

  VmStatus status() const;
  const UtilityVmConfig& config() const { return cfg_; }
  const AccelChoice& accel() const { return accel_; }
  std::string domain_name() const { return "twinbox-" + cfg_.role; }
  guest::GuestConnector& connector() { return connector_; }

  // A published port: host `host_ip:host_port` -> the guest's `guest_port` (slirp hostfwd,
  // added and removed at runtime over the QEMU monitor). `proto` is "tcp" or "udp".
  Status forward_port(const std::string& proto, const std::string& host_ip, int host_port,
                      int guest_port);
  Status unforward_port(const std::string& proto, const std::string& host_ip, int host_port);

 private:
  Status prepare_disk();
  Result<std::string> render_domain();
  // Adopts the running domain when adoptable_ssh_port says so and its engine answers within
  // adopt_timeout_s; an error says why not (the caller restarts the domain).
  Status adopt(const std::string& xml);
  Status start_domain(const std::string& xml);
  Status wait_ready(std::chrono::steady_clock::time_point deadline);
  Status check_domain_running();
  Status check_console_fatal();
  std::string read_back_translator_flags();
  // One look at a running VM: "" while it is healthy, else why it must be restarted. Restarts a
  // dead ssh channel; marks the backend failed (and running again) as the engine falls silent
  // (and answers again).
  std::string check();
  // Waits up to `d` (with `wake_on_stop`, or until the driver reports the domain stopped); true
  // when shutdown() was called.
  bool wait_cancelled(std::chrono::steady_clock::duration d, bool wake_on_stop = false);
  void run_supervised();
  void set_status(VmPhase p, std::string detail);
  std::string console_tail() const;

  UtilityVmConfig cfg_;
  const layout::StateLayout& layout_;
  VmDriver& driver_;
  AccelChoice accel_;
  guest::UnixConnector connector_;
  SshTunnel tunnel_;
  int ssh_port_ = 0;
  std::atomic<bool> cancel_{false};
  bool poked_ = false;  // the driver saw the domain stop: look now (under cancel_mu_)
  std::mutex cancel_mu_;
  std::condition_variable cancel_cv_;
  std::chrono::steady_clock::time_point last_answer_;  // run()'s thread only
  std::string restarting_after_;  // why the boot in progress is a restart (under mu_)
  mutable std::mutex mu_;
  VmStatus status_;
  EnginePing ping_;  // the last /_ping answer of wait_ready (boot's thread only)
};

// GET /_ping over a fresh connection; the engine's headers when it answers 200 OK within
// `timeout_s`.
std::optional<EnginePing> engine_ping(guest::GuestConnector& c, int timeout_s = 5);
// The n-th wait (from 0) of a restart backoff: 1, 2, 4 ... at most max_s seconds.
int restart_delay_s(unsigned n, int max_s);
// Parses a /_ping answer (status line, headers, body "OK").
std::optional<EnginePing> parse_engine_ping(std::string_view reply);

}  // namespace twinbox::vm
