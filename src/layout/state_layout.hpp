#pragma once
// The one place that knows where things live under twinboxd's state directory.
// docs/internals.md documents this layout; keep the two in step.
#include <string>

namespace twinbox::layout {

class StateLayout {
 public:
  explicit StateLayout(std::string root) : root_(std::move(root)) {}

  const std::string& root() const { return root_; }
  std::string api_socket() const { return root_ + "/docker.sock"; }
  std::string pid_file() const { return root_ + "/twinboxd.pid"; }
  std::string daemon_log() const { return root_ + "/twinboxd.log"; }
  // Present while the twinboxd of this dir runs with --exit-with-parent (a test harness's): its
  // VMs are orphans once it is gone (vm/orphans).
  std::string exit_with_parent_marker() const { return root_ + "/exit-with-parent"; }
  std::string workload_registry() const { return root_ + "/workloads.json"; }
  // The host's content store (an OCI image layout) shared by both VMs: pulls land here once
  // and are delivered into either engine by digest. `--content-store` may move it elsewhere.
  std::string content_store() const { return root_ + "/content"; }
  // Global volumes: their data, shared into both VMs (--no-global-volumes: none).
  std::string volumes_dir() const { return root_ + "/volumes"; }
  // Private (0700) directory for sockets only twinboxd may use.
  std::string run_dir() const { return root_ + "/run"; }
  std::string libvirt_root() const { return root_ + "/libvirt"; }
  std::string ssh_dir() const { return root_ + "/ssh"; }
  std::string ssh_client_key() const { return ssh_dir() + "/id_ed25519"; }

  std::string vm_dir(const std::string& vm) const { return root_ + "/vms/" + vm; }
  std::string vm_console_log(const std::string& vm) const { return vm_dir(vm) + "/console.log"; }
  std::string vm_data_disk(const std::string& vm) const { return vm_dir(vm) + "/data.img"; }
  std::string vm_domain_xml(const std::string& vm) const { return vm_dir(vm) + "/domain.xml"; }
  std::string vm_host_key(const std::string& vm) const {
    return vm_dir(vm) + "/ssh_host_ed25519_key";
  }
  std::string vm_known_hosts(const std::string& vm) const { return vm_dir(vm) + "/known_hosts"; }
  std::string vm_tunnel_log(const std::string& vm) const { return vm_dir(vm) + "/ssh.log"; }
  // The pid of the ssh process of the channel (a successor ends a predecessor's).
  std::string vm_tunnel_pid(const std::string& vm) const { return vm_dir(vm) + "/ssh.pid"; }
  // The host port of the slirp forward to the guest's sshd, as the domain was started with.
  std::string vm_ssh_port(const std::string& vm) const { return vm_dir(vm) + "/ssh-port"; }
  // The guest engine's API, forwarded by ssh to the host. Inside run_dir (0700).
  std::string vm_engine_socket(const std::string& vm) const {
    return run_dir() + "/" + vm + "-engine.sock";
  }

 private:
  std::string root_;
};

}  // namespace twinbox::layout
