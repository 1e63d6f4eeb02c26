#include "router/groups.hpp"

#include <utility>

#include "router/platform_route.hpp"
#include "util/strings.hpp"

namespace twinbox::router {

using json = nlohmann::json;

namespace {

RunRequest service_request(const ServiceSpec& s) {
  RunRequest r;
  r.name = s.name;
  r.query_platform = s.platform;
  r.image_platforms = s.image_platforms;
  return r;
}

// Why `s` needs the backend it forced, for the project's reason.
std::string forcing_text(const ServiceSpec& s) {
  if (s.platform && !trim(*s.platform).empty())
    return "service " + s.name + " pins platform " + std::string(trim(*s.platform));
  return "service " + s.name + "'s image offers only " + platforms_text(s.image_platforms);
}

std::optional<std::string> label_of(const json& body, std::string_view key) {
  if (!body.is_object()) return std::nullopt;
  auto labels = body.find("Labels");
  if (labels == body.end() || !labels->is_object()) return std::nullopt;
  auto v = labels->find(std::string(key));
  if (v == labels->end() || !v->is_string() || v->get<std::string>().empty()) return std::nullopt;
  return v->get<std::string>();
}

}  // namespace

Result<ProjectDecision> decide_project(std::string_view project,
                                       const std::vector<ServiceSpec>& services,
                                       const RouteEnv& env) {
  const std::string prof = env.host().name;
  if (services.empty())
    return make_error(ErrorCode::InvalidArgument,
                      "compose project " + std::string(project) + " has no services to place");
  RouteEnv up = env;
  up.backends = BackendStates{};  // placement only: each create checks the states
  ProjectDecision out;
  out.project = std::string(project);

  // Alone, every service goes to the default backend unless it cannot run there: the first that
  // cannot decides where the whole project goes.
  const std::string& home = env.host().default_backend();
  std::vector<RunDecision> alone;
  const ServiceSpec* forcing = nullptr;
  std::string forced_to;
  for (const auto& s : services) {
    auto d = decide_run(service_request(s), up);
    if (!d) return d.error().context("compose project " + out.project + ", service " + s.name);
    if (d->backend != home && !forcing) {
      forcing = &s;
      forced_to = d->backend;
    }
    alone.push_back(*d);
  }

  if (env.mixed_projects) {
    out.backend = alone.front().backend;
    for (size_t i = 0; i < services.size(); ++i) {
      if (alone[i].backend != out.backend) out.backend = "mixed";
      out.services.push_back({services[i].name, alone[i]});
    }
    out.reason = "mixed-backend projects (experimental): each service of " + out.project +
                 " decided alone, project on " + out.backend + " (host profile " + prof + ")";
    return out;
  }

  if (!forcing) {
    out.backend = home;
    out.reason = "every service of project " + out.project + " runs on " + home +
                 " (host profile " + prof + ")";
    for (size_t i = 0; i < services.size(); ++i)
      out.services.push_back({services[i].name, alone[i]});
    return out;
  }

  out.backend = forced_to;
  out.forced_by = forcing->name;
  for (const auto& s : services) {
    auto d = decide_on_backend(service_request(s), up, forced_to);
    if (!d) {
      if (d.error().code != ErrorCode::Conflict)
        return d.error().context("compose project " + out.project + ", service " + s.name);
      return make_error(ErrorCode::Conflict,
                        "compose project " + out.project + " needs " + forced_to + " because " +
                            forcing_text(*forcing) + ", but service " + s.name +
                            " cannot run there: " + d.error().message +
                            "; one project runs on one backend (mixed-backend projects are the "
                            "experimental mixed_projects switch)");
    }
    out.services.push_back({s.name, *d});
  }
  out.reason = "project " + out.project + " on " + forced_to + ": " + forcing_text(*forcing) +
               ", so every service runs there (host profile " + prof + ")";
  return out;
}

std::vector<PodRef> pod_refs_from_create_body(const json& body) {
  std::vector<PodRef> out;
  auto add = [&](std::string container, std::string relation) {
    container = std::string(strip_name_slash(trim(container)));
    if (container.empty()) return;
    for (const auto& r : out)
      if (r.container == container && r.relation == relation) return;
    out.push_back({std::move(container), std::move(relation)});
  };
  if (!body.is_object()) return out;
  auto hc = body.find("HostConfig");
  if (hc == body.end() || !hc->is_object()) return out;
  for (const char* key : {"NetworkMode", "PidMode", "IpcMode"}) {
    auto v = hc->find(key);
    if (v == hc->end() || !v->is_string()) continue;
    std::string mode = v->get<std::string>();
    if (!starts_with(mode, "container:")) continue;
    std::string target = mode.substr(10);
    std::string field = key == std::string_view("NetworkMode") ? "network_mode"
                        : key == std::string_view("PidMode")   ? "pid"
                                                               : "ipc";
    add(target, field + " container:" + std::string(strip_name_slash(target)));
  }
  auto list = [&](const char* key, const char* relation) {
    auto v = hc->find(key);
    if (v == hc->end() || !v->is_array()) return;
    for (const auto& e : *v) {
      if (!e.is_string()) continue;
      std::string s = e.get<std::string>();
      // "/db:/web/db" or "db:alias" or "db:ro": the container is what precedes the first ':'.
      std::string name(strip_name_slash(s.substr(0, s.find(':'))));
      add(name, std::string(relation) + " " + name);
    }
  };
  list("VolumesFrom", "volumes_from");
  list("Links", "links");
  return out;
}

std::optional<std::string> compose_project_of(const json& body) {
  return label_of(body, kComposeProjectLabel);
}

std::optional<std::string> compose_service_of(const json& body) {
  return label_of(body, kComposeServiceLabel);
}

Result<std::vector<PodPeer>> resolve_pod_peers(const std::vector<PodRef>& refs,
                                               const WorkloadRegistry& registry) {
  std::vector<PodPeer> out;
  for (const auto& r : refs) {
    auto m = registry.find_container(r.container);
    if (!m) return m.error().context("pod peer " + r.container + " (" + r.relation + ")");
    out.push_back({r.container, m->backend, r.relation});
  }
  return out;
}

}  // namespace twinbox::router
