#pragma once
// Answers built from both engines, pure: /info, /version, merged /containers/json and
// /images/json, and twinbox's own status document. Inputs are what each engine said (or why it
// could not be asked); outputs are response bodies.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "api/backends.hpp"
#include "api/docker_json.hpp"
#include "platform/host_profile.hpp"
#include "router/route.hpp"
#include "router/workload_registry.hpp"

namespace twinbox::api {

// What one engine answered to a fan-out GET. `body` is set on a 200; otherwise `error` says why.
struct EngineReply {
  std::string backend;
  std::optional<std::string> body;
  std::string error;
  bool asked = true;  // false when the backend was not running, so nobody asked it
};

// Refuses the removal of volume `name` (Conflict, dockerd's "remove NAME: volume is in use -
// [IDs]" plus the backend) when a container on any backend uses it: `listings` are each
// engine's GET /containers/json?all=1&filters={"volume":[NAME]}. With the volumes global (one
// directory for both VMs) an engine that does not use it would otherwise delete data the other
// one's containers use; per VM it keeps the one-dockerd rule.
std::optional<Error> volume_in_use(const std::string& name,
                                   const std::vector<EngineReply>& listings);

// Refuses `docker network connect NETWORK CONTAINER` (InvalidArgument) when containers on a
// backend other than the container's `backend` are members of the network: each VM has its own
// bridge for the network's name, so the container would join a network whose members it cannot
// reach. `listings` are each engine's GET /containers/json?all=1&filters={"network":[NETWORK]};
// the `backend`'s own is ignored. The predefined networks (bridge, host, none) are per VM in any
// case and never refused.
std::optional<Error> network_split(const std::string& network, const std::string& container,
                                   const std::string& backend,
                                   const std::vector<EngineReply>& listings);

// Docker's `filters` query value: {"key":["v",...]} or the older {"key":{"v":true}}. "" is none.
using Filters = std::map<std::string, std::vector<std::string>>;
Result<Filters> parse_filters(std::string_view json);

// Whether `labels` (a JSON object, or null) pass a filter's "label" (each "k" or "k=v" must
// match) and "label!" (none may match) terms, as dockerd applies them.
bool labels_match(const Json& labels, const Filters& filters);

struct VolumeToPrune {
  std::string name;
  std::vector<std::string> backends;  // the engines that know it (each removes its record)
};
// POST /volumes/prune when the volumes are global (one directory for both VMs, so an engine's own
// prune would delete what the other's containers use). `unused` and `used` are each engine's GET
// /volumes?filters={"dangling":["true"]} and {"dangling":["false"]}: a volume some backend uses
// stays. `all` (the "all" filter, or a client API below 1.42) takes named volumes too, else only
// anonymous ones (label com.docker.volume.anonymous), as dockerd does; label filters apply.
std::vector<VolumeToPrune> plan_volume_prune(const std::vector<EngineReply>& unused,
                                             const std::vector<EngineReply>& used,
                                             const Filters& filters, bool all);

// POST /{containers,images,networks,volumes,build}/prune on every engine as one answer: the
// lists (ContainersDeleted, ImagesDeleted, NetworksDeleted, VolumesDeleted, CachesDeleted)
// joined without repeats (networks and volumes share names across the VMs), SpaceReclaimed
// summed, null where every engine said null.
std::string merge_prune(const std::vector<EngineReply>& replies);
// GET /system/df of both engines as one: LayersSize and BuilderSize summed, Images, Containers
// and BuildCache joined, Volumes one entry per name (as GET /volumes shows them).
std::string merge_system_df(const std::vector<EngineReply>& replies);

// "io.twinbox.backend.hv=state=running arch=arm64 platform=linux/arm64 accelerator=tcg
// translator=none": how `docker info` shows both backends (under Labels).
std::string backend_label(const BackendStatus& s);
// "io.twinbox.host-profile=apple-silicon (hv: linux/arm64; rosetta: linux/arm64, linux/amd64
// (translated))": what each backend runs, shown by `docker info` under Labels.
// "io.twinbox.builds=...": where BuildKit builds each platform (docker info's Labels).
std::string builds_label(const platform::HostProfile& p);
std::string host_profile_label(const platform::HostProfile& profile);

// GET /info: the first engine's info (hv first) with Name "twinbox", summed counters, one label
// per backend, OperatingSystem naming twinbox, and a warning per backend not running.
std::string aggregate_info(const std::vector<BackendStatus>& statuses,
                           const std::vector<EngineReply>& replies,
                           const platform::HostProfile& profile = platform::default_profile());

// GET /version: hv's version (else rosetta's, else a synthesized one) with twinbox's platform
// name, ApiVersion `api_version` (what twinboxd speaks: the lowest of the engines') and a
// Components entry for twinbox that names each engine's version.
std::string aggregate_version(const std::vector<BackendStatus>& statuses,
                              const std::vector<EngineReply>& replies,
                              const std::string& daemon_version,
                              const std::string& api_version = std::string(router::kApiVersion));

// Concatenates JSON arrays of containers or images, newest first (by Created), keeping at most
// `limit` entries when limit > 0, each passed through `each` when given. Replies without a body
// (or not arrays) are skipped.
std::string merge_lists(const std::vector<EngineReply>& replies, int64_t limit,
                        const std::function<void(Json&)>& each = {});

// Image ID ("sha256:<config>") -> the "name@digest" entries the content store holds for it, in
// docker's familiar form ("busybox@sha256:<index or manifest digest>").
using RepoDigests = std::map<std::string, std::vector<std::string>>;

// An /images/json listing (an array) or an /images/{name}/json answer (one image) with the
// content store's RepoDigests added to each image after those its engine reported, without
// duplicates. An image delivered with `docker load` has none of its own, yet docker users read
// RepoDigests to pin what they pulled. A body that is not JSON is returned unchanged.
std::string with_repo_digests(const std::string& body, const RepoDigests& known);

// The containers of a /containers/json?all=1 listing, for WorkloadRegistry::reconcile_backend.
std::optional<std::vector<router::ContainerRecord>> containers_of_listing(const std::string& body);

struct DaemonInfo {
  int64_t pid = 0;
  std::string socket_path;
  std::string version;
  std::string registry_path;
  size_t containers = 0;  // known to the workload registry
  size_t execs = 0;
  std::string api_version = std::string(router::kApiVersion);  // what twinboxd speaks now
  std::vector<std::string> orphans_ended;  // orphaned VMs ended when twinboxd started
};

// GET /twinbox/v1/status: every BackendStatus field, and the daemon's own facts.
std::string status_document(const std::vector<BackendStatus>& statuses, const DaemonInfo& d);

}  // namespace twinbox::api
