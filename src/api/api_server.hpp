#pragma once
// twinboxd's Docker Engine API endpoint: the one entry point the daemon uses.
//
//   twinbox::api::ServerOptions opts;
//   opts.socket_path = state_dir + "/twinbox.sock";
//   opts.registry_path = state_dir + "/workloads.json";
//   opts.daemon_version = TWINBOX_VERSION;
//   twinbox::api::ApiServer api(opts, backends);   // backends: your BackendSet
//   if (auto st = api.start(); !st) { /* report st.error().message, exit 1 */ }
//   ... wait for a signal or BackendSet::request_shutdown() ...
//   api.stop();                                      // before the BackendSet goes away
//
// Contract:
// - start() loads the workload registry (a corrupt file is moved aside with a warning; an
//   unreadable one is an error), binds the socket with `socket_mode` (an existing socket file
//   is replaced), and returns; requests are served on background threads.
// - Requests are answered from the first moment, even while VMs boot: /_ping, /info, /version
//   and /twinbox/v1/status work with both backends down; routed requests to a backend that is
//   not Running get 503 with the backend's state and detail.
// - stop() is idempotent and blocking: it stops accepting, removes the socket file, ends idle
//   connections, waits up to `shutdown_grace` for in-flight requests and streams (logs -f,
//   attach) and then cuts them. It MUST NOT be called from inside BackendSet methods (they run
//   on request threads); call it from the thread that started the server.
// - The BackendSet must outlive the ApiServer; its methods are called from many threads.
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/backends.hpp"
#include "image/registry_client.hpp"
#include "router/run_decision.hpp"
#include "util/result.hpp"

namespace twinbox::api {

struct ServerOptions {
  std::string socket_path;  // where clients connect (DOCKER_HOST=unix://...)
  unsigned socket_mode = 0660;
  int socket_gid = -1;  // the socket's group (--socket-group); -1: the daemon's own
  // Containers get host.docker.internal pointing here (--host-access); "" adds nothing.
  std::string host_gateway;
  // Host directories shared into the VMs at the same path: bind mount sources outside them are
  // refused (400). nullopt: no check (engines that see the host's files themselves).
  std::optional<std::vector<std::string>> shared_dirs;
  // Directories under a share that are twinbox's own (the state dir): refused as bind sources.
  std::vector<std::string> withheld_dirs;
  std::string volumes_dir;     // global volumes on the host; "" (--no-global-volumes) for none
  std::string registry_path;   // workload registry JSON; "" keeps it in memory only
  std::string daemon_version;  // shown in /version Components, /twinbox/v1/status, Server header
  // Orphaned VMs this twinboxd ended when it started (vm/orphans), for /twinbox/v1/status.
  std::vector<std::string> orphans_ended;
  std::chrono::milliseconds shutdown_grace{2000};
  // List each backend's containers when it becomes Running and reconcile the registry.
  bool reconcile_on_running = true;
  // The host's content store (OCI layout) both VMs are fed from; "" = no store: pulls are
  // forwarded to the engines as they are.
  std::string content_store_path;
  image::RegistryOptions registry;  // how twinboxd reaches registries
  router::RouteEnv route_env;       // host profile, translator configuration, experiments
};

class ApiServer {
 public:
  ApiServer(ServerOptions options, BackendSet& backends);
  ~ApiServer();  // stop()
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  Status start();
  void stop();

 private:
  struct Impl;
  ServerOptions options_;
  BackendSet& backends_;
  std::unique_ptr<Impl> impl_;  // built by start()
};

}  // namespace twinbox::api
