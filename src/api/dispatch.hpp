#pragma once
// Executes routing decisions for one request: answers local endpoints, fans out to both
// engines, probes for unknown containers, forwards everything else through the proxy, and
// records what the answers tell the workload registry. The decision itself is router::decide.
#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "api/aggregate.hpp"
#include "api/backends.hpp"
#include "api/http.hpp"
#include "api/ports.hpp"
#include "api/proxy.hpp"
#include "api/responses.hpp"
#include "api/session_rendezvous.hpp"
#include "api/stream.hpp"
#include "pull/image_service.hpp"
#include "router/registry_store.hpp"
#include "router/route.hpp"
#include "store/archive_io.hpp"

namespace twinbox::api {

struct DaemonIdentity {
  std::string socket_path;
  std::string version;
  // The address containers reach the host at as host.docker.internal (--host-access); "" when
  // host access is off and the name is not added.
  std::string host_gateway;
  // Where bind mount sources may come from (ServerOptions::shared_dirs); nullopt: anywhere.
  std::optional<std::vector<std::string>> shared_dirs;
  // twinbox's own directories, never a bind source (ServerOptions::withheld_dirs).
  std::vector<std::string> withheld_dirs;
  // The host directory of the global volumes; "" (--no-global-volumes): each engine keeps its own.
  std::string volumes_dir;
  // Orphaned VMs ended at start (ServerOptions::orphans_ended).
  std::vector<std::string> orphans_ended;
};

// What happened to one request, for the server's log line and keep-alive.
struct RequestOutcome {
  int status = 0;
  std::string backend;  // "local", "hv", "rosetta", "hv+rosetta" (fan-out), "-" (refused)
  bool keep_alive = false;
  std::string reason;  // why that backend ("" for endpoints twinboxd answers itself)
};

class Dispatcher {
 public:
  // `images` may be null (no content store: pulls go straight to the engines); `env` holds the
  // host profile and translator configuration (backend states are filled in per request).
  Dispatcher(BackendSet& backends, router::RegistryStore& registry, DaemonIdentity identity,
             FdTracker* tracker, pull::ImageService* images = nullptr, router::RouteEnv env = {})
      : backends_(backends),
        registry_(registry),
        ports_(backends),
        identity_(std::move(identity)),
        tracker_(tracker),
        images_(images),
        env_(std::move(env)) {}

  // Serves the request whose head was just read from `client` (its body is still unread).
  RequestOutcome serve(Stream& client, const http::RequestHead& head);

  // Rebuilds the registry's view of one running backend from its engine's complete listing
  // (ids, names, compose labels). Called when a backend becomes Running, so a restarted
  // twinboxd (even after kill -9) routes every container as before.
  Status reconcile_backend(const std::string& backend);

 private:
  RequestOutcome answer(Stream& client, const http::RequestHead& head, const LocalResponse& r,
                        std::string backend, bool body_pending);
  RequestOutcome serve_local(Stream& client, const http::RequestHead& head,
                             const router::Decision& d, bool body_pending);
  RequestOutcome forward(Stream& client, const http::RequestHead& head, router::Decision d,
                         std::optional<std::string> body);
  // Probe: asks the running engines where the container/exec lives.
  router::Decision resolve_probe(const http::RequestHead& head, router::Decision d);
  // The pod references of a create the workload registry does not know (a container named by
  // its engine, one created behind twinboxd's back) are asked of the engines, as other
  // references are, and learnt. One no engine knows is refused as dockerd refuses it: a link
  // with 400 "could not get container for X: No such container: X" (a 404 would make the docker
  // CLI pull the image), the others with 404 "No such container: X".
  std::optional<Error> learn_pod_peers(const http::RequestHead& head,
                                       const std::vector<router::PodRef>& refs);
  // The body the engine gets: routing labels added, published ports reserved and forwarded
  // (under `pending_id`) and rewritten to what the guest binds.
  Result<std::string> prepare_create_body(const router::Decision& d, const std::string& body,
                                          const std::string& pending_id);
  bool container_exists(const std::string& backend, const std::string& id);
  // Running (or unsure: engine unreachable), stopped, or gone, as its engine says.
  HolderState holder_state(const router::PortHolder& holder);
  // Each engine keeps its names unique; twinbox keeps them unique across both: a create or
  // rename to a name a container holds on the other backend is refused like dockerd refuses it.
  std::optional<Error> name_held_elsewhere(const router::Decision& d);
  void apply_follow_up(const http::RequestHead& head, const router::Decision& d, int status,
                       const std::string& answer);
  void forget_if_stale(const http::RequestHead& head, const router::Decision& d, int status);
  ProxyResult proxy_to(Stream& client, const http::RequestHead& head, const std::string& backend,
                       const ProxyOptions& opts);
  LocalResponse list_response(const http::RequestHead& head, bool containers);
  // The content store's name@digest entries per image ID (empty without a store).
  RepoDigests known_repo_digests() const;

  std::vector<EngineReply> fan_out(const std::string& target, const std::string& method = "GET");
  // fan_out of a GET whose answer an engine never changes while it runs (/version): each
  // engine's 200 answer is kept for its run (BackendStatus::engine_run) and given again.
  std::vector<EngineReply> fan_out_constant(const std::string& target);
  // Prune and system df: every running engine asked, one answer (aggregate.hpp).
  LocalResponse fanned_answer(const http::RequestHead& head, router::LocalHandler what);

  // twinbox_endpoints.cpp: /twinbox/v1/... besides status and shutdown.
  RequestOutcome serve_twinbox(Stream& client, const http::RequestHead& head, bool body_pending);
  std::optional<std::vector<platform::Platform>> platforms_for_explain(const std::string& image,
                                                                       bool explicit_platform);
  LocalResponse route_explain(const http::RequestHead& head);
  LocalResponse declare_project(const std::string& name, const std::string& body);
  LocalResponse list_projects();
  LocalResponse list_store();
  LocalResponse engine_images();
  LocalResponse import_into_store(Stream& client, const http::RequestHead& head);
  // Receives an uploaded OCI archive or docker-archive and imports it into the content store
  // (`name` for an archive whose images have none).
  Result<store::ImportResult> import_upload(Stream& client, const http::RequestHead& head,
                                            const std::string& name);
  RequestOutcome export_from_store(Stream& client, const http::RequestHead& head,
                                   bool body_pending);
  RequestOutcome prewarm(Stream& client, const http::RequestHead& head, const std::string& body);

  // networks.cpp
  RequestOutcome serve_replicate(Stream& client, const http::RequestHead& head, router::Decision d,
                                 std::optional<std::string> body);
  LocalResponse merged_list(const http::RequestHead& head, bool networks);
  // POST /volumes/prune over global volumes: what no backend uses (plan_volume_prune).
  LocalResponse prune_global_volumes(const http::RequestHead& head);
  // POST /networks/{id}/connect routed to the container's backend: refused when the network's
  // members run on the other backend (network_split), so the container is not connected to a
  // bridge of the same name in a VM without them.
  std::optional<Error> check_network_connect(const http::RequestHead& head,
                                             const router::Decision& d,
                                             const std::string& container);

  // auth.cpp: POST /auth (docker login), checked by the host's registry client.
  RequestOutcome serve_auth(Stream& client, const http::RequestHead& head, bool body_pending);
  // events.cpp: GET /events merged from every running engine, in time order.
  RequestOutcome serve_events(Stream& client, const http::RequestHead& head, bool body_pending);

  // grpc_endpoint.cpp: POST /grpc, BuildKit's control API relayed call by call.
  RequestOutcome serve_buildkit(Stream& client, const http::RequestHead& head);

  // The backends that are running and reachable, the home backend first.
  std::vector<std::string> running_backends() const;

  // The API version twinboxd speaks: router::common_api_version of the running engines'.
  std::string api_version() const;

  // images.cpp
  router::RouteEnv route_env() const;
  // The host profile's default backend (hv): base of aggregated answers, home of the unroutable.
  const std::string& home() const { return env_.host().default_backend(); }
  RequestOutcome serve_pull(Stream& client, const http::RequestHead& head, bool body_pending);
  // POST /images/load: into the content store, then each platform into its backend's engine.
  RequestOutcome serve_load(Stream& client, const http::RequestHead& head);
  bool drain_pull_body(Stream& client, const http::RequestHead& head);
  Status deliver(const std::string& backend, const pull::StoredImage& img);
  // The platforms `image` offers: the content store's record, else the engines' local images.
  std::pair<std::optional<std::vector<platform::Platform>>, std::string> image_platforms(
      const std::string& image, bool explicit_platform);
  // Makes sure `backend`'s engine has `image` for `platform` when the content store can provide
  // it; returns what the store has (for the pinned-digest label).
  std::optional<pull::StoredImage> ensure_image(const std::string& backend,
                                                const std::string& image,
                                                const std::string& platform);
  std::optional<BackendStatus> status_of(const std::string& name) const;
  // The translator a decision names, with the flags `backend`'s guest really registered (its
  // status) when the workload runs translated there; "none" when it runs natively.
  std::string translator_of(const std::string& backend, const std::string& execution,
                            const std::string& decided) const;
  std::optional<Error> unavailable(const std::string& backend, const std::string& reason) const;
  std::string versioned(const http::RequestHead& head, const std::string& path_and_query) const;

  BackendSet& backends_;
  router::RegistryStore& registry_;
  SessionRendezvous sessions_;
  PortPublisher ports_;
  std::atomic<uint64_t> next_pending_{1};
  struct ConstantAnswer {
    uint64_t engine_run = 0;
    std::string target, body;
  };
  std::mutex constant_mu_;
  std::map<std::string, ConstantAnswer> constant_answers_;  // per backend, the last target asked
  DaemonIdentity identity_;
  FdTracker* tracker_;
  pull::ImageService* images_;
  router::RouteEnv env_;
};

}  // namespace twinbox::api
