#include "router/run_decision.hpp"

#include "router/platform_route.hpp"
#include "util/strings.hpp"

namespace twinbox::router {

using platform::Backend;
using platform::HostProfile;
using platform::Platform;

namespace {

// Where a platform the profile gives to backend `b` really runs under the translator config.
struct Placement {
  std::string backend;
  std::string translator;
  std::string why;  // "linux/amd64 runs on rosetta (translated ..., host profile ...)"
};

Result<Placement> place(const Platform& p, Backend b, const RouteEnv& env) {
  const HostProfile& prof = env.host();
  std::string runs = prof.backend_for(p).reason;
  if (b == Backend::Hv) return Placement{std::string(kHv), std::string(kTranslatorNone), runs};
  if (env.translator.rosetta_enabled)
    return Placement{std::string(kRosetta), std::string(kTranslatorRosetta), runs};
  if (!env.translator.hv_fallback.empty())
    return Placement{std::string(kHv), env.translator.hv_fallback,
                     p.to_string() + " runs in hv through the fallback translator " +
                         env.translator.hv_fallback +
                         " because rosetta is disabled (host profile " + prof.name + ")"};
  return make_error(ErrorCode::Unavailable,
                    p.to_string() +
                        " needs the rosetta translator: translator disabled and no "
                        "fallback translator configured (host profile " +
                        prof.name +
                        "); enable rosetta or configure a fallback translator for hv in the "
                        "twinbox configuration");
}

bool offers(const std::vector<Platform>& normalized, const Platform& p) {
  for (const auto& e : normalized)
    if (e == p) return true;
  return false;
}

std::vector<Platform> normalized(const std::vector<Platform>& ps) {
  std::vector<Platform> out;
  out.reserve(ps.size());
  for (const auto& p : ps) out.push_back(platform::normalize(p));
  return out;
}

// Marks a decision that exists but not on the backend a group requires; callers reword it.
constexpr std::string_view kWrongBackend = "wrong-backend:";

Error wrong_backend(const std::string& needs) {
  return make_error(ErrorCode::Conflict, std::string(kWrongBackend) + needs);
}

bool is_wrong_backend(const Error& e) {
  return e.code == ErrorCode::Conflict && starts_with(e.message, kWrongBackend);
}

// What the container needs, in words, once it could not join a backend: "its image offers only
// linux/amd64" / "--platform linux/amd64 requested".
std::string needs_text(const RunRequest& req) {
  if (auto ep = explicit_platform(req)) return *ep;
  return "its image offers only " + platforms_text(req.image_platforms);
}

// The decision on `target` ("" = anywhere). Errors other than wrong_backend are the
// container's own (it cannot run anywhere).
Result<RunDecision> decide_core(const RunRequest& req, const RouteEnv& env,
                                const std::string& target) {
  const HostProfile& prof = env.host();
  auto requested = requested_platform(req.query_platform, req.body_platform);
  RunDecision d;

  if (requested) {
    const std::string* origin = &requested->origin;
    auto parsed = platform::parse_platform(requested->platform);
    if (!parsed)
      return make_error(ErrorCode::InvalidArgument, *origin + ": " + parsed.error().message +
                                                        " (host profile " + prof.name + " runs " +
                                                        prof.accepted_text() + ")");
    Platform want = *parsed;
    auto strict = prof.backend_for(want);
    Platform chosen = want;
    Backend backend = Backend::Hv;
    std::string offered;
    if (req.image_platforms) {
      bool runnable = false;
      for (const auto& c : platform::compatible_platforms(want))
        if (prof.backend_for(c).backend) runnable = true;
      if (!runnable) return make_error(ErrorCode::InvalidArgument, *origin + ": " + strict.reason);
      auto pick = prof.select_from_index(*req.image_platforms, want);
      if (!pick) return pick.error().context(*origin);
      chosen = pick->platform;
      backend = pick->backend;
      offered = ", the image offers " + platforms_text(req.image_platforms);
    } else {
      if (!strict.backend)
        return make_error(ErrorCode::InvalidArgument, *origin + ": " + strict.reason);
      backend = *strict.backend;
      offered = " (the image's platforms are unknown)";
    }
    auto placed = place(chosen, backend, env);
    if (!placed) return placed.error().context(*origin);
    const Placement& pl = *placed;
    if (!target.empty() && pl.backend != target) return wrong_backend(*origin);
    d.backend = pl.backend;
    d.translator = pl.translator;
    d.platform = chosen.to_string();
    d.reason = *origin + offered + ": " + pl.why;
    return d;
  }

  if (!req.image_platforms) {
    d.backend = target.empty() ? std::string(kHv) : target;
    bool hv = d.backend == kHv;
    d.translator = std::string(hv ? kTranslatorNone : kTranslatorRosetta);
    d.platform = hv ? "linux/arm64" : "linux/amd64";
    d.reason = "no platform requested and the image's platforms are unknown: " + d.backend +
               (hv ? ", the default backend" : "") + " (host profile " + prof.name + ")";
    return d;
  }

  std::vector<Platform> entries = normalized(*req.image_platforms);
  std::string offered =
      "no platform requested, the image offers " + platforms_text(req.image_platforms) + ": ";
  if (target.empty()) {
    auto pick = prof.select_from_index(entries, std::nullopt);
    if (!pick) return pick.error();
    TRY_ASSIGN(Placement pl, place(pick->platform, pick->backend, env));
    d.backend = pl.backend;
    d.translator = pl.translator;
    d.platform = pick->platform.to_string();
    d.reason = offered + pl.why;
    return d;
  }
  // On a required backend: the profile's platforms in preference order, first one offered that
  // lands there (a multi-arch image on rosetta runs its amd64 variant).
  std::optional<Error> first_error;
  for (const auto& b : prof.backends) {
    for (const auto& p : b.platforms) {
      if (!offers(entries, p)) continue;
      auto pl = place(p, b.backend, env);
      if (!pl) {
        if (!first_error) first_error = pl.error();
        continue;
      }
      if (pl->backend != target) continue;
      d.backend = pl->backend;
      d.translator = pl->translator;
      d.platform = p.to_string();
      d.reason = offered + pl->why;
      return d;
    }
  }
  // Nothing lands on target: say why the container cannot run at all if that is the case.
  auto anywhere = decide_core(req, env, "");
  if (!anywhere) return anywhere.error();
  return wrong_backend(needs_text(req));
}

std::string placement_text(const ProjectPlacement& p) {
  if (p.source == PlacementSource::Declared) return "declared";
  return "decided by its first " + (p.decided_by.empty() ? std::string("container") : p.decided_by);
}

std::string container_text(const RunRequest& req) {
  return req.name.empty() ? "this container" : "container " + req.name;
}

}  // namespace

Result<RunDecision> decide_on_backend(const RunRequest& req, const RouteEnv& env,
                                      std::string_view backend) {
  auto d = decide_core(req, env, std::string(backend));
  if (!d && is_wrong_backend(d.error()))
    return make_error(ErrorCode::Conflict, d.error().message.substr(kWrongBackend.size()) +
                                               ", which does not run on " + std::string(backend) +
                                               " (host profile " + env.host().name + ")");
  return d;
}

const std::string& BackendStates::of(std::string_view backend) const {
  static const std::string kNone;
  if (backend == kHv) return hv;
  if (backend == kRosetta) return rosetta;
  return kNone;
}

const platform::HostProfile& RouteEnv::host() const {
  return profile ? *profile : platform::default_profile();
}

std::optional<std::string> explicit_platform(const RunRequest& req) {
  auto r = requested_platform(req.query_platform, req.body_platform);
  if (!r) return std::nullopt;
  return r->origin;
}

std::string platforms_text(const std::optional<std::vector<platform::Platform>>& ps) {
  if (!ps) return "unknown";
  std::vector<std::string> names;
  for (const auto& p : *ps) {
    // BuildKit's attestation manifests sit in indexes as unknown/unknown: not a platform.
    if (p.os == "unknown") continue;
    names.push_back(platform::normalize(p).to_string());
  }
  return names.empty() ? "nothing" : join(names, ", ");
}

Result<std::optional<std::vector<platform::Platform>>> parse_platform_list(std::string_view s) {
  std::string text(trim(s));
  if (to_lower(text) == "unknown") return std::optional<std::vector<platform::Platform>>();
  for (char& c : text)
    if (c == ',') c = ' ';
  std::vector<platform::Platform> out;
  for (const auto& word : split(text, ' ')) {
    if (trim(word).empty()) continue;
    TRY_ASSIGN(auto p, platform::parse_platform(word));
    out.push_back(p);
  }
  return std::optional<std::vector<platform::Platform>>(std::move(out));
}

Result<RunDecision> decide_run(const RunRequest& req, const RouteEnv& env) {
  const HostProfile& prof = env.host();
  // The backend the group requires, and why, in words for the reason and for conflicts.
  std::string target, joins;
  const PodPeer* pod_peer = nullptr;
  for (const auto& peer : req.group.pod_peers) {
    if (!target.empty() && peer.backend != target)
      return make_error(ErrorCode::Conflict,
                        container_text(req) + " shares a pod with " + pod_peer->name + " (" +
                            pod_peer->relation + ") on " + pod_peer->backend + " and with " +
                            peer.name + " (" + peer.relation + ") on " + peer.backend +
                            ": a pod never spans backends (host profile " + prof.name +
                            "); recreate one of them on the other's backend");
    if (target.empty()) {
      target = peer.backend;
      pod_peer = &peer;
    }
  }
  const auto& project = req.group.project;
  const std::string& pname =
      project && !project->name.empty() ? project->name : req.group.project_name;
  bool follow_project = project && !env.mixed_projects;
  if (follow_project && !target.empty() && project->backend != target)
    return make_error(ErrorCode::Conflict,
                      container_text(req) + " joins pod peer " + pod_peer->name + " (" +
                          pod_peer->relation + ") on " + pod_peer->backend + " but project " +
                          pname + " is on " + project->backend + " (" + placement_text(*project) +
                          "); a pod never spans backends (host profile " + prof.name + ")");
  if (pod_peer) {
    joins = "; joins pod peer " + pod_peer->name + " (" + pod_peer->relation + ") on " + target;
  } else if (follow_project) {
    target = project->backend;
    joins = "; joins project " + pname + " on " + target + " (" + placement_text(*project) + ")";
  } else if (project) {
    joins = "; project " + pname + " is on " + project->backend +
            ", but mixed-backend projects (experimental) decide each container";
  } else if (!pname.empty()) {
    joins = "; first container of project " + pname + ": places the project";
  }

  auto d = decide_core(req, env, target);
  if (!d) {
    if (!is_wrong_backend(d.error())) return d.error();
    std::string needs = d.error().message.substr(kWrongBackend.size());
    if (pod_peer)
      return make_error(ErrorCode::Conflict,
                        container_text(req) + " cannot join pod peer " + pod_peer->name + " (" +
                            pod_peer->relation + ") on " + target + ": " + needs +
                            ", which does not run there (host profile " + prof.name +
                            "); a pod never spans backends: run both on one platform");
    std::string service = req.name.empty() ? "this service" : "service " + req.name;
    return make_error(
        ErrorCode::Conflict,
        service + " cannot join compose project " + pname + " on " + project->backend + " (" +
            placement_text(*project) + "): " + needs + ", which does not run on " +
            project->backend + " (host profile " + prof.name +
            (project->source == PlacementSource::Declared
                 ? "); re-declare the project from the compose file that has this service: "
                 : "); declare the project first: ") +
            "`twinbox compose -f FILE up`, or remove it with `docker-compose down`");
  }
  d->reason += joins;

  const std::string& state = env.backends.of(d->backend);
  if (state.empty())
    return make_error(
        ErrorCode::Unavailable,
        "backend " + d->backend + " is not configured in this twinboxd; " + d->reason);
  if (state != "running")
    return make_error(ErrorCode::Unavailable,
                      "backend " + d->backend + " is not running (state: " + state + "); " +
                          d->reason + "; retry when `twinbox status` shows it running");
  return d;
}

}  // namespace twinbox::router
