#include "router/route.hpp"

#include <cstdio>

#include "util/strings.hpp"

namespace twinbox::router {

namespace {

Decision local(LocalHandler h, std::string reason) {
  Decision d;
  d.kind = Decision::Kind::Local;
  d.local = h;
  d.reason = std::move(reason);
  return d;
}

Decision to_backend(std::string_view backend, std::string reason) {
  Decision d;
  d.kind = Decision::Kind::Backend;
  d.backend = std::string(backend);
  d.reason = std::move(reason);
  return d;
}

Decision failure(Error e) {
  Decision d;
  d.kind = Decision::Kind::Error;
  d.reason = e.message;
  d.error = std::move(e);
  return d;
}

// The profile's first backend (hv) takes what nothing else decides.
const std::string& home(const RouteInput& in) { return in.env.host().default_backend(); }

Decision default_route(const RouteInput& in) {
  return to_backend(home(in), "no routing rule for " + in.method + " " + in.path + ": " + home(in) +
                                  " is the default backend");
}

}  // namespace

int api_version_number(std::string_view v) {
  int major = 0, minor = 0;
  char extra = 0;
  std::string s(v);
  if (std::sscanf(s.c_str(), "%d.%d%c", &major, &minor, &extra) != 2) return -1;
  return major * 1000 + minor;
}

std::string common_api_version(const std::vector<std::string>& engine_versions) {
  std::string lowest;
  for (const auto& v : engine_versions) {
    int n = api_version_number(v);
    if (n < 0) continue;
    if (lowest.empty() || n < api_version_number(lowest)) lowest = v;
  }
  if (lowest.empty()) return std::string(kApiVersion);
  if (api_version_number(lowest) > api_version_number(kMaxApiVersion))
    return std::string(kMaxApiVersion);
  return lowest;
}

namespace {

std::optional<Decision> check_version(const RouteInput& in) {
  if (in.api_version.empty()) return std::nullopt;
  int v = api_version_number(in.api_version);
  if (v < 0)
    return failure(make_error(ErrorCode::InvalidArgument,
                              "malformed API version \"" + in.api_version + "\" in the path"));
  std::string max = in.api_max.empty() ? std::string(kApiVersion) : in.api_max;
  if (v > api_version_number(max))
    return failure(make_error(ErrorCode::InvalidArgument,
                              "client version " + in.api_version +
                                  " is too new. Maximum supported API version is " + max));
  if (v < api_version_number(kMinApiVersion))
    return failure(make_error(
        ErrorCode::InvalidArgument,
        "client version " + in.api_version + " is too old. Minimum supported API version is " +
            std::string(kMinApiVersion) + ", please upgrade your client to a newer version"));
  return std::nullopt;
}

std::optional<Decision> decide_local(const RouteInput& in) {
  const auto& m = in.method;
  const auto& p = in.path;
  if (p == "/_ping" && (m == "GET" || m == "HEAD"))
    return local(LocalHandler::Ping, "answered by twinboxd");
  if (p == "/version" && m == "GET")
    return local(LocalHandler::Version, "hv engine version with twinbox components");
  if (p == "/info" && m == "GET") return local(LocalHandler::Info, "aggregated from both engines");
  if (p == "/containers/json" && m == "GET")
    return local(LocalHandler::ListContainers, "merged from both engines");
  if (p == "/images/json" && m == "GET")
    return local(LocalHandler::ListImages, "merged from both engines");
  // docker login: an engine would check from inside its VM, where 127.0.0.1 is not the host's.
  if (p == "/auth" && m == "POST")
    return local(LocalHandler::Auth, "answered by twinboxd: checked against the registry");
  if (p == "/twinbox/v1/status" && m == "GET")
    return local(LocalHandler::Status, "answered by twinboxd");
  if (p == "/twinbox/v1/shutdown" && m == "POST")
    return local(LocalHandler::Shutdown, "answered by twinboxd");
  if (starts_with(p, "/twinbox/v1/")) return local(LocalHandler::Twinbox, "answered by twinboxd");
  if (p == "/twinbox" || starts_with(p, "/twinbox/"))
    return failure(
        make_error(ErrorCode::NotFound, "unknown twinbox endpoint " + m + " " + p +
                                            " (twinbox's endpoints are under /twinbox/v1)"));
  return std::nullopt;
}

Decision by_platform(const RouteInput& in, const std::optional<std::string>& query_platform,
                     const std::optional<std::string>& body_platform) {
  auto choice = choose_platform(query_platform, body_platform, in.env.host());
  if (!choice) return failure(choice.error());
  Decision d = to_backend(choice->backend, choice->reason);
  d.platform = std::move(choice).value();
  return d;
}

// A container or exec the registry does not know: ask the engines (after a daemon restart, or
// for containers created behind twinbox's back).
Decision probe(std::string path, bool exec, std::string reason) {
  Decision d;
  d.kind = Decision::Kind::Probe;
  d.probe_path = std::move(path);
  d.probe_exec = exec;
  d.reason = std::move(reason);
  return d;
}

// An image, network or volume by name: the default backend (hv) answers, the next one (rosetta)
// when it says 404.
Decision default_then_next(const RouteInput& in, const std::string& what) {
  const auto& backends = in.env.host().backends;
  if (backends.size() < 2) return to_backend(home(in), what + ": asked on " + home(in));
  Decision d =
      to_backend(home(in), what + ": asked on " + home(in) + " first, then on " + backends[1].name);
  d.fallback_backend = backends[1].name;
  return d;
}

Decision decide_container_ref(const RouteInput& in, const std::vector<std::string>& segs,
                              const WorkloadRegistry& registry) {
  const std::string& ref = segs[1];
  std::string action = segs.size() > 2 ? segs[2] : "";
  Decision d;
  auto match = registry.find_container(ref);
  if (match) {
    d = to_backend(match->backend,
                   "container " + ref + " is on " + match->backend + " (workload registry)");
    d.container_id = match->id;
  } else if (match.error().code == ErrorCode::NotFound) {
    d = probe("/containers/" + url_encode(ref) + "/json", false,
              "container " + ref + " not in the workload registry: asking the engines");
  } else {
    return failure(match.error());
  }
  if (in.method == "DELETE" && segs.size() == 2) d.follow_up = FollowUp::ForgetContainer;
  if (in.method == "POST" && action == "exec") d.follow_up = FollowUp::RecordExec;
  if (in.method == "POST" && action == "rename") {
    d.follow_up = FollowUp::RenameContainer;
    d.name = in.query_value("name").value_or("");
  }
  d.hijack_endpoint = in.method == "POST" && action == "attach";
  return d;
}

// The run decision for a create: the platform, the image's platforms, the project and the pod.
Decision decide_create(const RouteInput& in, const WorkloadRegistry& registry) {
  const CreateInput& c = *in.create;
  RunRequest req;
  req.name = in.query_value("name").value_or(c.service);
  req.query_platform = in.query_value("platform");
  req.body_platform = in.body_platform;
  req.image_platforms = c.image_platforms;
  req.group = project_group(registry, c.project);
  auto peers = resolve_pod_peers(c.pod_refs, registry);
  if (!peers) return failure(peers.error());
  req.group.pod_peers = std::move(peers).value();
  auto run = decide_run(req, in.env);
  if (!run) return failure(run.error());
  std::string reason = run->reason;
  if (c.image_platforms && !c.image_platforms_source.empty() && !explicit_platform(req).has_value())
    reason += " [image platforms from " + c.image_platforms_source + "]";
  Decision d = to_backend(run->backend, reason);
  auto arch = platform::parse_platform(run->platform);
  d.platform = PlatformChoice{run->backend, run->platform, arch ? arch->arch : "", reason};
  d.translator = run->translator;
  d.execution = run->execution;
  d.project = c.project;
  return d;
}

Decision decide_containers(const RouteInput& in, const std::vector<std::string>& segs,
                           const WorkloadRegistry& registry) {
  if (segs.size() == 2 && segs[1] == "create") {
    if (in.method != "POST") return default_route(in);
    Decision d = in.create ? decide_create(in, registry)
                           : by_platform(in, in.query_value("platform"), in.body_platform);
    if (d.kind == Decision::Kind::Error) return d;
    d.follow_up = FollowUp::RecordContainer;
    d.name = in.query_value("name").value_or("");
    return d;
  }
  if (segs.size() == 2 && segs[1] == "prune" && in.method == "POST")
    return local(LocalHandler::Prune, "containers prune on every running backend");
  if (segs.size() == 2 && (segs[1] == "json" || segs[1] == "prune")) return default_route(in);
  return decide_container_ref(in, segs, registry);
}

Decision decide_exec(const RouteInput& in, const std::vector<std::string>& segs,
                     const WorkloadRegistry& registry) {
  const std::string& id = segs[1];
  Decision d;
  auto rec = registry.find_exec(id);
  if (rec) {
    d = to_backend(rec->backend, "exec " + id + " is on " + rec->backend + " (workload registry)");
    d.container_id = rec->container_id;
  } else {
    d = probe("/exec/" + url_encode(id) + "/json", true,
              "exec " + id + " not in the workload registry: asking the engines");
  }
  d.hijack_endpoint = in.method == "POST" && segs.size() > 2 && segs[2] == "start";
  return d;
}

Decision replicate(std::string reason) {
  Decision d;
  d.kind = Decision::Kind::Replicate;
  d.reason = std::move(reason);
  return d;
}

// Networks and volumes exist in both VMs: a compose project's network is created before its
// first container says which backend the project lands on, and `docker run --network x` may
// go to either. Inspect asks hv, then rosetta; connect follows the container.
Decision decide_networks_volumes(const RouteInput& in, const std::vector<std::string>& segs,
                                 const WorkloadRegistry& registry) {
  const std::string& kind = segs[0];  // "networks" | "volumes"
  const std::string& m = in.method;
  if (segs.size() == 1 && m == "GET")
    return local(kind == "networks" ? LocalHandler::ListNetworks : LocalHandler::ListVolumes,
                 "merged from both engines");
  if (segs.size() == 2 && segs[1] == "prune" && m == "POST")
    return local(LocalHandler::Prune, kind + " prune on every running backend");
  if (segs.size() == 2 && segs[1] == "create" && m == "POST")
    return replicate(kind + " " + segs[1] + " on every running backend");
  if (segs.size() == 2 && m == "DELETE")
    return replicate("remove " + kind.substr(0, kind.size() - 1) + " " + segs[1] +
                     " from every backend");
  if (segs.size() == 3 && kind == "networks" && (segs[2] == "connect" || segs[2] == "disconnect")) {
    std::string c = in.body_container.value_or("");
    auto match = registry.find_container(c);
    if (!match) {
      if (match.error().code != ErrorCode::NotFound) return failure(match.error());
      Decision d = probe("/containers/" + url_encode(c) + "/json", false,
                         "network " + segs[2] + " of container " + c + ": asking the engines");
      return d;
    }
    return to_backend(match->backend, "network " + segs[2] + " of container " + c + " on " +
                                          match->backend + " (workload registry)");
  }
  return default_then_next(in, kind + " " + segs[1]);
}

// Endpoints about an engine as a whole that twinbox does not split: swarm (neither engine is
// in one; hv's answers dockerd's 503), plugins, and registry lookups (the same from either).
std::optional<Decision> decide_engine_wide(const RouteInput& in) {
  std::string_view p = in.path;
  std::string_view first = p.substr(
      1, p.find('/', 1) == std::string_view::npos ? std::string_view::npos : p.find('/', 1) - 1);
  for (std::string_view swarm : {"swarm", "nodes", "services", "tasks", "secrets", "configs"})
    if (first == swarm)
      return to_backend(home(in), std::string(first) + ": swarm mode is not part of twinbox; " +
                                      home(in) + "'s engine answers (it is in no swarm)");
  if (first == "plugins")
    return to_backend(home(in), "plugins: " + home(in) + "'s engine (twinbox installs none)");
  if (first == "distribution")
    return to_backend(home(in),
                      "registry lookup: the same answer from either engine; " + home(in) + " asks");
  return std::nullopt;
}

Decision decide_images(const RouteInput& in, std::string_view rest) {
  if (rest == "create" && in.method == "POST")
    return by_platform(in, in.query_value("platform"), {});
  if (rest == "prune" && in.method == "POST")
    return local(LocalHandler::Prune, "images prune on every running backend");
  if (rest == "load" && in.method == "POST")
    return to_backend(home(in),
                      "docker load: each image to the backend of its platform, through "
                      "the content store (" +
                          home(in) + " when twinboxd has no store)");
  // docker save of one image: where it is (hv first, then rosetta), like any image by name.
  if (rest == "get" && in.method == "GET") {
    int names = 0;
    for (const auto& [k, v] : in.query) names += k == "names" ? 1 : 0;
    if (names == 1) return default_then_next(in, "image " + in.query_value("names").value_or(""));
  }
  if (rest == "search")
    return to_backend(home(in), "image search asks the registry: the same from either engine; " +
                                    home(in) + " asks");
  if (rest == "get")
    return to_backend(home(in), "docker save of several images: " + home(in) +
                                    "'s engine (save them one at a time to take each from "
                                    "where it is)");
  for (std::string_view fixed : {"create", "load", "prune", "json"})
    if (rest == fixed) return default_route(in);
  // /images/{name}/{json,history,push,tag} or DELETE /images/{name}; names contain slashes.
  std::string name(rest);
  if (in.method != "DELETE") {
    size_t slash = rest.rfind('/');
    if (slash == std::string_view::npos) return default_route(in);
    name = std::string(rest.substr(0, slash));
  }
  auto platform = in.query_value("platform");
  if (platform && !trim(*platform).empty()) return by_platform(in, platform, {});
  return default_then_next(in, "image " + name);
}

}  // namespace

const char* local_handler_name(LocalHandler h) {
  switch (h) {
    case LocalHandler::Ping:
      return "ping";
    case LocalHandler::Version:
      return "version";
    case LocalHandler::Info:
      return "info";
    case LocalHandler::ListContainers:
      return "containers";
    case LocalHandler::ListImages:
      return "images";
    case LocalHandler::Status:
      return "status";
    case LocalHandler::Shutdown:
      return "shutdown";
    case LocalHandler::Twinbox:
      return "twinbox";
    case LocalHandler::ListNetworks:
      return "networks";
    case LocalHandler::ListVolumes:
      return "volumes";
    case LocalHandler::Auth:
      return "auth";
    case LocalHandler::Prune:
      return "prune";
    case LocalHandler::SystemDf:
      return "system-df";
    case LocalHandler::Events:
      return "events";
    case LocalHandler::BuildKit:
      return "buildkit";
  }
  return "local";
}

std::optional<std::string> RouteInput::query_value(std::string_view name) const {
  for (const auto& [k, v] : query)
    if (k == name) return v;
  return std::nullopt;
}

bool needs_body_platform(std::string_view method, std::string_view path) {
  return method == "POST" && path == "/containers/create";
}

bool needs_body_container(std::string_view method, std::string_view path) {
  if (method != "POST" || !starts_with(path, "/networks/")) return false;
  auto ends = [&](std::string_view suffix) {
    return path.size() > suffix.size() && path.substr(path.size() - suffix.size()) == suffix;
  };
  return ends("/connect") || ends("/disconnect");
}

GroupContext project_group(const WorkloadRegistry& registry, const std::string& project) {
  GroupContext g;
  g.project_name = project;
  if (auto p = registry.project_placement(project); p && !p->mixed)
    g.project = ProjectPlacement{
        project, p->backend,
        p->declared ? PlacementSource::Declared : PlacementSource::FirstContainer, p->decided_by};
  return g;
}

Decision decide(const RouteInput& in, const WorkloadRegistry& registry) {
  if (auto d = check_version(in)) return *d;
  if (auto d = decide_local(in)) return *d;
  std::vector<std::string> segs = split(in.path.size() > 1 ? in.path.substr(1) : "", '/');
  if (segs.size() >= 2 && segs[0] == "containers" && !segs[1].empty())
    return decide_containers(in, segs, registry);
  if (segs.size() >= 2 && segs[0] == "exec" && !segs[1].empty())
    return decide_exec(in, segs, registry);
  if (!segs.empty() && (segs[0] == "networks" || segs[0] == "volumes") &&
      (segs.size() == 1 || !segs[1].empty()))
    return decide_networks_volumes(in, segs, registry);
  if (starts_with(in.path, "/images/") && in.path.size() > 8)
    return decide_images(in, std::string_view(in.path).substr(8));
  if (in.path == "/commit" && in.method == "POST") {
    // The image is made in the engine of the container it is committed from.
    auto ref = in.query_value("container").value_or("");
    if (!ref.empty()) return decide_container_ref(in, {"containers", ref}, registry);
  }
  if (auto d = decide_engine_wide(in)) return *d;
  if (in.path == "/build/prune" && in.method == "POST")
    return local(LocalHandler::Prune, "build cache prune on every running backend");
  if (in.path == "/events" && in.method == "GET")
    return local(LocalHandler::Events, "events of every running engine, in time order");
  if (in.path == "/system/df" && in.method == "GET")
    return local(LocalHandler::SystemDf, "disk usage of both engines");
  if (in.path == "/build" && in.method == "POST") {
    Decision d = by_platform(in, in.query_value("platform"), {});
    if (d.kind == Decision::Kind::Backend) d.session_claim = in.query_value("session").value_or("");
    return d;
  }
  if (in.path == "/session" && in.method == "POST") {
    if (in.session_uuid.empty())
      return failure(make_error(ErrorCode::InvalidArgument,
                                "POST /session without an X-Docker-Expose-Session-Uuid header: "
                                "twinbox cannot tell which build it belongs to"));
    Decision d = to_backend(home(in), "BuildKit session " + in.session_uuid +
                                          " follows the build that names it (" + home(in) +
                                          " if none does)");
    d.session_wait = in.session_uuid;
    d.hijack_endpoint = true;
    return d;
  }
  if (in.path == "/grpc" && in.method == "POST")
    // twinboxd ends the HTTP/2 connection and sends each call to the engine of its build,
    // chosen by the platform the build's Solve names (api/grpc_proxy.hpp).
    return local(LocalHandler::BuildKit,
                 "BuildKit's control API: each build's calls go to the engine of its platform");
  return default_route(in);
}

}  // namespace twinbox::router
