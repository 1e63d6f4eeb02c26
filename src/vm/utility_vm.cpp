#include "vm/utility_vm.hpp"

#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "guest/binfmt_report.hpp"
#include "platform/arch_table.hpp"
#include "util/fd.hpp"
#include "util/fs.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"
#include "util/subprocess.hpp"
#include "vm/domain_xml.hpp"

namespace twinbox::vm {

using Clock = std::chrono::steady_clock;

const char* vm_phase_name(VmPhase p) {
  switch (p) {
    case VmPhase::Stopped:
      return "stopped";
    case VmPhase::Starting:
      return "starting";
    case VmPhase::Running:
      return "running";
    case VmPhase::Stopping:
      return "stopping";
    case VmPhase::Failed:
      return "failed";
  }
  return "unknown";
}

static SshKeys keys_for(const layout::StateLayout& l, const std::string& vm) {
  return {l.ssh_client_key(), l.vm_host_key(vm), l.vm_known_hosts(vm), "twinbox-" + vm};
}

UtilityVm::UtilityVm(UtilityVmConfig cfg, const layout::StateLayout& layout, VmDriver& driver,
                     AccelChoice accel)
    : cfg_(std::move(cfg)),
      layout_(layout),
      driver_(driver),
      accel_(std::move(accel)),
      connector_(layout.vm_engine_socket(cfg_.role)),
      tunnel_(keys_for(layout, cfg_.role), layout.vm_engine_socket(cfg_.role),
              layout.vm_tunnel_log(cfg_.role), layout.vm_tunnel_pid(cfg_.role),
              cfg_.host_loopback_ports) {}

void UtilityVm::set_status(VmPhase p, std::string detail) {
  std::lock_guard lock(mu_);
  status_.phase = p;
  status_.detail = std::move(detail);
  // A restart's boot keeps saying why it restarts.
  if (p == VmPhase::Starting && !restarting_after_.empty())
    status_.detail += "; restarting after: " + restarting_after_;
}

VmStatus UtilityVm::status() const {
  std::lock_guard lock(mu_);
  return status_;
}

std::string UtilityVm::console_tail() const {
  auto text = fs::read_file(layout_.vm_console_log(cfg_.role));
  if (!text) return "(no console output: " + text.error().message + ")";
  return tail_lines(*text, 15);
}

// The data disk holds the engine's state and, seeded at creation, the guest's ssh keys.
Status UtilityVm::prepare_disk() {
  std::string disk = layout_.vm_data_disk(cfg_.role);
  if (fs::exists(disk)) return {};
  std::string seed = layout_.vm_dir(cfg_.role) + "/seed.tmp";
  std::error_code ignored;
  std::filesystem::remove_all(seed, ignored);
  TRY(fs::make_dirs(seed + "/twinbox/ssh", 0700));
  TRY_ASSIGN(std::string client_pub, fs::read_file(layout_.ssh_client_key() + ".pub"));
  TRY_ASSIGN(std::string host_key, fs::read_file(layout_.vm_host_key(cfg_.role)));
  TRY_ASSIGN(std::string host_pub, fs::read_file(layout_.vm_host_key(cfg_.role) + ".pub"));
  TRY(fs::write_file_atomic(seed + "/twinbox/ssh/authorized_keys", client_pub, 0600));
  TRY(fs::write_file_atomic(seed + "/twinbox/ssh/ssh_host_ed25519_key", host_key, 0600));
  TRY(fs::write_file_atomic(seed + "/twinbox/ssh/ssh_host_ed25519_key.pub", host_pub, 0644));
  std::string tmp = disk + ".tmp";
  ::unlink(tmp.c_str());
  auto r = run_checked({"mkfs.ext4", "-q", "-F", "-L", "twinbox-" + cfg_.role, "-d", seed, "-E",
                        "lazy_itable_init=1,lazy_journal_init=1", tmp, cfg_.data_disk_size});
  std::filesystem::remove_all(seed, ignored);
  if (!r) {
    ::unlink(tmp.c_str());
    return r.error().context("create data disk " + disk);
  }
  if (::rename(tmp.c_str(), disk.c_str()) != 0)
    return make_error(ErrorCode::Io, "rename " + tmp + " to " + disk);
  log::info(cfg_.role, "created data disk " + disk + " (" + cfg_.data_disk_size + ", sparse)");
  return {};
}

Result<std::string> UtilityVm::render_domain() {
  auto arch = platform::arch_info(cfg_.guest_arch);
  if (!arch) return make_error(ErrorCode::InvalidArgument, "unknown guest arch " + cfg_.guest_arch);
  DomainSpec spec;
  spec.name = domain_name();
  spec.role = cfg_.role;
  spec.guest_arch = cfg_.guest_arch;
  spec.accelerator = accel_.accelerator;
  spec.memory_mib = cfg_.memory_mib;
  spec.vcpus = cfg_.vcpus;
  spec.tb_cache_mib = cfg_.tb_cache_mib;
  spec.emulator = "/usr/bin/" + arch->qemu_system;
  spec.kernel = cfg_.assets.kernel;
  spec.initrd = cfg_.assets.initrd;
  GuestOptions guest;
  guest.register_translator = cfg_.register_translator;
  guest.host_access_ports = cfg_.host_access_ports;
  guest.shares = cfg_.shares;
  guest.global_volumes = !cfg_.volumes_dir.empty();
  guest.no_randmaps = !guest_randomises(cfg_.guest_aslr, accel_.accelerator);
  spec.cmdline = guest_cmdline(arch->console_device, cfg_.role, guest);
  spec.shares = cfg_.shares;
  spec.volumes_dir = cfg_.volumes_dir;
  spec.base_image = cfg_.assets.base_image;
  spec.data_disk = layout_.vm_data_disk(cfg_.role);
  spec.console_log = layout_.vm_console_log(cfg_.role);
  return render_domain_xml(cfg_.domain_template, spec);
}

std::vector<HostForward> parse_usernet_forwards(std::string_view info_usernet) {
  //   TCP[HOST_FORWARD]  20       127.0.0.1 48263       10.0.2.15    22     0     0
  std::vector<HostForward> out;
  for (const std::string& line : split(info_usernet, '\n')) {
    std::vector<std::string> f;
    for (const std::string& w : split(trim(line), ' '))
      if (!w.empty()) f.push_back(w);
    if (f.size() < 6 || (f[0] != "TCP[HOST_FORWARD]" && f[0] != "UDP[HOST_FORWARD]")) continue;
    auto host_port = parse_int(f[3]);
    auto guest_port = parse_int(f[5]);
    if (!host_port || !guest_port) continue;
    // slirp shows an any-address bind as "*".
    out.push_back({f[0][0] == 'T' ? "tcp" : "udp", f[2] == "*" ? "0.0.0.0" : f[2],
                   static_cast<int>(*host_port), f[4], static_cast<int>(*guest_port)});
  }
  return out;
}

Result<int> adoptable_ssh_port(VmDriver& driver, const std::string& name,
                               const std::optional<std::string>& saved_xml, const std::string& xml,
                               int saved_ssh_port) {
  if (!saved_xml)
    return make_error(ErrorCode::Conflict, "the domain XML it was started from is not recorded");
  if (*saved_xml != xml) {
    // Name the first line that differs: assets, memory, shares, flags all show in the XML.
    auto a = split(*saved_xml, '\n'), b = split(xml, '\n');
    size_t i = 0;
    while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
    std::string now = i < b.size() ? std::string(trim(b[i])) : "(end)";
    return make_error(ErrorCode::Conflict,
                      "it runs another configuration than this twinboxd's (its domain XML differs "
                      "from line " +
                          std::to_string(i + 1) + ", which now reads: " + now + ")");
  }
  if (saved_ssh_port <= 0)
    return make_error(ErrorCode::Conflict, "the port of its ssh forward is not recorded");
  TRY_ASSIGN(std::string usernet, driver.monitor_command(name, "info usernet"));
  HostForward ssh{"tcp", "127.0.0.1", saved_ssh_port, "", 22};
  for (HostForward f : parse_usernet_forwards(usernet)) {
    f.guest_ip.clear();
    if (f == ssh) return saved_ssh_port;
  }
  return make_error(ErrorCode::Conflict,
                    "its ssh forward 127.0.0.1:" + std::to_string(saved_ssh_port) + " is gone");
}

Status UtilityVm::start_domain(const std::string& xml) {
  std::string name = domain_name();
  TRY(fs::write_file_atomic(layout_.vm_domain_xml(cfg_.role), xml, 0600));
  ::unlink(layout_.vm_ssh_port(cfg_.role).c_str());
  // Keep the previous boot's console for post-mortems.
  std::string console = layout_.vm_console_log(cfg_.role);
  ::rename(console.c_str(), (console + ".1").c_str());
  auto st = driver_.start(name, xml);
  if (!st && st.error().code == ErrorCode::Conflict) {
    // Running again (paused, or started behind our back since boot looked): start afresh.
    // Engine state lives on the data disk and survives this.
    log::warn(cfg_.role, "a previous " + name + " is still running; restarting it");
    TRY(driver_.destroy(name));
    st = driver_.start(name, xml);
  }
  if (!st) return st.error();

  // Forward a loopback port to the guest's sshd. The port is free when picked; retry on a race.
  Status fwd = make_error(ErrorCode::Io, "no port");
  for (int attempt = 0; attempt < 5 && !fwd; ++attempt) {
    TRY_ASSIGN(int port, pick_free_loopback_port());
    auto out = driver_.monitor_command(
        name, "hostfwd_add hostnet0 tcp:127.0.0.1:" + std::to_string(port) + "-:22");
    if (!out) return out.error();
    if (trim(*out).empty()) {
      ssh_port_ = port;
      fwd = {};
    } else {
      fwd = make_error(ErrorCode::Io, "hostfwd_add: " + std::string(trim(*out)));
    }
  }
  if (!fwd) return fwd.error().context("forward ssh port of " + name);
  // What a later twinboxd needs to adopt this domain (with domain.xml above).
  return fs::write_file_atomic(layout_.vm_ssh_port(cfg_.role), std::to_string(ssh_port_) + "\n",
                               0600);
}

Status UtilityVm::adopt(const std::string& xml) {
  auto saved_xml = fs::read_file(layout_.vm_domain_xml(cfg_.role));
  auto port_text = fs::read_file(layout_.vm_ssh_port(cfg_.role));
  auto port = port_text ? parse_int(trim(*port_text)) : std::nullopt;
  TRY_ASSIGN(int ssh_port, adoptable_ssh_port(driver_, domain_name(),
                                              saved_xml ? std::optional(*saved_xml) : std::nullopt,
                                              xml, port ? static_cast<int>(*port) : 0));
  ssh_port_ = ssh_port;
  log::info(cfg_.role, "adopting " + domain_name() +
                           ", left running by an earlier twinboxd (ssh on "
                           "127.0.0.1:" +
                           std::to_string(ssh_port_) + ")");
  set_status(VmPhase::Starting, "adopting the running domain");
  return wait_ready(Clock::now() + std::chrono::seconds(cfg_.adopt_timeout_s));
}

Status UtilityVm::forward_port(const std::string& proto, const std::string& host_ip, int host_port,
                               int guest_port) {
  std::string rule =
      proto + ":" + host_ip + ":" + std::to_string(host_port) + "-:" + std::to_string(guest_port);
  TRY_ASSIGN(std::string out,
             driver_.monitor_command(domain_name(), "hostfwd_add hostnet0 " + rule));
  // HMP answers "" on success and a message ("Could not set up host forwarding rule ...")
  // when the host port is taken by another process.
  if (!trim(out).empty()) {
    // A domain adopted from an earlier twinboxd still has the forwards that one added.
    HostForward want{proto, host_ip, host_port, "", guest_port};
    auto usernet = driver_.monitor_command(domain_name(), "info usernet");
    for (HostForward f : usernet ? parse_usernet_forwards(*usernet) : std::vector<HostForward>{}) {
      f.guest_ip.clear();
      if (f == want) return {};
    }
  }
  if (!trim(out).empty())
    return make_error(ErrorCode::Conflict, "cannot publish host port " + host_ip + ":" +
                                               std::to_string(host_port) + "/" + proto + " (" +
                                               std::string(trim(out)) +
                                               "); another program on this host holds it");
  return {};
}

Status UtilityVm::unforward_port(const std::string& proto, const std::string& host_ip,
                                 int host_port) {
  std::string rule = proto + ":" + host_ip + ":" + std::to_string(host_port);
  TRY_ASSIGN(std::string out,
             driver_.monitor_command(domain_name(), "hostfwd_remove hostnet0 " + rule));
  if (!trim(out).empty() && trim(out).find("removed") == std::string_view::npos)
    return make_error(ErrorCode::Io, "hostfwd_remove " + rule + ": " + std::string(trim(out)));
  return {};
}

// An error when the domain is no longer running.
Status UtilityVm::check_domain_running() {
  TRY_ASSIGN(DomainState ds, driver_.state(domain_name()));
  if (ds == DomainState::Stopped || ds == DomainState::Crashed)
    return make_error(
        ErrorCode::Unavailable,
        "VM " + domain_name() + " is no longer running (domain " + domain_state_name(ds) + ")");
  return {};
}

// An error quoting the guest's "FATAL" console line, if its init printed one while booting.
Status UtilityVm::check_console_fatal() {
  auto text = fs::read_file(layout_.vm_console_log(cfg_.role));
  if (!text) return {};
  auto pos = text->find("twinbox-guest: FATAL");
  if (pos == std::string::npos) return {};
  auto end = text->find('\n', pos);
  return make_error(ErrorCode::Unavailable, "guest init failed: " + text->substr(pos, end - pos));
}

// The translator's flags as this boot's guest registered them: what labels and status show.
std::string UtilityVm::read_back_translator_flags() {
  if (cfg_.translator.empty()) return "";
  auto text = fs::read_file(layout_.vm_console_log(cfg_.role));
  auto report = text ? guest::find_binfmt_report(*text, cfg_.translator) : std::nullopt;
  if (!report) {
    log::warn(cfg_.role, "the guest did not report its binfmt entry " + cfg_.translator +
                             " on the console; showing the configured flags " +
                             cfg_.translator_flags);
    return "";
  }
  if (report->flags != cfg_.translator_flags)
    log::warn(cfg_.role, "binfmt " + cfg_.translator + " is registered with flags " +
                             report->flags + ", not the configured " + cfg_.translator_flags);
  log::info(cfg_.role, "translator " + cfg_.translator + ": " + report->interpreter +
                           ", binfmt flags " + report->flags + " (read back from the guest)");
  return report->flags;
}

Status UtilityVm::wait_ready(Clock::time_point deadline) {
  auto last_ssh_start = Clock::now() - std::chrono::seconds(10);
  while (Clock::now() < deadline) {
    if (cancel_) return make_error(ErrorCode::Unavailable, "boot cancelled by shutdown");
    TRY(check_domain_running());
    TRY(check_console_fatal());
    if (!tunnel_.alive() && Clock::now() - last_ssh_start > std::chrono::seconds(2)) {
      TRY(tunnel_.start(ssh_port_));
      last_ssh_start = Clock::now();
    }
    if (tunnel_.alive() && fs::exists(layout_.vm_engine_socket(cfg_.role)))
      if (auto ping = engine_ping(connector_)) {
        ping_ = *ping;
        return {};
      }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  std::string ssh = tunnel_.log_tail();
  return make_error(ErrorCode::Timeout, "VM " + domain_name() + ": engine did not answer within " +
                                            std::to_string(cfg_.boot_timeout_s) + " s" +
                                            (ssh.empty() ? "" : "; ssh says: " + ssh) +
                                            "\nconsole tail (" + layout_.vm_console_log(cfg_.role) +
                                            "):\n" + console_tail());
}

Status UtilityVm::boot() {
  auto t0 = Clock::now();
  bool adopted = false;
  set_status(VmPhase::Starting, "preparing");
  auto run = [&]() -> Status {
    TRY(fs::make_dirs(layout_.vm_dir(cfg_.role), 0700));
    TRY(fs::make_dirs(layout_.run_dir(), 0700));
    TRY(ensure_ssh_keys(keys_for(layout_, cfg_.role)));
    TRY(prepare_disk());
    TRY_ASSIGN(std::string xml, render_domain());
    // A domain an earlier twinboxd left running (a restart, a kill -9) keeps its containers:
    // adopt it when it runs what we would start and its engine answers; else start afresh.
    TRY_ASSIGN(DomainState found, driver_.lookup(domain_name()));
    if (found == DomainState::Running) {
      Status a = adopt(xml);
      if (a) {
        adopted = true;
        return a;
      }
      if (cancel_) return make_error(ErrorCode::Unavailable, "boot cancelled by shutdown");
      log::warn(cfg_.role, domain_name() + " is running but is not adopted: " + a.error().message +
                               "; restarting it");
      tunnel_.stop();
      TRY(driver_.destroy(domain_name()));
    }
    set_status(VmPhase::Starting, "booting (" + accel_.reason + ")");
    TRY(start_domain(xml));
    if (cancel_) {
      // shutdown() found no domain yet (libvirt was still creating it) and left it to us.
      if (auto st = driver_.destroy(domain_name()); !st) log::warn(cfg_.role, st.error().message);
      return make_error(ErrorCode::Unavailable, "boot cancelled by shutdown");
    }
    log::info(cfg_.role, "domain " + domain_name() + " started, ssh on 127.0.0.1:" +
                             std::to_string(ssh_port_) + ", waiting for the engine");
    set_status(VmPhase::Starting, "waiting for the guest engine");
    return wait_ready(t0 + std::chrono::seconds(cfg_.boot_timeout_s));
  };
  Status st = run();
  if (!st) {
    set_status(VmPhase::Failed, st.error().message);
    return st.error().context("boot " + cfg_.role);
  }
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::string flags = read_back_translator_flags();
  {
    std::lock_guard lock(mu_);
    status_.phase = VmPhase::Running;
    status_.detail = adopted ? "engine answering (adopted a running VM)" : "engine answering";
    status_.adopted = adopted;
    status_.boot_seconds = secs;
    status_.translator_flags = flags;
    status_.engine_version = ping_.version;
    status_.engine_api_version = ping_.api_version;
    ++status_.engine_run;
  }
  last_answer_ = Clock::now();
  log::info(cfg_.role,
            std::string(adopted ? "adopted engine ready after " : "engine ready after ") +
                std::to_string(secs).substr(0, 5) + " s: Docker " + ping_.version + ", API " +
                ping_.api_version);
  return {};
}

int restart_delay_s(unsigned n, int max_s) {
  return n >= 30 ? max_s : static_cast<int>(std::min<int64_t>(int64_t{1} << n, max_s));
}

bool UtilityVm::wait_cancelled(Clock::duration d, bool wake_on_stop) {
  std::unique_lock lock(cancel_mu_);
  cancel_cv_.wait_for(lock, d, [&] { return cancel_.load() || (wake_on_stop && poked_); });
  poked_ = false;
  return cancel_;
}

std::string UtilityVm::check() {
  // After boot a fatal guest error (the engine exiting, too) powers the VM off, so a dead
  // engine mostly shows as a stopped domain; libvirt notices a QEMU that died at once.
  auto alive = check_domain_running();
  if (!alive) return alive.error().message;
  if (!tunnel_.alive()) {
    log::warn(cfg_.role, "ssh channel exited (" + tunnel_.log_tail() + "); restarting it");
    if (auto st = tunnel_.start(ssh_port_); !st) log::error(cfg_.role, st.error().message);
  }
  auto now = Clock::now();
  if (engine_ping(connector_, 2)) {
    last_answer_ = now;
    if (status().phase == VmPhase::Failed) {
      set_status(VmPhase::Running, "engine answering again");
      log::info(cfg_.role, "the engine answers again");
    }
    return "";
  }
  auto silent = std::chrono::duration_cast<std::chrono::seconds>(now - last_answer_).count();
  if (silent >= cfg_.engine_silence_restart_s)
    return "the engine did not answer for " + std::to_string(silent) + " s";
  if (silent >= cfg_.engine_silence_failed_s && status().phase == VmPhase::Running) {
    std::string why = "the engine has not answered for " + std::to_string(silent) +
                      " s (the VM runs; it is restarted after " +
                      std::to_string(cfg_.engine_silence_restart_s) + " s of silence)";
    set_status(VmPhase::Failed, why);
    log::error(cfg_.role, why);
  }
  return "";
}

void UtilityVm::run() {
  // Registered for run()'s length only: the driver may be gone before this object is.
  driver_.watch_stops(domain_name(), [this] {
    {
      std::lock_guard lock(cancel_mu_);
      poked_ = true;
    }
    cancel_cv_.notify_all();
  });
  run_supervised();
  driver_.watch_stops(domain_name(), {});
}

void UtilityVm::run_supervised() {
  if (auto st = boot(); !st) {
    log::error(cfg_.role, st.error().message);
    return;
  }
  unsigned failures = 0;
  auto up_since = Clock::now();
  while (!wait_cancelled(std::chrono::seconds(1), true)) {
    std::string why = check();
    if (why.empty() || cancel_) continue;
    tunnel_.stop();
    if (!cfg_.restart) {
      set_status(VmPhase::Failed, why + "; not restarted (--no-vm-restart)");
      log::error(cfg_.role, why + "; not restarted (--no-vm-restart)");
      wait_cancelled(std::chrono::hours(24 * 365));
      return;
    }
    // Restarted until a boot succeeds; the backoff starts over once the VM ran 2 minutes.
    if (Clock::now() - up_since > std::chrono::minutes(2)) failures = 0;
    for (;;) {
      int delay = restart_delay_s(failures++, cfg_.restart_max_delay_s);
      std::string text = why + "; restarting in " + std::to_string(delay) + " s (attempt " +
                         std::to_string(failures) + ")";
      set_status(VmPhase::Failed, text);
      {
        std::lock_guard lock(mu_);
        status_.restarting = true;
      }
      log::error(cfg_.role, text);
      if (wait_cancelled(std::chrono::seconds(delay))) return;
      if (auto st = driver_.destroy(domain_name()); !st) log::warn(cfg_.role, st.error().message);
      {
        std::lock_guard lock(mu_);
        restarting_after_ = why;
      }
      Status st = boot();
      {
        std::lock_guard lock(mu_);
        restarting_after_.clear();
        status_.restarting = !st;
      }
      if (cancel_) return;
      if (st) {
        log::info(cfg_.role, "restarted after: " + why);
        up_since = Clock::now();
        break;
      }
      why = "restart failed: " + st.error().message;
    }
  }
}

void UtilityVm::detach() {
  {
    std::lock_guard lock(cancel_mu_);
    cancel_ = true;
  }
  cancel_cv_.notify_all();
  tunnel_.stop();
  set_status(VmPhase::Stopped, "left running for the next twinboxd to adopt");
  log::info(cfg_.role, domain_name() + " left running for the next twinboxd to adopt");
}

Status UtilityVm::shutdown() {
  {
    std::lock_guard lock(cancel_mu_);
    cancel_ = true;
  }
  cancel_cv_.notify_all();
  set_status(VmPhase::Stopping, "power button pressed");
  std::string name = domain_name();
  auto ds = driver_.state(name);
  if (ds && *ds != DomainState::Stopped) {
    if (auto st = driver_.shutdown(name); !st) log::warn(cfg_.role, st.error().message);
    auto deadline = Clock::now() + std::chrono::seconds(cfg_.shutdown_timeout_s);
    while (Clock::now() < deadline) {
      auto s = driver_.state(name);
      if (!s || *s == DomainState::Stopped) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    auto s = driver_.state(name);
    if (s && *s != DomainState::Stopped) {
      log::warn(cfg_.role, "no power-off within " + std::to_string(cfg_.shutdown_timeout_s) +
                               " s; destroying " + name);
      if (auto st = driver_.destroy(name); !st) {
        set_status(VmPhase::Failed, st.error().message);
        tunnel_.stop();
        return st.error();
      }
    } else {
      log::info(cfg_.role, name + " powered off");
    }
  }
  tunnel_.stop();
  set_status(VmPhase::Stopped, "");
  return {};
}

std::optional<EnginePing> parse_engine_ping(std::string_view reply) {
  if (!(starts_with(reply, "HTTP/1.1 200") || starts_with(reply, "HTTP/1.0 200"))) return {};
  auto end = reply.find("\r\n\r\n");
  if (end == std::string_view::npos || reply.substr(end + 4).substr(0, 2) != "OK") return {};
  EnginePing p;
  for (const std::string& line : split(reply.substr(0, end), '\n')) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = to_lower(std::string_view(line).substr(0, colon));
    std::string value(trim(std::string_view(line).substr(colon + 1)));  // trim drops the \r
    if (name == "api-version") p.api_version = value;
    if (name == "server" && starts_with(value, "Docker/")) {
      auto space = value.find(' ');
      p.version = value.substr(7, space == std::string::npos ? std::string::npos : space - 7);
    }
  }
  return p;
}

std::optional<EnginePing> engine_ping(guest::GuestConnector& c, int timeout_s) {
  auto fd = c.connect();
  if (!fd) return {};
  timeval tv{timeout_s, 0};
  ::setsockopt(fd->get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd->get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (!write_all(fd->get(), "GET /_ping HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n"))
    return {};
  auto reply = read_to_eof(fd->get());
  if (!reply) return {};
  return parse_engine_ping(*reply);
}

}  // namespace twinbox::vm
