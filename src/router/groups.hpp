#pragma once
// Groups that land on one backend: a compose project (label com.docker.compose.project) and a
// pod (containers joined by network_mode/pid/ipc "container:X", volumes_from or links). Pure:
// the create body and the registry in, a project decision or the pod's peers out. How a single
// container joins a placed project or a pod is decide_run()'s GroupContext (run_decision.hpp).
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "router/run_decision.hpp"
#include "router/workload_registry.hpp"
#include "util/result.hpp"

namespace twinbox::router {

inline constexpr std::string_view kComposeProjectLabel = "com.docker.compose.project";
inline constexpr std::string_view kComposeServiceLabel = "com.docker.compose.service";

// One service of a compose file, as `twinbox compose` declares it.
struct ServiceSpec {
  std::string name;
  std::optional<std::string> platform;                             // compose `platform:`
  std::optional<std::vector<platform::Platform>> image_platforms;  // nullopt: unknown
};

struct ServicePlacement {
  std::string service;
  RunDecision decision;
};

struct ProjectDecision {
  std::string project;
  std::string backend;    // "hv", "rosetta", or "mixed" (only with env.mixed_projects)
  std::string forced_by;  // the service that put the project on rosetta, "" otherwise
  std::string reason;     // one line naming the host profile
  std::vector<ServicePlacement> services;  // in input order
};

// All services arm64-capable -> hv; any service amd64-only or pinned to amd64 -> the whole
// project on rosetta, where each service runs natively when it can (arm64-only and multi-arch
// images: rosetta is an arm64 VM) and translated otherwise (the reason names the service that
// forced it). A service that can run nowhere is its own error (with "service NAME: " before it);
// one that cannot run on the project's backend is a Conflict naming both. With env.mixed_projects
// each service is decided alone. Backend states are not checked: declaring a project while a VM
// boots is fine, each container's create checks.
Result<ProjectDecision> decide_project(std::string_view project,
                                       const std::vector<ServiceSpec>& services,
                                       const RouteEnv& env);

// A reference from a create body to another container it must share a backend with.
struct PodRef {
  std::string container;  // name or id as written ("db", without a leading '/')
  std::string relation;   // "network_mode container:db", "pid container:db", "volumes_from db",
                          // "links db"
};

// The pod references of a POST /containers/create body: HostConfig.NetworkMode, PidMode and
// IpcMode "container:X", VolumesFrom ["X[:ro|rw]"], Links ["X:alias" or "/X:/me/alias"].
// Duplicates (same container, same relation) are dropped; a non-object body gives none.
std::vector<PodRef> pod_refs_from_create_body(const nlohmann::json& body);

// Labels[com.docker.compose.project] / [...service] of a create body, nullopt when absent/empty.
std::optional<std::string> compose_project_of(const nlohmann::json& body);
std::optional<std::string> compose_service_of(const nlohmann::json& body);

// The peers' backends from the registry. NotFound (probe the engines, then retry) names the
// reference and its relation; Conflict when a prefix is ambiguous across backends.
Result<std::vector<PodPeer>> resolve_pod_peers(const std::vector<PodRef>& refs,
                                               const WorkloadRegistry& registry);

}  // namespace twinbox::router
